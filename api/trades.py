"""The caller's running trades and their orders, as the trades page first shows them; the websocket
(`api.live`) brings each change after that.

    GET /api/trades/open          the caller's trades that are Waiting or Running (newest version the sink
                                  stored), each with its contract multiplier (from its fills; 1 before any) and
                                  the last price of its symbol (the close of its newest bar, null when none)
    GET /api/orders?limit=N       the newest state of the caller's N most recent orders (default 100, at most
                                  MAX_ORDERS), newest first: each order's newest status event (its fields as
                                  stored; `status` is the broker's as of that event, `broker_status` a live
                                  broker's own name) and what its fills add up to (`fills`, `fill_quantity`,
                                  `fill_value`, `average_price`, `charges`, `last_fill_ns`), with
                                  `order_status`, the status of the order now (`processors.orders.status`: a
                                  market order ACCEPTED Placed and then filled in full is Success)
    POST /api/trades/{trade_id}/close | /stop | /target | /quantity
                                  a manual action on a running trade, published for the desk to decide
                                  (`api.trade_actions`: the bodies, the checks and the answers)

Prices and amounts are decimal strings (exact), times integer nanoseconds UTC (the page shows them in New
York time). Only the trades and orders of the caller's accounts are answered (`api.users`).
"""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import Dependency, Parameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_503_SERVICE_UNAVAILABLE
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from api.accounts import AccountChangePublisher
from api.auth import SECURITY, Caller, may_change
from api.database import POOL
from api.trade_actions import ACTIONS, action_event, body_errors, refusal, stored_trade
from api.users import OWNED, record
from processors.orders.status import OrderFills, order_status

log = logging.getLogger(__name__)

MAX_ORDERS = 500
TRADE_ID = Parameter(max_length=200, description="the trade's id (the client order id of its entry order)")
PUBLISHER = Dependency(skip_validation=True)
LIMIT = Parameter(default=100, ge=1, le=MAX_ORDERS, description="how many of the most recent orders")
OPEN_TRADES = f"""
    select t.trade_id, t.version, t.account_id, t.strategy, t.symbol, t.direction, t.status, t.entry_qty,
           t.exit_qty, t.entry_price, t.exit_price, t.initial_stop, t.stop_price, t.target_price, t.pnl, t.charges,
           t.net_pnl, t.opened_ns, t.ts_event_ns,
           coalesce((select max(f.multiplier) from fills f where f.trade_id = t.trade_id), 1) as multiplier,
           (select b.close from bars b where b.symbol = t.symbol order by b."end" desc limit 1) as last_price
    from trades t
    where t.status in ('Waiting', 'Running') and t.account_id in ({OWNED})
    order by t.opened_ns desc nulls first, t.trade_id
"""
ORDERS = f"""
    select newest.*, f.fills, f.fill_quantity, f.fill_value, f.charges, f.last_fill_ns
    from (
        select * from (
            select distinct on (e.client_order_id) e.client_order_id, e.sequence, e.account_id, e.strategy,
                   e.trade_id, e.event, e.status, e.broker_status, e.ts_event_ns, e.symbol, e.side, e.order_type,
                   e.quantity, e.filled_quantity, e.limit_price, e.stop_price, e.trigger_price, e.operation, e.reason
            from order_events e
            where e.account_id in ({OWNED})
            order by e.client_order_id, e.sequence desc
        ) newest
        order by ts_event_ns desc, client_order_id
        limit %s
    ) newest
    left join lateral (
        -- The fills of the order in its own account (fills_order index); none: zeros and nulls.
        select count(*) as fills, coalesce(sum(x.quantity), 0)::bigint as fill_quantity,
               coalesce(sum(x.quantity * x.price), 0) as fill_value,
               coalesce(sum(x.commission + x.regulatory_fees), 0) as charges, max(x.ts_event_ns) as last_fill_ns
        from fills x
        where x.client_order_id = newest.client_order_id and x.account_id = newest.account_id
    ) f on true
    order by newest.ts_event_ns desc, newest.client_order_id
"""


def _json(row: dict[str, object]) -> dict[str, object]:
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}


def _order(row: dict[str, Any]) -> dict[str, object]:
    """An order's row: its fills' figures as exact decimal strings (never an exponent: "0E-8" is "0.00000000")."""
    fills = OrderFills.of(row["fill_quantity"], row["fill_value"], row["charges"])
    answer = _json(row)
    answer.update(fill_value=format(fills.value, "f"), charges=format(fills.charges, "f"),
                  average_price=None if fills.average_price is None else format(fills.average_price, "f"),
                  order_status=order_status(row["status"], row["quantity"], fills.quantity))
    return answer


class TradesController(Controller):
    path = "/api"
    security = SECURITY

    @get("/trades/open")
    async def open_trades(self, conn: AsyncConnection, caller: Caller) -> list[dict[str, object]]:
        """The caller's Waiting and Running trades, each with its multiplier and its symbol's last price."""
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(OPEN_TRADES, ("account", caller.user.user_id))
            return [_json(row) for row in await cursor.fetchall()]

    @get("/orders")
    async def orders(self, conn: AsyncConnection, caller: Caller,
                     limit: int = LIMIT) -> list[dict[str, object]]:
        """The newest state of the caller's most recent orders, newest first: each order's last status event, what
        its fills add up to (units, value, exact average price, charges) and its status now (`order_status`)."""
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(ORDERS, ("account", caller.user.user_id, limit))
            return [_order(row) for row in await cursor.fetchall()]

    @post("/trades/{trade_id:str}/close", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def close_trade(self, data: Any, caller: Caller, trade_id: str = TRADE_ID,
                          publisher: AccountChangePublisher = PUBLISHER,
                          pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Close every open unit of one of the caller's running trades by hand (`api.trade_actions`): 202 once the
        request is on the trades.actions topic; the desk's decision and the exit follow on the websocket."""
        return await _act("close", data, caller, trade_id, publisher, pool)

    @post("/trades/{trade_id:str}/stop", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def move_stop(self, data: Any, caller: Caller, trade_id: str = TRADE_ID,
                        publisher: AccountChangePublisher = PUBLISHER,
                        pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Move the stop of one of the caller's running trades to `price` (422 on the wrong side of the latest
        price or of the target)."""
        return await _act("stop", data, caller, trade_id, publisher, pool)

    @post("/trades/{trade_id:str}/target", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def move_target(self, data: Any, caller: Caller, trade_id: str = TRADE_ID,
                          publisher: AccountChangePublisher = PUBLISHER,
                          pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Move the profit target of one of the caller's running trades to `price` (422 on the wrong side of the
        latest price or of the stop)."""
        return await _act("target", data, caller, trade_id, publisher, pool)

    @post("/trades/{trade_id:str}/quantity", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def change_quantity(self, data: Any, caller: Caller, trade_id: str = TRADE_ID,
                              publisher: AccountChangePublisher = PUBLISHER,
                              pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Bring the open quantity of one of the caller's running trades to `quantity`: fewer is a partial exit,
        more an add-on entry the desk sizes (422 for as many units)."""
        return await _act("quantity", data, caller, trade_id, publisher, pool)


async def _act(kind: str, data: Any, caller: Caller, trade_id: str, publisher: AccountChangePublisher,
               pool: AsyncConnectionPool) -> Response[dict[str, object]]:
    errors, figure, reason = body_errors(kind, data)
    if errors:
        return Response({"status_code": 400, "detail": f"invalid trade {kind} request", "errors": errors},
                        status_code=400)
    async with pool.connection() as conn:
        trade = await stored_trade(conn, caller.user.user_id, trade_id)
    refused = refusal(kind, trade_id, trade, figure)
    if refused is not None:
        body: dict[str, object] = {"status_code": refused.status_code, "detail": refused.detail}
        if refused.errors:
            body["errors"] = list(refused.errors)
        return Response(body, status_code=refused.status_code)
    assert trade is not None
    event = action_event(kind, trade_id, trade, figure, reason, caller.user.name)
    if not await asyncio.to_thread(publisher.publish, event):
        log.error("trade=%s %s not delivered to Kafka user=%s", trade_id, event.action, caller.user.name)
        return Response({"status_code": 503, "detail": f"the trade {kind} request was not delivered to Kafka; try "
                                                       "again when it is back"},
                        status_code=HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    answer: dict[str, object] = {
        "action_id": event.action_id, "trade_id": trade_id, "account_id": event.account_id, "action": event.action,
        "price": None if event.price is None else str(event.price), "quantity": event.quantity,
        "reason": event.reason, "operator": event.operator, "ts_event_ns": event.ts_event}
    async with pool.connection() as conn:
        await record(conn, caller.user.name, ACTIONS[kind][1], trade_id, action_id=event.action_id,
                     account_id=event.account_id, price=answer["price"], quantity=event.quantity,
                     reason=event.reason, ts_event_ns=event.ts_event)
    log.info("trade=%s %s published user=%s action_id=%s", trade_id, event.action, caller.user.name,
             event.action_id)
    return Response(answer, status_code=HTTP_202_ACCEPTED)

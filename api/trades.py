"""The caller's running trades and their orders, as the trades page first shows them; the websocket
(`api.live`) brings each change after that.

    GET /api/trades/open          the caller's trades that are Waiting or Running (newest version the sink
                                  stored), each with its contract multiplier (from its fills; 1 before any) and
                                  the last price of its symbol (the close of its newest bar, null when none)
    GET /api/orders?limit=N       the newest state of the caller's N most recent orders (default 100, at most
                                  MAX_ORDERS), newest first

Prices and amounts are decimal strings (exact), times integer nanoseconds UTC (the page shows them in New
York time). Only the trades and orders of the caller's accounts are answered (`api.users`).
"""

from __future__ import annotations

from decimal import Decimal

from litestar import Controller, get
from litestar.params import Parameter
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.auth import SECURITY, Caller
from api.users import OWNED

MAX_ORDERS = 500
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
    select * from (
        select distinct on (e.client_order_id) e.client_order_id, e.sequence, e.account_id, e.strategy, e.trade_id,
               e.event, e.status, e.broker_status, e.ts_event_ns, e.symbol, e.side, e.order_type, e.quantity,
               e.filled_quantity, e.limit_price, e.stop_price, e.trigger_price, e.operation, e.reason
        from order_events e
        where e.account_id in ({OWNED})
        order by e.client_order_id, e.sequence desc
    ) newest
    order by ts_event_ns desc, client_order_id
    limit %s
"""


def _json(row: dict[str, object]) -> dict[str, object]:
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}


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
        """The newest state of the caller's most recent orders (their last event), newest first."""
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(ORDERS, ("account", caller.user.user_id, limit))
            return [_json(row) for row in await cursor.fetchall()]

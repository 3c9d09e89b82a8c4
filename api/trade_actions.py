"""Manual actions on one of the caller's running trades, asked from the trades page (routes in `api.trades`):

    POST /api/trades/{trade_id}/close       {"reason"?}                close every open unit (an exit, "manual")
    POST /api/trades/{trade_id}/stop        {"price", "reason"?}       move the stop
    POST /api/trades/{trade_id}/target      {"price", "reason"?}       move the profit target
    POST /api/trades/{trade_id}/quantity    {"quantity", "reason"?}    fewer open units (a partial manual exit) or
                                                                       more (an add-on entry, sized by the desk)

Each is a `TradeActionRequested` on the trades.actions topic, keyed by the trade's account, with the caller as
operator and the API's clock as its instant: the strategy runner trading the account gives it to the desk, which
decides it as it decides a strategy's intent (processors/trading/desk_manual.py) and publishes the decision (its
intent_id is the action's id), the exit order and the trade's change, which the page sees on the websocket. The
API answers 202 once Kafka has the event and records it in `user_changes`.

What the API can tell before publishing, from the trade as the sink stored it: 400 for a body that is not an object,
an unknown field, a price that is not a positive decimal with at most 8 places, a quantity that is not a whole
number of at least 1, a reason over MAX_REASON characters; 404 for a trade that is not the caller's (another
user's trade is answered as a missing one); 409 for a trade that is Closed or still Waiting for its entry; 422 for
a stop or target on the wrong side of the latest price (the newest stored print, else the newest bar's close) or of
the other one, and for the quantity the trade has already. More units are an add-on entry, which only the desk can
size (its limits, buying power and open risk), so the API publishes it and the desk decides (it may resize or
refuse it). The desk checks again with its own prices and limits, and may refuse what the API let through.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from psycopg import AsyncConnection

from api.users import OWNED
from processors.model import TradeActionRequested, trade_action_id

log = logging.getLogger(__name__)

MAX_REASON = 500
MAX_PRICE = Decimal(10) ** 16
TRADE = f"""
    select t.account_id, t.status, t.direction, t.symbol, t.entry_qty - t.exit_qty, t.stop_price, t.target_price,
           coalesce((select k.price from trade_ticks k where k.symbol = t.symbol order by k.ts desc limit 1),
                    (select b.close from bars b where b.symbol = t.symbol order by b."end" desc limit 1))
    from trades t
    where t.trade_id = %s and t.account_id in ({OWNED})
"""
ACTIONS = {"close": ("CLOSE", "trade_closed", None), "stop": ("MOVE_STOP", "trade_stop_moved", "price"),
           "target": ("MOVE_TARGET", "trade_target_moved", "price"),
           "quantity": ("CHANGE_QUANTITY", "trade_quantity_changed", "quantity")}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the request is refused: the status code and the field errors."""

    status_code: int
    detail: str
    errors: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class StoredTrade:
    account_id: str
    status: str
    long: bool
    symbol: str
    open_quantity: int
    stop: Decimal
    target: Decimal | None
    last_price: Decimal | None


def body_errors(kind: str, data: Any) -> tuple[list[dict[str, str]], Decimal | int | None, str]:
    """The field errors of a request body, its figure (price or quantity) and its reason."""
    if not isinstance(data, dict):
        return [{"field": "body", "message": "must be a JSON object"}], None, ""
    figure_name = ACTIONS[kind][2]
    allowed = ("reason",) if figure_name is None else (figure_name, "reason")
    errors = [{"field": key, "message": f"unknown field; the body has {' and '.join(allowed)}"}
              for key in data if key not in allowed]
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        errors.append({"field": "reason", "message": "must be a string"})
        reason = ""
    elif len(reason) > MAX_REASON or "\x00" in reason:
        errors.append({"field": "reason", "message": f"must be at most {MAX_REASON} characters, without NUL"})
    figure: Decimal | int | None = None
    if figure_name == "price":
        figure = _price(data.get("price"), errors)
    elif figure_name == "quantity":
        value = data.get("quantity")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors.append({"field": "quantity", "message": "required: the open quantity the trade should have, a "
                                                           "whole number of at least 1 (close closes it all)"})
        else:
            figure = value
    return errors, figure, reason.strip()


def _price(value: Any, errors: list[dict[str, str]]) -> Decimal | None:
    message = "required: a price above zero with at most 8 decimal places, as a string or a number"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append({"field": "price", "message": message})
        return None
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation:
        errors.append({"field": "price", "message": message})
        return None
    if not price.is_finite() or price <= 0 or price >= MAX_PRICE or price.as_tuple().exponent < -8:
        errors.append({"field": "price", "message": message})
        return None
    return price


async def stored_trade(conn: AsyncConnection, user_id: int, trade_id: str) -> StoredTrade | None:
    row = await (await conn.execute(TRADE, (trade_id, "account", user_id))).fetchone()
    if row is None:
        return None
    account, status, direction, symbol, open_quantity, stop, target, last = row
    return StoredTrade(account, status, direction == "long", symbol, int(open_quantity), stop, target, last)


def refusal(kind: str, trade_id: str, trade: StoredTrade | None, figure: Decimal | int | None) -> Refusal | None:
    """Why the stored trade cannot take the action (404, 409, 422), or None."""
    if trade is None:
        return Refusal(404, f"you have no trade {trade_id!r}")
    if trade.status != "Running":
        why = "closed" if trade.status == "Closed" else "waiting for its entry to fill"
        return Refusal(409, f"trade {trade_id!r} is {why}: only a running trade changes by hand")
    if kind == "quantity":
        assert isinstance(figure, int)
        if figure == trade.open_quantity:
            return _unprocessable("quantity", f"the trade has {figure} open units already")
        return None
    if kind not in ("stop", "target"):
        return None
    assert isinstance(figure, Decimal)
    below = trade.long == (kind == "stop")          # a long's stop and a short's target are below the price
    direction = "long" if trade.long else "short"
    if trade.last_price is not None and ((figure >= trade.last_price) if below else (figure <= trade.last_price)):
        return _unprocessable("price", f"a {direction}'s {kind} must be {'below' if below else 'above'} the latest "
                                       f"price {trade.last_price.normalize():f} of {trade.symbol}, got {figure}")
    stop, target = (figure, trade.target) if kind == "stop" else (trade.stop, figure)
    if target is not None and ((target <= stop) if trade.long else (target >= stop)):
        return _unprocessable("price", f"a {direction}'s target must be {'above' if trade.long else 'below'} its "
                                       f"stop: stop {stop.normalize():f}, target {target.normalize():f}")
    return None


def _unprocessable(field: str, message: str) -> Refusal:
    return Refusal(422, f"the trade cannot take this {field}", ({"field": field, "message": message},))


def action_event(kind: str, trade_id: str, trade: StoredTrade, figure: Decimal | int | None, reason: str,
                 operator: str) -> TradeActionRequested:
    now = time.time_ns()
    action = ACTIONS[kind][0]
    return TradeActionRequested(
        action_id=trade_action_id(trade_id, action, now), account_id=trade.account_id, trade_id=trade_id,
        action=action, ts_event=now, ts_init=now, operator=operator, reason=reason,
        price=figure if isinstance(figure, Decimal) else None, quantity=figure if isinstance(figure, int) else None)

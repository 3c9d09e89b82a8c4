"""Builders shared by the paper broker's tests: orders, bars and event filters, with short defaults."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from processors.model import Bar
from processors.paper import BracketOrder, OrderFilled, PaperOrder

SYMBOL = "AAPL"
CENT = Decimal("0.01")
MINUTE_NS = 60_000_000_000


def D(text: str) -> Decimal:  # noqa: N802 - reads like a literal
    return Decimal(text)


def order(client_order_id: str, side: str, order_type: str, quantity: int = 100, *, limit: str | None = None,
          stop: str | None = None, tick: Decimal = CENT, symbol: str = SYMBOL) -> PaperOrder:
    return PaperOrder(client_order_id=client_order_id, symbol=symbol, side=side, order_type=order_type,
                      quantity=quantity, tick_size=tick, limit_price=None if limit is None else D(limit),
                      stop_price=None if stop is None else D(stop))


def bracket(entry: PaperOrder, stop: str, target: str) -> BracketOrder:
    return BracketOrder(entry=entry, stop_price=D(stop), target_price=D(target))


def bar(index: int, open_: str, high: str, low: str, close: str, volume: int = 1_000_000,
        symbol: str = SYMBOL, *, start: int | None = None, end: int | None = None) -> Bar:
    """The `index`-th one-minute bar: it starts at index minutes and ends when the next one starts (unless
    `start` and `end` are given)."""
    return Bar(symbol=symbol, timeframe="1m", session="regular",
               start=index * MINUTE_NS if start is None else start,
               end=(index + 1) * MINUTE_NS if end is None else end, open=D(open_), high=D(high), low=D(low), close=D(close),
               volume=volume, vwap=D(close), trades=1)


def fills(events: Iterable[object], client_order_id: str | None = None) -> list[tuple[str, int, Decimal]]:
    """(order id, quantity, price) of each fill, optionally of one order only."""
    return [(e.client_order_id, e.quantity, e.price) for e in events
            if isinstance(e, OrderFilled) and client_order_id in (None, e.client_order_id)]


def of_type(events: Iterable[object], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]

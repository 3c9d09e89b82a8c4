"""Random scripts of commands and market data for the property tests, and a runner that plays them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from processors.paper import PaperBroker, PaperEvent

from tests.processors.paper.helpers import CENT, SYMBOL, bar, order
from tests.processors.paper.helpers import bracket as make_bracket

KINDS = ("MARKET", "LIMIT", "STOP", "STOP_LIMIT")
SIDES = ("BUY", "SELL")
STEP_NS = 10


def cents(value: int) -> str:
    return str(Decimal(value) * CENT)


prices = st.integers(min_value=950, max_value=1050)        # 9.50 .. 10.50 in cents
quantities = st.integers(min_value=1, max_value=300)

place = st.tuples(st.just("place"), st.sampled_from(KINDS), st.sampled_from(SIDES), quantities, prices, prices)
bracket = st.tuples(st.just("bracket"), st.sampled_from(KINDS), st.sampled_from(SIDES), quantities, prices,
                    st.integers(1, 40), st.integers(1, 40))
cancel = st.tuples(st.just("cancel"), st.integers(0, 50))
modify = st.tuples(st.just("modify"), st.integers(0, 50), st.one_of(quantities, st.none()), st.one_of(prices, st.none()))
trade = st.tuples(st.just("trade"), prices, st.integers(0, 400))
bars = st.tuples(st.just("bar"), prices, st.integers(0, 30), st.integers(0, 30), st.integers(0, 600))

steps = st.lists(st.one_of(place, bracket, cancel, modify, trade, trade, trade, bars), min_size=1, max_size=40)


def apply(broker: PaperBroker, index: int, step: tuple[Any, ...]) -> list[PaperEvent]:
    """Play step `index` of a script on `broker` (its ids and times follow from the index)."""
    ts = index * STEP_NS
    kind = step[0]
    if kind == "place":
        _, order_type, side, quantity, first, second = step
        limit = cents(first) if order_type in ("LIMIT", "STOP_LIMIT") else None
        stop = cents(second) if order_type in ("STOP", "STOP_LIMIT") else None
        return broker.place(order(f"o{index}", side, order_type, quantity, limit=limit, stop=stop), ts)
    if kind == "bracket":
        _, order_type, side, quantity, price, stop_ticks, target_ticks = step
        direction = 1 if side == "BUY" else -1
        entry = order(f"o{index}", side, order_type, quantity,
                      limit=cents(price) if order_type in ("LIMIT", "STOP_LIMIT") else None,
                      stop=cents(price) if order_type in ("STOP", "STOP_LIMIT") else None)
        return broker.place_bracket(make_bracket(entry, cents(price - direction * stop_ticks),
                                                 cents(price + direction * target_ticks)), ts)
    if kind in ("cancel", "modify"):
        ids = [o.client_order_id for o in broker.orders()]
        target = ids[step[1] % len(ids)] if ids else "none"
        if kind == "cancel":
            return broker.cancel(target, ts)
        _, _, quantity, price = step
        state = broker.order(target)
        changes: dict[str, Any] = {"quantity": quantity}
        if price is not None and state is not None:
            name = "limit_price" if state.limit_price is not None else "stop_price"
            changes[name] = Decimal(price) * CENT
        return broker.modify(target, ts, **changes)
    if kind == "trade":
        return broker.on_trade(SYMBOL, Decimal(step[1]) * CENT, step[2], ts)
    _, open_, up, down, volume = step
    return broker.on_bar(bar(0, cents(open_), cents(open_ + up), cents(open_ - down), cents(open_), volume,
                             start=ts, end=ts + STEP_NS // 2))


def play(broker: PaperBroker, script: Sequence[tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], list[PaperEvent]]]:
    """Each step of `script` with its events, played on `broker` one at a time (check the state in between)."""
    for index, step in enumerate(script):
        yield step, apply(broker, index, step)


def run(broker: PaperBroker, script: Sequence[tuple[Any, ...]], start: int = 0) -> list[list[PaperEvent]]:
    """The events of each step of `script` (numbered from `start`), played on `broker`."""
    return [apply(broker, start + i, step) for i, step in enumerate(script)]


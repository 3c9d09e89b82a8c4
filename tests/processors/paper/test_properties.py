"""Invariants over random scripts of orders, brackets, modifications, cancels, prints and bars."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.paper import (BracketRole, FillModel, OrderFilled, OrderStatus, OrderType, PaperBroker, Side)

from tests.processors.paper.scripts import play, run, steps

fill_models = st.builds(FillModel, slippage_ticks=st.integers(0, 3), partial_fills=st.booleans())


def market_size(step: tuple) -> int | None:
    return step[2] if step[0] == "trade" else step[4] if step[0] == "bar" else None


@settings(max_examples=300, deadline=None)
@given(script=steps, fill_model=fill_models)
def test_fills_never_exceed_the_order_nor_the_printed_size(script: list[tuple], fill_model: FillModel) -> None:
    broker = PaperBroker(fill_model)
    filled: Counter[str] = Counter()
    for step, events in play(broker, script):
        step_fills = [e for e in events if isinstance(e, OrderFilled)]
        if step_fills:
            assert step[0] in ("trade", "bar")
        if fill_model.partial_fills and step_fills:
            assert sum(e.quantity for e in step_fills) <= market_size(step)
        for fill in step_fills:
            assert fill.quantity > 0
            filled[fill.client_order_id] += fill.quantity
            order = broker.order(fill.client_order_id)
            assert fill.price > 0 and fill.price % order.tick_size == 0
            if order.limit_price is not None and order.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
                assert fill.price <= order.limit_price if order.side is Side.BUY else fill.price >= order.limit_price
        for order in broker.orders():
            assert 0 <= order.filled_quantity <= order.quantity
            assert order.filled_quantity == filled[order.client_order_id]
            if order.status is OrderStatus.SUCCESS:
                assert order.filled_quantity == order.quantity > 0


@settings(max_examples=300, deadline=None)
@given(script=steps, fill_model=fill_models)
def test_a_brackets_children_never_fill_beyond_the_entrys_fills(script: list[tuple], fill_model: FillModel) -> None:
    broker = PaperBroker(fill_model)
    for _ in play(broker, script):
        for entry in broker.orders():
            if entry.role is not BracketRole.ENTRY:
                continue
            stop, target = (broker.order(i) for i in entry.children)
            assert stop.filled_quantity + target.filled_quantity <= entry.filled_quantity
            for child in (stop, target):
                assert child.side is not entry.side
                if entry.filled_quantity == 0:
                    assert child.filled_quantity == 0
                    assert child.status in (OrderStatus.INITIATED, OrderStatus.CANCELLED)
                if child.is_working:
                    # each working child covers exactly the open position
                    position = entry.filled_quantity - stop.filled_quantity - target.filled_quantity
                    assert child.leaves_quantity == position


@settings(max_examples=200, deadline=None)
@given(script=steps, fill_model=fill_models, data=st.data())
def test_restoring_a_snapshot_and_continuing_equals_one_run(script: list[tuple], fill_model: FillModel,
                                                            data: st.DataObject) -> None:
    split = data.draw(st.integers(0, len(script)))
    whole = PaperBroker(fill_model)
    expected = run(whole, script)

    first = PaperBroker(fill_model)
    assert run(first, script[:split]) == expected[:split]
    snapshot = json.loads(json.dumps(first.snapshot()))           # through a changelog's text
    second = PaperBroker.restore(snapshot, fill_model)
    assert second.snapshot() == first.snapshot()
    assert run(second, script[split:], start=split) == expected[split:]
    assert second.snapshot() == whole.snapshot()

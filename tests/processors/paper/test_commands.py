"""Place, modify and cancel: what is accepted, what is refused and why, and what a change does to the fills."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processors.paper import (FillModel, Operation, OrderAccepted, OrderCancelled, OrderModified, OrderRejected,
                              OrderStatus, OrderTriggered, PaperBroker, PaperBrokerError, PaperOrder)

from tests.processors.paper.helpers import SYMBOL, D, bar, bracket, fills, of_type, order


def rejection(events: list) -> tuple[Operation, str, OrderStatus | None]:
    (event,) = events
    assert isinstance(event, OrderRejected)
    return event.operation, event.reason, event.status


@pytest.mark.parametrize(("bad", "words"), [
    (order("x", "BUY", "MARKET", 0), "quantity must be a positive"),
    (order("x", "BUY", "MARKET", -5), "quantity must be a positive"),
    (order("x", "BUY", "LIMIT", limit="10.005"), "limit_price 10.005 is off the tick grid of 0.01"),
    (order("x", "BUY", "STOP", stop="10.03", tick=D("0.05")), "stop_price 10.03 is off the tick grid of 0.05"),
    (order("x", "BUY", "LIMIT", limit="0"), "limit_price must be a positive price"),
    (order("x", "BUY", "LIMIT"), "a LIMIT order needs a limit_price"),
    (order("x", "BUY", "STOP_LIMIT", limit="10.00"), "a STOP_LIMIT order needs a stop_price"),
    (order("x", "BUY", "MARKET", limit="10.00"), "a MARKET order takes no limit_price"),
    (order("x", "BUY", "MARKET", tick=D("0")), "tick_size must be positive"),
    (order("", "BUY", "MARKET"), "client_order_id must not be empty"),
])
def test_a_bad_order_is_rejected_with_the_reason_and_not_kept(bad: PaperOrder, words: str) -> None:
    broker = PaperBroker()
    operation, reason, status = rejection(broker.place(bad, 10))
    assert operation is Operation.PLACE and status is OrderStatus.FAILED and words in reason
    assert broker.orders() == ()
    assert broker.on_trade(SYMBOL, D("10.00"), 100, 11) == []


def test_a_client_order_id_in_use_is_rejected_and_a_rejected_one_may_be_placed_again() -> None:
    broker = PaperBroker()
    broker.place(order("a", "BUY", "MARKET"), 10)
    assert "already in use" in rejection(broker.place(order("a", "SELL", "MARKET"), 11))[1]
    assert rejection(broker.place(order("b", "BUY", "MARKET", 0), 12))
    assert isinstance(broker.place(order("b", "BUY", "MARKET", 10), 13)[0], OrderAccepted)


@pytest.mark.parametrize(("stop", "target", "words"), [
    ("10.50", "11.00", "the stop_price 10.50 must be below the entry's price 10.00"),
    ("9.00", "9.50", "the target_price 9.50 must be above the entry's price 10.00"),
    ("11.00", "9.00", "the stop_price 11.00 must be below the target_price 9.00"),
    ("9.001", "11.00", "off the tick grid"),
])
def test_a_bracket_with_a_price_on_the_wrong_side_is_rejected_whole(stop: str, target: str, words: str) -> None:
    broker = PaperBroker()
    events = broker.place_bracket(bracket(order("e", "BUY", "LIMIT", limit="10.00"), stop, target), 10)
    assert [e.client_order_id for e in events] == ["e", "e-stop", "e-target"]
    assert all(isinstance(e, OrderRejected) and words in e.reason for e in events)
    assert broker.orders() == ()


def test_a_short_bracket_has_its_stop_above_and_its_target_below() -> None:
    broker = PaperBroker()
    assert of_type(broker.place_bracket(bracket(order("e", "SELL", "LIMIT", limit="10.00"), "9.00", "11.00"), 10),
                   OrderRejected)
    accepted = broker.place_bracket(bracket(order("f", "SELL", "LIMIT", limit="10.00"), "11.00", "9.00"), 10)
    assert [e.status for e in accepted] == [OrderStatus.PLACED, OrderStatus.INITIATED, OrderStatus.INITIATED]


def test_modify_and_cancel_of_an_unknown_or_finished_order_are_rejected() -> None:
    broker = PaperBroker()
    assert rejection(broker.modify("nope", 10, quantity=5)) == (Operation.MODIFY, "unknown order id 'nope'", None)
    assert rejection(broker.cancel("nope", 10)) == (Operation.CANCEL, "unknown order id 'nope'", None)
    broker.place(order("m", "BUY", "MARKET"), 10)
    broker.on_trade(SYMBOL, D("10.00"), 100, 11)
    assert rejection(broker.cancel("m", 12)) == (Operation.CANCEL, "the order is Success and can no longer be cancelled",
                                                  OrderStatus.SUCCESS)
    assert rejection(broker.modify("m", 12, quantity=200))[1] == "the order is Success and can no longer be modified"


@pytest.mark.parametrize(("changes", "words"), [
    ({}, "nothing to modify"),
    ({"quantity": 0}, "quantity must be a positive"),
    ({"quantity": 40}, "quantity 40 must be above the filled quantity 40"),
    ({"stop_price": D("10.00")}, "a LIMIT order has no stop_price"),
    ({"limit_price": D("10.001")}, "off the tick grid"),
])
def test_a_bad_modification_is_rejected_and_changes_nothing(changes: dict, words: str) -> None:
    broker = PaperBroker(FillModel(partial_fills=True))
    broker.place(order("b", "BUY", "LIMIT", 100, limit="10.00"), 10)
    broker.on_trade(SYMBOL, D("10.00"), 40, 11)
    before = broker.order("b")
    operation, reason, status = rejection(broker.modify("b", 12, **changes))
    assert operation is Operation.MODIFY and words in reason and status is OrderStatus.PENDING
    assert broker.order("b") == before


def test_a_modified_limit_arrives_anew_and_a_modified_quantity_caps_the_fills() -> None:
    broker = PaperBroker()
    broker.place(order("b", "BUY", "LIMIT", 100, limit="10.00"), 10)
    assert broker.on_trade(SYMBOL, D("10.20"), 1000, 11) == []
    (event,) = broker.modify("b", 12, limit_price=D("10.30"), quantity=150)
    assert isinstance(event, OrderModified) and event.quantity == 150 and event.limit_price == D("10.30")
    assert fills(broker.on_trade(SYMBOL, D("10.25"), 1000, 13)) == [("b", 150, D("10.25"))]


def test_a_stop_price_can_move_until_the_stop_triggers() -> None:
    broker = PaperBroker(FillModel(partial_fills=True))
    broker.place(order("s", "SELL", "STOP_LIMIT", stop="9.50", limit="9.45"), 10)
    assert broker.on_trade(SYMBOL, D("9.60"), 100, 11) == []             # above the stop: nothing
    broker.modify("s", 12, stop_price=D("9.80"))
    events = broker.on_trade(SYMBOL, D("9.60"), 0, 13)                     # now it triggers; no size to fill
    assert of_type(events, OrderTriggered) and not fills(events)
    assert "has been triggered" in rejection(broker.modify("s", 14, stop_price=D("9.00")))[1]
    assert fills(broker.on_trade(SYMBOL, D("9.70"), 100, 15)) == [("s", 100, D("9.45"))]    # a resting limit now


def test_cancel_keeps_what_filled_and_stops_the_rest() -> None:
    broker = PaperBroker(FillModel(partial_fills=True))
    broker.place(order("b", "BUY", "MARKET", 100), 10)
    broker.on_trade(SYMBOL, D("10.00"), 30, 11)
    (event,) = broker.cancel("b", 12)
    assert event == OrderCancelled(client_order_id="b", ts_event=12, filled_quantity=30, reason="cancelled on request")
    assert broker.on_trade(SYMBOL, D("10.00"), 100, 13) == []
    assert broker.order("b").status is OrderStatus.CANCELLED and broker.order("b").filled_quantity == 30


def test_wrong_types_are_programming_errors() -> None:
    with pytest.raises(TypeError, match="order.quantity"):
        order("x", "BUY", "MARKET", 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Decimal"):
        PaperOrder(client_order_id="x", symbol=SYMBOL, side="BUY", order_type="LIMIT", quantity=1,
                   tick_size=Decimal("0.01"), limit_price=10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="order.side"):
        order("x", "HOLD", "MARKET")
    with pytest.raises(TypeError, match="ts_event"):
        PaperBroker().place(order("x", "BUY", "MARKET"), 1.0)  # type: ignore[arg-type]


def test_impossible_market_data_is_an_error_naming_the_field() -> None:
    broker = PaperBroker()
    with pytest.raises(PaperBrokerError, match="trade.price"):
        broker.on_trade(SYMBOL, D("0"), 1, 1)
    with pytest.raises(PaperBrokerError, match="trade.size"):
        broker.on_trade(SYMBOL, D("1"), -1, 1)
    with pytest.raises(PaperBrokerError, match="bar.high"):
        broker.on_bar(bar(0, "10", "9", "8", "9"))
    with pytest.raises(PaperBrokerError, match="fill_model.slippage_ticks"):
        FillModel(slippage_ticks=-1)


def test_has_working_orders_says_whether_an_order_may_still_fill() -> None:
    broker = PaperBroker()
    assert not broker.has_working_orders()
    broker.place(order("m", "BUY", "MARKET"), 10)
    broker.place(order("l", "BUY", "LIMIT", limit="9.00"), 10)
    assert broker.has_working_orders()
    broker.on_trade(SYMBOL, D("10.00"), 100, 11)
    assert broker.has_working_orders() == any(o.is_working for o in broker.orders()) is True
    broker.cancel("l", 12)
    assert broker.has_working_orders() == any(o.is_working for o in broker.orders()) is False

"""Brackets with prints: children wait for the entry, follow its partial fills, and reduce each other (OCA)."""

from __future__ import annotations

from processors.paper import (FillModel, OrderCancelled, OrderModified, OrderRejected, OrderStatus, PaperBroker)

from tests.processors.paper.helpers import SYMBOL, D, bracket, fills, of_type, order


def long_bracket(partial_fills: bool = True) -> PaperBroker:
    broker = PaperBroker(FillModel(partial_fills=partial_fills))
    broker.place_bracket(bracket(order("e", "BUY", "LIMIT", 100, limit="10.00"), "9.50", "11.00"), 10)
    return broker


def status(broker: PaperBroker, *ids: str) -> list[tuple[OrderStatus, int, int]]:
    return [(broker.order(i).status, broker.order(i).quantity, broker.order(i).filled_quantity) for i in ids]


def test_the_children_wait_for_the_entry_and_follow_its_partial_fills() -> None:
    broker = long_bracket()
    assert broker.on_trade(SYMBOL, D("9.40"), 0, 11) == []             # size 0: the entry arrives, nothing fills
    assert status(broker, "e-stop", "e-target") == [(OrderStatus.INITIATED, 0, 0)] * 2
    events = broker.on_trade(SYMBOL, D("9.99"), 30, 12)
    assert fills(events) == [("e", 30, D("10.00"))]                   # resting since the print at 11: at its limit
    modified = of_type(events, OrderModified)
    assert [(m.client_order_id, m.quantity, m.status) for m in modified] == [
        ("e-stop", 30, OrderStatus.PLACED), ("e-target", 30, OrderStatus.PLACED)]
    assert fills(broker.on_trade(SYMBOL, D("9.99"), 50, 13)) == [("e", 50, D("10.00"))]
    assert status(broker, "e", "e-stop", "e-target") == [
        (OrderStatus.PENDING, 100, 80), (OrderStatus.PLACED, 80, 0), (OrderStatus.PLACED, 80, 0)]


def test_a_target_fill_reduces_the_stop_and_both_never_exceed_the_entry() -> None:
    broker = long_bracket()
    broker.on_trade(SYMBOL, D("10.50"), 100, 11)                       # the entry arrives, not marketable
    broker.on_trade(SYMBOL, D("9.99"), 30, 12)                         # entry 30 at 10.00
    events = broker.on_trade(SYMBOL, D("11.00"), 20, 13)               # target 20 at 11.00
    assert fills(events) == [("e-target", 20, D("11.00"))]
    assert [(m.client_order_id, m.quantity) for m in of_type(events, OrderModified)] == [("e-stop", 10)]
    # one print fills the rest of the entry (70 at its limit), then reaches the stop for the position of 80
    events = broker.on_trade(SYMBOL, D("9.40"), 1000, 14)
    assert fills(events) == [("e", 70, D("10.00")), ("e-stop", 80, D("9.40"))]
    assert status(broker, "e", "e-stop", "e-target") == [
        (OrderStatus.SUCCESS, 100, 100), (OrderStatus.SUCCESS, 80, 80), (OrderStatus.SUCCESS, 20, 20)]
    assert broker.on_trade(SYMBOL, D("12.00"), 1000, 15) == []


def test_a_stop_that_closes_the_position_cancels_the_target() -> None:
    broker = long_bracket(partial_fills=False)
    broker.on_trade(SYMBOL, D("9.90"), 1, 11)                          # marketable on arrival: 100 at 9.90
    events = broker.on_trade(SYMBOL, D("9.20"), 1, 12)                 # a gap through the stop: 9.20
    assert fills(events) == [("e-stop", 100, D("9.20"))]
    (cancelled,) = of_type(events, OrderCancelled)
    assert cancelled.client_order_id == "e-target" and "closed by e-stop" in cancelled.reason
    assert status(broker, "e-stop", "e-target") == [(OrderStatus.SUCCESS, 100, 100), (OrderStatus.CANCELLED, 0, 0)]


def test_cancelling_the_entry_before_a_fill_cancels_the_children() -> None:
    broker = long_bracket()
    events = broker.cancel("e", 11)
    assert [(e.client_order_id, type(e)) for e in events] == [
        ("e", OrderCancelled), ("e-stop", OrderCancelled), ("e-target", OrderCancelled)]
    assert broker.on_trade(SYMBOL, D("9.00"), 1000, 12) == []


def test_cancelling_a_partly_filled_entry_leaves_the_children_on_the_position() -> None:
    broker = long_bracket()
    broker.on_trade(SYMBOL, D("9.95"), 40, 11)                          # 40 at 9.95
    events = broker.cancel("e", 12)
    assert [type(e) for e in events] == [OrderCancelled]
    assert fills(broker.on_trade(SYMBOL, D("11.05"), 25, 13)) == [("e-target", 25, D("11.05"))]   # arrival
    events = broker.on_trade(SYMBOL, D("11.10"), 100, 14)
    assert fills(events) == [("e-target", 15, D("11.00"))]
    assert status(broker, "e", "e-stop", "e-target") == [
        (OrderStatus.CANCELLED, 100, 40), (OrderStatus.CANCELLED, 0, 0), (OrderStatus.SUCCESS, 40, 40)]


def test_a_flat_position_while_the_entry_still_works_keeps_the_children_waiting() -> None:
    broker = long_bracket()
    broker.on_trade(SYMBOL, D("9.95"), 10, 11)                          # entry 10
    broker.on_trade(SYMBOL, D("11.00"), 10, 12)                         # target 10: flat, the entry still works
    assert status(broker, "e-stop", "e-target") == [(OrderStatus.PLACED, 0, 0), (OrderStatus.PENDING, 10, 10)]
    broker.on_trade(SYMBOL, D("9.95"), 5, 13)                           # entry 5 more: both children cover 5
    assert status(broker, "e-stop", "e-target") == [(OrderStatus.PLACED, 5, 0), (OrderStatus.PENDING, 15, 10)]


def test_the_children_can_be_moved_but_not_across_each_other_nor_resized() -> None:
    broker = long_bracket()
    broker.on_trade(SYMBOL, D("9.95"), 100, 11)
    assert "must be below the target_price 11.00" in broker.modify("e-stop", 12, stop_price=D("11.00"))[0].reason
    assert "follows its entry's fills" in broker.modify("e-target", 12, quantity=50)[0].reason
    assert isinstance(broker.modify("e-stop", 12, stop_price=D("10.20"))[0], OrderModified)   # a stop above entry
    assert isinstance(broker.modify("e-target", 12, limit_price=D("10.80"))[0], OrderModified)
    assert fills(broker.on_trade(SYMBOL, D("10.15"), 1000, 13)) == [("e-stop", 100, D("10.15"))]


def test_a_working_entry_keeps_its_children_on_the_right_side() -> None:
    broker = long_bracket()
    (event,) = broker.modify("e", 11, limit_price=D("11.50"))
    assert isinstance(event, OrderRejected) and "target_price 11.00 must be above the entry's price 11.50" in event.reason


def test_exec_ids_of_children_are_their_own() -> None:
    broker = long_bracket()
    broker.on_trade(SYMBOL, D("9.95"), 100, 11)
    events = broker.on_trade(SYMBOL, D("11.00"), 60, 12) + broker.on_trade(SYMBOL, D("11.00"), 60, 13)
    assert [e.exec_id for e in events if hasattr(e, "exec_id")] == ["e-target-1", "e-target-2"]

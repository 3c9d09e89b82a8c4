"""Bars-only mode: the next bar's open for market orders, the stop before the target, and the entry's bar."""

from __future__ import annotations

from processors.paper import FillModel, OrderCancelled, OrderFilled, OrderStatus, PaperBroker

from tests.processors.paper.helpers import MINUTE_NS, D, bar, bracket, fills, of_type, order


def test_a_market_order_fills_at_the_next_bars_open_at_the_bars_end() -> None:
    broker = PaperBroker()
    broker.place(order("m", "BUY", "MARKET"), MINUTE_NS + 5)             # during bar 1
    assert broker.on_bar(bar(1, "10.00", "10.50", "9.50", "10.20")) == []
    (fill,) = broker.on_bar(bar(2, "10.30", "10.60", "10.10", "10.40"))
    assert isinstance(fill, OrderFilled) and fill.price == D("10.30") and fill.ts_event == 3 * MINUTE_NS


def test_an_order_placed_at_a_bars_start_fills_in_that_bar() -> None:
    broker = PaperBroker()
    broker.place(order("m", "SELL", "MARKET"), 2 * MINUTE_NS)
    assert fills(broker.on_bar(bar(2, "10.30", "10.60", "10.10", "10.40"))) == [("m", 100, D("10.30"))]


def test_limits_in_bars_fill_at_the_open_when_marketable_on_arrival_else_at_the_limit() -> None:
    broker = PaperBroker()
    broker.place(order("a", "BUY", "LIMIT", limit="10.50"), 0)            # the open 10.00 is below: marketable
    broker.place(order("b", "BUY", "LIMIT", limit="9.80"), 0)             # the low 9.50 reaches it
    broker.place(order("c", "SELL", "LIMIT", limit="11.00"), 0)           # not reached
    assert fills(broker.on_bar(bar(0, "10.00", "10.60", "9.50", "10.20"))) == [
        ("a", 100, D("10.00")), ("b", 100, D("9.80"))]
    # c rests; the next bar opens through it (a gap), and a resting limit fills at its limit
    assert fills(broker.on_bar(bar(1, "11.40", "11.60", "11.20", "11.50"))) == [("c", 100, D("11.00"))]


def test_stops_in_bars_fill_at_the_stop_inside_the_bar_or_at_the_open_on_a_gap() -> None:
    broker = PaperBroker()
    broker.place(order("up", "BUY", "STOP", stop="10.40"), 0)
    broker.place(order("gap", "SELL", "STOP", stop="10.00"), 0)
    assert fills(broker.on_bar(bar(0, "10.20", "10.60", "10.10", "10.50"))) == [("up", 100, D("10.40"))]
    assert fills(broker.on_bar(bar(1, "9.70", "9.90", "9.60", "9.80"))) == [("gap", 100, D("9.70"))]


def test_a_stop_limit_gapping_at_the_open_can_fill_at_its_limit_later_in_the_bar() -> None:
    broker = PaperBroker()
    broker.place(order("gap", "BUY", "STOP_LIMIT", stop="10.00", limit="10.10"), 0)
    broker.place(order("inside", "BUY", "STOP_LIMIT", stop="10.45", limit="10.35"), 0)
    # gap: triggered at the open 10.40, above its limit; the low 10.05 comes after the open: 10.10.
    # inside: triggered at 10.45 inside the bar; whether 10.05 came after the trigger is unknown: it waits,
    # then rests at its limit.
    events = broker.on_bar(bar(0, "10.40", "10.50", "10.05", "10.20"))
    assert fills(events) == [("gap", 100, D("10.10"))]
    assert fills(broker.on_bar(bar(1, "10.25", "10.30", "10.15", "10.20"))) == [("inside", 100, D("10.35"))]


def test_a_bar_reaching_both_stop_and_target_fills_the_stop_first() -> None:
    broker = PaperBroker()
    broker.place_bracket(bracket(order("e", "BUY", "MARKET"), "9.50", "10.50"), 0)
    assert fills(broker.on_bar(bar(0, "10.00", "10.20", "9.80", "10.10"))) == [("e", 100, D("10.00"))]
    events = broker.on_bar(bar(1, "10.10", "10.60", "9.40", "10.00"))
    assert fills(events) == [("e-stop", 100, D("9.50"))]
    assert [c.client_order_id for c in of_type(events, OrderCancelled)] == ["e-target"]


def test_a_short_bracket_also_takes_the_stop_first() -> None:
    broker = PaperBroker()
    broker.place_bracket(bracket(order("e", "SELL", "MARKET"), "10.50", "9.50"), 0)
    broker.on_bar(bar(0, "10.00", "10.20", "9.80", "10.10"))
    assert fills(broker.on_bar(bar(1, "10.10", "10.60", "9.40", "10.00"))) == [("e-stop", 100, D("10.50"))]


def test_an_entry_filled_at_the_open_lets_both_children_act_in_the_same_bar() -> None:
    broker = PaperBroker()
    broker.place_bracket(bracket(order("t", "BUY", "MARKET"), "9.50", "10.50"), 0)
    assert fills(broker.on_bar(bar(0, "10.00", "10.70", "9.90", "10.60"))) == [
        ("t", 100, D("10.00")), ("t-target", 100, D("10.50"))]
    broker.place_bracket(bracket(order("s", "BUY", "MARKET"), "9.50", "10.50"), MINUTE_NS)
    assert fills(broker.on_bar(bar(1, "10.00", "10.70", "9.30", "10.60"))) == [
        ("s", 100, D("10.00")), ("s-stop", 100, D("9.50"))]


def test_an_entry_filled_inside_the_bar_lets_only_the_stop_act_in_that_bar() -> None:
    broker = PaperBroker()
    broker.place_bracket(bracket(order("e", "BUY", "LIMIT", limit="10.00"), "9.50", "10.50"), 0)
    # entry at 10.00 inside the bar; the high 10.80 may have come before it: the target waits
    events = broker.on_bar(bar(0, "10.20", "10.80", "9.90", "10.10"))
    assert fills(events) == [("e", 100, D("10.00"))]
    assert fills(broker.on_bar(bar(1, "10.10", "10.60", "10.00", "10.40"))) == [("e-target", 100, D("10.50"))]
    broker.place_bracket(bracket(order("f", "BUY", "LIMIT", limit="10.00"), "9.50", "10.50"), 2 * MINUTE_NS)
    # entry at 10.00 on the way down to 9.40: the stop below it is reached after it
    assert fills(broker.on_bar(bar(2, "10.20", "10.80", "9.40", "10.10"))) == [
        ("f", 100, D("10.00")), ("f-stop", 100, D("9.50"))]
    assert broker.order("f-target").status is OrderStatus.CANCELLED


def test_bar_volume_caps_the_fills_with_partial_fills_on() -> None:
    broker = PaperBroker(FillModel(partial_fills=True))
    broker.place(order("a", "BUY", "MARKET", 300), 0)
    broker.place(order("b", "BUY", "MARKET", 300), 0)
    assert fills(broker.on_bar(bar(0, "10.00", "10.10", "9.90", "10.00", volume=400))) == [
        ("a", 300, D("10.00")), ("b", 100, D("10.00"))]
    assert fills(broker.on_bar(bar(1, "10.05", "10.10", "9.90", "10.00", volume=400))) == [("b", 200, D("10.05"))]


def test_slippage_in_bars() -> None:
    broker = PaperBroker(FillModel(slippage_ticks=1))
    broker.place_bracket(bracket(order("e", "BUY", "MARKET"), "9.50", "10.50"), 0)
    broker.on_bar(bar(0, "10.00", "10.20", "9.80", "10.10"))
    assert broker.order("e").average_price == D("10.01")
    assert fills(broker.on_bar(bar(1, "9.60", "9.70", "9.20", "9.30"))) == [("e-stop", 100, D("9.49"))]

"""Market, limit, stop and stop-limit orders against prints, by hand: arrival, resting, gaps, triggers."""

from __future__ import annotations

from processors.paper import (FillModel, OrderAccepted, OrderFilled, OrderStatus, OrderTriggered, PaperBroker)

from tests.processors.paper.helpers import SYMBOL, D, fills, of_type, order


def placed(*orders, fill_model: FillModel | None = None, ts: int = 10) -> PaperBroker:
    broker = PaperBroker(fill_model)
    for o in orders:
        assert isinstance(broker.place(o, ts)[0], OrderAccepted)
    return broker


def test_a_market_order_fills_at_the_next_print() -> None:
    broker = placed(order("m", "BUY", "MARKET", 100))
    events = broker.on_trade(SYMBOL, D("50.12"), 500, 11)
    assert events == [OrderFilled(client_order_id="m", exec_id="m-1", ts_event=11, symbol=SYMBOL, side="BUY",
                                  quantity=100, price=D("50.12"), filled_quantity=100, leaves_quantity=0,
                                  status=OrderStatus.SUCCESS)]
    assert broker.on_trade(SYMBOL, D("50.20"), 500, 12) == []
    assert broker.order("m").status is OrderStatus.SUCCESS and broker.order("m").average_price == D("50.12")


def test_a_print_before_the_order_or_of_another_symbol_does_not_fill_it() -> None:
    broker = placed(order("m", "SELL", "MARKET"), ts=100)
    assert broker.on_trade(SYMBOL, D("50.00"), 100, 99) == []
    assert broker.on_trade("MSFT", D("400.00"), 100, 101) == []
    assert fills(broker.on_trade(SYMBOL, D("50.01"), 100, 100)) == [("m", 100, D("50.01"))]


def test_a_limit_marketable_on_arrival_fills_at_the_print_price() -> None:
    broker = placed(order("b", "BUY", "LIMIT", limit="50.00"), order("s", "SELL", "LIMIT", limit="49.00"))
    assert fills(broker.on_trade(SYMBOL, D("49.50"), 1000, 11)) == [("b", 100, D("49.50")), ("s", 100, D("49.50"))]


def test_a_resting_limit_fills_at_its_limit_even_when_the_price_gaps_through() -> None:
    broker = placed(order("b", "BUY", "LIMIT", limit="50.00"), order("s", "SELL", "LIMIT", limit="52.00"))
    assert broker.on_trade(SYMBOL, D("51.00"), 100, 11) == []           # arrival: neither is marketable
    assert fills(broker.on_trade(SYMBOL, D("49.00"), 100, 12)) == [("b", 100, D("50.00"))]
    assert fills(broker.on_trade(SYMBOL, D("52.00"), 100, 13)) == [("s", 100, D("52.00"))]


def test_a_buy_stop_triggers_at_or_above_and_fills_at_the_triggering_print() -> None:
    broker = placed(order("st", "BUY", "STOP", stop="50.00"))
    assert broker.on_trade(SYMBOL, D("49.99"), 100, 11) == []
    events = broker.on_trade(SYMBOL, D("50.00"), 100, 12)
    assert of_type(events, OrderTriggered)[0].price == D("50.00")
    assert fills(events) == [("st", 100, D("50.00"))]


def test_a_sell_stop_that_gaps_fills_at_the_first_print_beyond_the_stop() -> None:
    broker = placed(order("st", "SELL", "STOP", stop="48.00"))
    assert broker.on_trade(SYMBOL, D("48.01"), 100, 11) == []
    events = broker.on_trade(SYMBOL, D("46.50"), 100, 12)
    assert [type(e) for e in events] == [OrderTriggered, OrderFilled]
    assert fills(events) == [("st", 100, D("46.50"))]


def test_a_stop_limit_fills_at_the_trigger_when_within_its_limit_then_rests_at_the_limit() -> None:
    broker = placed(order("a", "BUY", "STOP_LIMIT", stop="50.00", limit="50.10"),
                    order("b", "BUY", "STOP_LIMIT", 100, stop="50.00", limit="50.05"))
    events = broker.on_trade(SYMBOL, D("50.08"), 100, 11)                # triggers both; within a's limit only
    assert [e.client_order_id for e in of_type(events, OrderTriggered)] == ["a", "b"]
    assert fills(events) == [("a", 100, D("50.08"))]
    assert broker.on_trade(SYMBOL, D("50.06"), 100, 12) == []             # b rests at 50.05
    assert fills(broker.on_trade(SYMBOL, D("49.90"), 100, 13)) == [("b", 100, D("50.05"))]


def test_a_sell_stop_limit_gapping_through_its_limit_waits() -> None:
    broker = placed(order("s", "SELL", "STOP_LIMIT", stop="48.00", limit="47.90"))
    events = broker.on_trade(SYMBOL, D("47.50"), 100, 11)
    assert of_type(events, OrderTriggered) and not fills(events)
    assert fills(broker.on_trade(SYMBOL, D("48.20"), 100, 12)) == [("s", 100, D("47.90"))]


def test_slippage_moves_fills_against_the_order_on_the_tick_grid() -> None:
    model = FillModel(slippage_ticks=2)
    broker = placed(order("b", "BUY", "MARKET"), order("s", "SELL", "MARKET"), order("st", "SELL", "STOP", stop="10.00"),
                    fill_model=model)
    # an off-grid print (sub-penny) goes to the grid against each order first: buy 10.004 -> 10.01, sell -> 10.00
    assert fills(broker.on_trade(SYMBOL, D("10.004"), 1000, 11)) == [("b", 100, D("10.03")), ("s", 100, D("9.98"))]
    assert fills(broker.on_trade(SYMBOL, D("9.95"), 1000, 12)) == [("st", 100, D("9.93"))]


def test_slippage_never_takes_a_limit_fill_beyond_its_limit() -> None:
    broker = placed(order("b", "BUY", "LIMIT", limit="10.00"),
                    order("c", "BUY", "LIMIT", limit="10.00", tick=D("0.05")), fill_model=FillModel(slippage_ticks=3))
    # b arrives marketable at 9.98: 9.98 + 3 ticks = 10.01, capped at 10.00; c: 10.00 + 3 nickels, capped
    assert fills(broker.on_trade(SYMBOL, D("9.98"), 1000, 11)) == [("b", 100, D("10.00")), ("c", 100, D("10.00"))]
    broker = placed(order("b", "BUY", "LIMIT", limit="10.00"), fill_model=FillModel(slippage_ticks=1))
    assert fills(broker.on_trade(SYMBOL, D("9.97"), 1000, 11)) == [("b", 100, D("9.98"))]


def test_a_sell_fill_never_goes_below_one_tick() -> None:
    broker = placed(order("s", "SELL", "MARKET"), fill_model=FillModel(slippage_ticks=5))
    assert fills(broker.on_trade(SYMBOL, D("0.03"), 1000, 11)) == [("s", 100, D("0.01"))]


def test_partial_fills_share_the_printed_size_in_time_priority() -> None:
    broker = placed(order("first", "BUY", "LIMIT", 300, limit="50.00"), fill_model=FillModel(partial_fills=True))
    broker.place(order("second", "SELL", "MARKET", 200), 20)
    broker.place(order("third", "BUY", "MARKET", 100), 30)
    events = broker.on_trade(SYMBOL, D("49.99"), 350, 31)
    assert fills(events) == [("first", 300, D("49.99")), ("second", 50, D("49.99"))]
    assert [e.status for e in of_type(events, OrderFilled)] == [OrderStatus.SUCCESS, OrderStatus.PENDING]
    events = broker.on_trade(SYMBOL, D("50.02"), 100, 32)
    assert fills(events) == [("second", 100, D("50.02"))]
    assert [e.exec_id for e in of_type(events, OrderFilled)] == ["second-2"]
    assert fills(broker.on_trade(SYMBOL, D("50.03"), 1000, 33)) == [("second", 50, D("50.03")), ("third", 100, D("50.03"))]


def test_a_partly_filled_marketable_limit_rests_at_its_limit() -> None:
    broker = placed(order("b", "BUY", "LIMIT", 100, limit="50.00"), fill_model=FillModel(partial_fills=True))
    assert fills(broker.on_trade(SYMBOL, D("49.90"), 40, 11)) == [("b", 40, D("49.90"))]
    assert fills(broker.on_trade(SYMBOL, D("49.80"), 100, 12)) == [("b", 60, D("50.00"))]


def test_a_stop_triggered_with_no_size_left_fills_at_the_next_print() -> None:
    broker = placed(order("m", "SELL", "MARKET", 100), order("st", "SELL", "STOP", 100, stop="50.00"),
                    fill_model=FillModel(partial_fills=True))
    events = broker.on_trade(SYMBOL, D("49.95"), 100, 11)
    assert fills(events) == [("m", 100, D("49.95"))] and of_type(events, OrderTriggered)
    assert fills(broker.on_trade(SYMBOL, D("50.10"), 100, 12)) == [("st", 100, D("50.10"))]


def test_without_partial_fills_a_print_fills_every_order_it_reaches_in_full() -> None:
    broker = placed(order("a", "BUY", "MARKET", 500), order("b", "BUY", "MARKET", 700))
    assert fills(broker.on_trade(SYMBOL, D("10.00"), 1, 11)) == [("a", 500, D("10.00")), ("b", 700, D("10.00"))]


def test_exec_ids_are_the_order_id_and_its_fill_number() -> None:
    broker = placed(order("ts-abc", "BUY", "MARKET", 30), fill_model=FillModel(partial_fills=True))
    ids = [e.exec_id for ts in (11, 12, 13) for e in of_type(broker.on_trade(SYMBOL, D("1.00"), 10, ts), OrderFilled)]
    assert ids == ["ts-abc-1", "ts-abc-2", "ts-abc-3"]

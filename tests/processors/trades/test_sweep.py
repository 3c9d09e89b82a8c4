"""The sweep on event time: stop-loss (TM-Isp), profit target (TM-IProfit), which wins when both are crossed,
the alignment of the sweep instants, and when a price is acted upon."""

from __future__ import annotations

from processors.risk import ExitReason
from processors.trades import TradeStatus

from .conftest import D, S, T0, at, entry, manager, prices


def test_the_stop_is_hit_at_the_next_sweep_instant_by_the_low_of_the_interval() -> None:
    m = manager()
    assert m.on_entry_fill(entry(ts=at(1))) == []
    # 98.50, 97.90 (through the stop 98.00), back to 99.00: all before the 10:00:05 sweep
    assert prices(m, "SPY", (2, "98.50"), (3, "97.90"), (4, "99.00")) == []
    [request] = m.on_price("SPY", D("99.10"), at(6))          # the first event after 10:00:05 runs its sweep
    assert (request.request_id, request.trade_id, request.reason, request.quantity, request.side) == \
        ("T1:exit:1", "T1", ExitReason.STOP_LOSS, 100, "SELL")
    assert request.trigger_price == D("97.90")
    assert request.ts_event == at(5)
    assert m.trade("T1").pending_exit_quantity == 100


def test_a_price_exactly_at_the_stop_hits_it() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("98.00"), at(2))
    [request] = m.advance_to(at(5))
    assert (request.reason, request.trigger_price, request.ts_event) == (ExitReason.STOP_LOSS, D("98.00"), at(5))


def test_a_price_one_hundred_millionth_above_the_stop_does_not_hit_it() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("98.00000001"), at(2))
    assert m.advance_to(at(60)) == []


def test_the_target_is_hit_by_the_high_of_the_interval() -> None:
    m = manager()
    m.on_entry_fill(entry(target="104.00", ts=at(1)))
    prices(m, "SPY", (2, "103.99"), (3, "104.05"), (4, "103.50"))
    [request] = m.advance_to(at(5))
    assert (request.reason, request.quantity, request.trigger_price, request.ts_event) == \
        (ExitReason.PROFIT_TARGET, 100, D("104.05"), at(5))


def test_a_short_is_stopped_by_the_high_and_takes_profit_at_the_low() -> None:
    m = manager()
    m.on_entry_fill(entry("S1", direction="short", price="50.00", stop="51.00", target="47.50", ts=at(1)))
    m.on_entry_fill(entry("S2", direction="short", price="50.00", stop="52.00", target="49.00", ts=at(1)))
    prices(m, "SPY", (2, "51.00"), (3, "48.90"))
    first, second = m.advance_to(at(5))
    assert (first.trade_id, first.reason, first.trigger_price, first.side) == \
        ("S1", ExitReason.STOP_LOSS, D("51.00"), "BUY")
    assert (second.trade_id, second.reason, second.trigger_price) == ("S2", ExitReason.PROFIT_TARGET, D("48.90"))


def test_when_stop_and_target_are_both_crossed_in_one_interval_the_stop_wins() -> None:
    m = manager()
    m.on_entry_fill(entry(target="104.00", ts=at(1)))
    prices(m, "SPY", (2, "104.50"), (3, "97.50"), (4, "101.00"))   # the order within the interval is unknown
    [request] = m.advance_to(at(5))
    assert (request.reason, request.quantity, request.trigger_price) == (ExitReason.STOP_LOSS, 100, D("97.50"))


def test_sweep_instants_are_multiples_of_the_interval_since_the_epoch() -> None:
    m = manager(interval_s=7)
    start = 1_795_000_000 * S + 3 * S + 123                  # not on a multiple of 7 s
    m.on_entry_fill(entry(ts=start))
    m.on_price("SPY", D("97.00"), start + S)
    [request] = m.advance_to(start + 60 * S)
    assert request.ts_event % (7 * S) == 0
    assert request.ts_event == -(-(start + S) // (7 * S)) * 7 * S     # the first multiple at or after the print


def test_a_price_at_a_sweep_instant_belongs_to_that_sweep_and_one_after_it_to_the_next() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("99.00"), at(2))
    assert m.on_price("SPY", D("97.00"), at(5)) == []         # at 10:00:05: applied before that sweep
    [request] = m.on_price("SPY", D("99.00"), at(5.000000001))
    assert (request.ts_event, request.trigger_price) == (at(5), D("97.00"))

    late = manager()
    late.on_entry_fill(entry(ts=at(1)))
    late.on_price("SPY", D("99.00"), at(2))
    assert late.on_price("SPY", D("97.00"), at(5.000000001)) == []   # the 10:00:05 sweep saw 99.00 only
    [request] = late.advance_to(at(10))
    assert (request.ts_event, request.trigger_price) == (at(10), D("97.00"))


def test_the_same_prints_give_the_same_requests_however_the_events_are_batched() -> None:
    points = [(2, "99.10"), (7, "98.40"), (9.5, "97.95"), (12, "99.00"), (31, "96.00")]

    def run(with_watermarks: bool) -> list:
        m = manager()
        out = m.on_entry_fill(entry(ts=at(1)))
        for seconds, price in points:
            out += m.on_price("SPY", D(price), at(seconds))
            if with_watermarks:
                out += m.advance_to(at(seconds))
        return out + m.advance_to(at(60))

    assert run(True) == run(False)
    assert [(r.ts_event, r.trigger_price) for r in run(False)] == [(at(10), D("97.95"))]


def test_a_trade_opened_between_sweeps_sees_only_the_prints_after_its_open() -> None:
    m = manager()
    m.on_entry_fill(entry("OLD", stop="90.00", ts=at(0.5)))
    m.on_price("SPY", D("97.00"), at(1))                       # before T1 opened: below T1's stop
    m.on_entry_fill(entry("T1", price="99.00", stop="98.00", ts=at(2)))
    m.on_price("SPY", D("99.20"), at(3))
    assert m.advance_to(at(5)) == []
    m.on_price("SPY", D("97.99"), at(6))
    [request] = m.advance_to(at(10))
    assert (request.trade_id, request.trigger_price) == ("T1", D("97.99"))


def test_no_price_no_exit_and_status_running() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    assert m.advance_to(at(3600)) == []
    view = m.trade("T1")
    assert (view.status, view.open_quantity, view.average_entry_price) == (TradeStatus.RUNNING, 100, D("100.00"))
    assert view.opened_ns == at(1) and T0 < view.opened_ns

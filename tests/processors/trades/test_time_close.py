"""Time-based closure at a time of day in ET, on a normal day and on an early-close day (2026-11-27, the day
after Thanksgiving, closes at 13:00 ET), as an absolute time or an offset before the close."""

from __future__ import annotations

import datetime as dt

import pytest

from processors.risk import ExitReason
from processors.trades import AccountSettings, StrategySettings, TimeClose

from .conftest import D, LIMITS, entry, et, manager


def closing(rule: TimeClose):
    return manager(strategies={"breakout": StrategySettings(time_close=rule)})


@pytest.mark.parametrize("rule", [TimeClose(at_et=dt.time(15, 55)), TimeClose(before_close_s=300)],
                         ids=["at 15:55", "5 min before the close"])
def test_intraday_trades_close_at_15_55_on_a_normal_day(rule: TimeClose) -> None:
    m = closing(rule)
    m.on_entry_fill(entry("T1", ts=et(2026, 11, 25, 10, 0, 1)))
    m.on_entry_fill(entry("P1", intraday=False, ts=et(2026, 11, 25, 10, 0, 1)))   # positional: kept
    m.on_price("SPY", D("100.50"), et(2026, 11, 25, 15, 54, 59))
    assert m.advance_to(et(2026, 11, 25, 15, 54, 59)) == []
    [request] = m.advance_to(et(2026, 11, 25, 23, 0))
    assert (request.trade_id, request.reason, request.quantity, request.ts_event, request.trigger_price) == \
        ("T1", ExitReason.TIME_CLOSE, 100, et(2026, 11, 25, 15, 55), D("100.50"))


@pytest.mark.parametrize("rule", [TimeClose(at_et=dt.time(15, 55)), TimeClose(before_close_s=300)],
                         ids=["at 15:55", "5 min before the close"])
def test_on_an_early_close_day_the_close_is_five_minutes_before_13_00(rule: TimeClose) -> None:
    m = closing(rule)
    m.on_entry_fill(entry(ts=et(2026, 11, 27, 10, 0, 1)))
    assert m.advance_to(et(2026, 11, 27, 12, 54, 59)) == []
    [request] = m.advance_to(et(2026, 11, 27, 16, 0))
    assert (request.reason, request.ts_event) == (ExitReason.TIME_CLOSE, et(2026, 11, 27, 12, 55))


def test_a_time_before_the_early_close_is_kept() -> None:
    m = closing(TimeClose(at_et=dt.time(10, 30)))
    m.on_entry_fill(entry(ts=et(2026, 11, 27, 10, 0, 1)))
    [request] = m.advance_to(et(2026, 11, 27, 16, 0))
    assert request.ts_event == et(2026, 11, 27, 10, 30)


def test_positional_trades_close_only_when_configured() -> None:
    m = closing(TimeClose(at_et=dt.time(15, 55), positional=True))
    m.on_entry_fill(entry("P1", intraday=False, ts=et(2026, 11, 25, 10, 0, 1)))
    [request] = m.advance_to(et(2026, 11, 25, 16, 0))
    assert (request.trade_id, request.ts_event) == ("P1", et(2026, 11, 25, 15, 55))


def test_an_account_time_close_and_no_close_on_a_holiday() -> None:
    m = manager(accounts={"ACC": AccountSettings(limits=LIMITS, start_of_day_equity=D(100_000),
                                                 time_close=TimeClose(at_et=dt.time(15, 50)))})
    m.on_entry_fill(entry(strategy="any", ts=et(2026, 11, 25, 16, 30)))   # after the day's close instant
    [late] = m.advance_to(et(2026, 11, 25, 16, 30, 5))
    assert late.ts_event == et(2026, 11, 25, 16, 30)     # an event at a sweep instant is in that sweep
    m.on_entry_fill(entry("T2", strategy="any", ts=et(2026, 11, 26, 10, 0)))  # Thanksgiving: no close that day
    assert m.advance_to(et(2026, 11, 26, 23, 0)) == []
    [next_day] = m.advance_to(et(2026, 11, 27, 13, 0))
    assert (next_day.trade_id, next_day.ts_event) == ("T2", et(2026, 11, 27, 12, 50))   # 15:50 -> 12:50

"""The scanner's schedule and signal limits: ET days and ET wall times, worked out by hand across DST."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from processors.scanner import ScannerConfig, SignalLimiter, in_schedule

UTC = dt.timezone.utc
NS = 1_000_000_000


def utc_ns(*args: int, extra_ns: int = 0) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp()) * NS + extra_ns


def config(**changes: Any) -> ScannerConfig:
    data = {
        "name": "schedule", "type": "intraday", "instrument": "equity", "days": "all", "interval": "1m",
        "max_signals_per_day": 3, "max_signals_per_symbol": 2, "direction": "long", "mode": "virtual",
        "symbols": ["SPY", "QQQ"], "timeframe": "5m", "entry_rules": ["price(SPY) > 1"],
        "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 1},
    }
    return ScannerConfig.from_mapping(data | changes)


# SignalLimiter ----------------------------------------------------------------------------------

# Monday 2026-03-09 is EDT (UTC-4): 10:00 ET is 14:00 UTC, and the ET day ends at 04:00 UTC on 03-10.
MONDAY_10_ET = utc_ns(2026, 3, 9, 14, 0)


def test_per_symbol_then_per_day_limits():
    limiter = SignalLimiter(max_signals_per_day=3, max_signals_per_symbol=2)
    assert limiter.allow("SPY", MONDAY_10_ET) == (True, None)
    assert limiter.allow("SPY", MONDAY_10_ET + 60 * NS) == (True, None)
    allowed, reason = limiter.allow("SPY", MONDAY_10_ET + 120 * NS)
    assert not allowed
    assert reason == "max_signals_per_symbol reached: 2 of 2 signals for SPY on 2026-03-09 ET"
    assert limiter.allow("QQQ", MONDAY_10_ET + 180 * NS) == (True, None)
    allowed, reason = limiter.allow("IWM", MONDAY_10_ET + 240 * NS)
    assert not allowed
    assert reason == "max_signals_per_day reached: 3 of 3 signals on 2026-03-09 ET"
    assert (limiter.total, limiter.count("SPY"), limiter.count("QQQ"), limiter.count("IWM")) == (3, 2, 1, 0)
    assert limiter.trading_date == dt.date(2026, 3, 9)


def test_refused_signals_are_not_counted():
    limiter = SignalLimiter(max_signals_per_day=2, max_signals_per_symbol=1)
    assert limiter.allow("SPY", MONDAY_10_ET)[0]
    for _ in range(5):
        assert not limiter.allow("SPY", MONDAY_10_ET)[0]
    assert limiter.total == 1
    assert limiter.allow("QQQ", MONDAY_10_ET) == (True, None)


def test_counts_reset_at_midnight_et_not_midnight_utc():
    limiter = SignalLimiter(max_signals_per_day=1, max_signals_per_symbol=1)
    assert limiter.allow("SPY", MONDAY_10_ET) == (True, None)
    # 00:30 UTC on 03-10 is 20:30 ET on Monday 03-09: a new UTC day but the same ET day.
    allowed, reason = limiter.allow("SPY", utc_ns(2026, 3, 10, 0, 30))
    assert not allowed and reason is not None and "2026-03-09 ET" in reason
    # The last nanosecond of the ET day, 23:59:59.999999999 ET = 03:59:59.999999999 UTC.
    assert not limiter.allow("QQQ", utc_ns(2026, 3, 10, 3, 59, 59, extra_ns=999_999_999))[0]
    # Midnight ET on 03-10 is 04:00 UTC.
    assert limiter.allow("SPY", utc_ns(2026, 3, 10, 4, 0)) == (True, None)
    assert limiter.trading_date == dt.date(2026, 3, 10)
    assert (limiter.total, limiter.count("SPY")) == (1, 1)


def test_midnight_et_in_winter_is_five_in_the_morning_utc():
    limiter = SignalLimiter(max_signals_per_day=1, max_signals_per_symbol=1)
    assert limiter.allow("SPY", utc_ns(2026, 1, 15, 15, 0))[0]  # 10:00 EST
    assert not limiter.allow("SPY", utc_ns(2026, 1, 16, 4, 30))[0]  # 23:30 EST on 01-15
    assert limiter.allow("SPY", utc_ns(2026, 1, 16, 5, 0))[0]  # midnight EST on 01-16


def test_signals_from_an_earlier_et_day_are_refused_loudly():
    limiter = SignalLimiter(max_signals_per_day=3, max_signals_per_symbol=3)
    limiter.allow("SPY", MONDAY_10_ET)
    with pytest.raises(ValueError, match="before the current date 2026-03-09: signals must come in time order"):
        limiter.allow("SPY", utc_ns(2026, 3, 9, 3, 59))  # 23:59 ET on Sunday 03-08


def test_state_round_trip_continues_the_counts():
    limiter = SignalLimiter(max_signals_per_day=3, max_signals_per_symbol=2)
    limiter.allow("SPY", MONDAY_10_ET)
    limiter.allow("SPY", MONDAY_10_ET)
    limiter.allow("QQQ", MONDAY_10_ET)
    state = json.loads(json.dumps(limiter.to_state()))
    assert state == {"date": "2026-03-09", "per_symbol": {"SPY": 2, "QQQ": 1}}
    restored = SignalLimiter(max_signals_per_day=3, max_signals_per_symbol=2)
    restored.load_state(state)
    assert (restored.trading_date, restored.total, restored.count("SPY")) == (dt.date(2026, 3, 9), 3, 2)
    assert restored.allow("IWM", MONDAY_10_ET)[1] == "max_signals_per_day reached: 3 of 3 signals on 2026-03-09 ET"
    assert restored.allow("IWM", utc_ns(2026, 3, 10, 14, 0)) == (True, None)


def test_state_of_a_fresh_limiter():
    limiter = SignalLimiter(max_signals_per_day=1, max_signals_per_symbol=1)
    assert limiter.to_state() == {"date": None, "per_symbol": {}}
    limiter.load_state({"date": None, "per_symbol": {}})
    assert limiter.trading_date is None and limiter.total == 0


@pytest.mark.parametrize("state", [
    {"date": "2026-03-09"},
    {"date": "2026-03-09", "per_symbol": {"SPY": 0}},
    {"date": "2026-03-09", "per_symbol": {"SPY": "1"}},
    {"date": "09/03/2026", "per_symbol": {"SPY": 1}},
    {"date": None, "per_symbol": {"SPY": 1}},
    {"date": "2026-03-09", "per_symbol": [["SPY", 1]]},
    [("date", None)],
])
def test_malformed_state_is_refused(state):
    limiter = SignalLimiter(max_signals_per_day=1, max_signals_per_symbol=1)
    with pytest.raises(ValueError, match="state"):
        limiter.load_state(state)


@pytest.mark.parametrize(("per_day", "per_symbol", "message"), [
    (0, 1, "max_signals_per_day must be a whole number of at least 1, got 0"),
    (True, 1, "max_signals_per_day must be a whole number of at least 1, got True"),
    (3, 0, "max_signals_per_symbol must be a whole number of at least 1, got 0"),
    (2, 3, r"max_signals_per_symbol \(3\) must not exceed max_signals_per_day \(2\)"),
])
def test_limiter_parameters_are_validated(per_day, per_symbol, message):
    with pytest.raises(ValueError, match=message):
        SignalLimiter(per_day, per_symbol)


@pytest.mark.parametrize(("symbol", "ts_ns"), [("", MONDAY_10_ET), (None, MONDAY_10_ET), ("SPY", 1.5e18),
                                               ("SPY", "1773064800000000000")])
def test_allow_refuses_bad_arguments(symbol, ts_ns):
    with pytest.raises(ValueError):
        SignalLimiter(1, 1).allow(symbol, ts_ns)


def test_limiter_from_config():
    limiter = SignalLimiter.from_config(config(max_signals_per_day=4, max_signals_per_symbol=1))
    assert (limiter.max_signals_per_day, limiter.max_signals_per_symbol) == (4, 1)


# in_schedule ------------------------------------------------------------------------------------

def test_window_is_start_inclusive_end_exclusive():
    scanner = config(days=["mon", "wed"], start_time="10:00", end_time="11:00")
    assert in_schedule(scanner, utc_ns(2026, 3, 9, 14, 0))  # Monday 10:00 EDT
    assert not in_schedule(scanner, utc_ns(2026, 3, 9, 13, 59, 59, extra_ns=999_999_999))
    assert in_schedule(scanner, utc_ns(2026, 3, 9, 14, 59, 59, extra_ns=999_999_999))
    assert not in_schedule(scanner, utc_ns(2026, 3, 9, 15, 0))  # 11:00 EDT


def test_only_the_configured_weekdays():
    scanner = config(days=["mon", "wed"], start_time="10:00", end_time="11:00")
    assert not in_schedule(scanner, utc_ns(2026, 3, 10, 14, 30))  # Tuesday 10:30 EDT
    assert in_schedule(scanner, utc_ns(2026, 3, 11, 14, 30))  # Wednesday 10:30 EDT
    assert not in_schedule(scanner, utc_ns(2026, 3, 14, 14, 30))  # Saturday


def test_schedule_follows_daylight_saving_time():
    scanner = config()  # 09:30-16:00 ET, every weekday
    # Friday 2026-03-06 (EST): 09:30 ET is 14:30 UTC, so 13:30 UTC is 08:30 ET.
    assert in_schedule(scanner, utc_ns(2026, 3, 6, 14, 30))
    assert not in_schedule(scanner, utc_ns(2026, 3, 6, 13, 30))
    assert in_schedule(scanner, utc_ns(2026, 3, 6, 20, 59))
    assert not in_schedule(scanner, utc_ns(2026, 3, 6, 21, 0))
    # Monday 2026-03-09 (EDT): 09:30 ET is 13:30 UTC; 20:00 UTC is 16:00 ET.
    assert in_schedule(scanner, utc_ns(2026, 3, 9, 13, 30))
    assert not in_schedule(scanner, utc_ns(2026, 3, 9, 13, 29, 59))
    assert not in_schedule(scanner, utc_ns(2026, 3, 9, 20, 0))


def test_weekday_is_the_et_weekday():
    scanner = config(days=["fri"], start_time="16:00", end_time="20:00", extended_hours=True)
    # Saturday 2026-03-07 00:30 UTC is Friday 19:30 EST.
    assert in_schedule(scanner, utc_ns(2026, 3, 7, 0, 30))
    # Friday 2026-03-06 23:30 UTC is Friday 18:30 EST; Saturday 01:00 UTC is Friday 20:00 EST (end, excluded).
    assert in_schedule(scanner, utc_ns(2026, 3, 6, 23, 30))
    assert not in_schedule(scanner, utc_ns(2026, 3, 7, 1, 0))


def test_schedule_window_agrees_with_window_utc():
    scanner = config(start_time="10:15", end_time="15:45")
    for date in (dt.date(2026, 3, 6), dt.date(2026, 3, 9), dt.date(2026, 11, 2)):
        start_ns, end_ns = scanner.window_utc(date)
        assert in_schedule(scanner, start_ns) and in_schedule(scanner, end_ns - 1)
        assert not in_schedule(scanner, start_ns - 1) and not in_schedule(scanner, end_ns)


def test_in_schedule_arguments():
    with pytest.raises(ValueError, match="config must be a ScannerConfig"):
        in_schedule({"days": "all"}, MONDAY_10_ET)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ts_ns must be integer nanoseconds"):
        in_schedule(config(), 1.7e18)  # type: ignore[arg-type]

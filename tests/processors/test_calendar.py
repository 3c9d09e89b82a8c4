"""NYSE calendar 2026 against NYSE's published schedule, computed by hand in ET."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from processors.calendar import (
    ET,
    MarketCalendar,
    Session,
    SessionHours,
    build_nyse_calendar,
    calendar_rows,
    parse_sessions,
    to_ns,
)

CAL = build_nyse_calendar(dt.date(2026, 1, 1), dt.date(2026, 12, 31))


def et(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=ET).timestamp()) * 1_000_000_000


def test_2026_holidays_are_not_trading_days() -> None:
    holidays = [dt.date(2026, 1, 1), dt.date(2026, 1, 19), dt.date(2026, 2, 16), dt.date(2026, 4, 3),
                dt.date(2026, 5, 25), dt.date(2026, 6, 19), dt.date(2026, 7, 3), dt.date(2026, 9, 7),
                dt.date(2026, 11, 26), dt.date(2026, 12, 25)]
    for day in holidays:
        assert CAL.day(day) is None, day
    weekdays = sum(1 for i in range(365) if (dt.date(2026, 1, 1) + dt.timedelta(i)).weekday() < 5)
    assert len(CAL.days) == weekdays - len(holidays) == 251


@pytest.mark.parametrize("day", [dt.date(2026, 11, 27), dt.date(2026, 12, 24)])
def test_early_closes_end_at_13_with_post_market_to_17(day: dt.date) -> None:
    trading = CAL.day(day)
    assert trading is not None and trading.early_close
    assert trading.close == et(day.year, day.month, day.day, 13)
    assert trading.post_close == et(day.year, day.month, day.day, 17)
    assert CAL.session_at(et(day.year, day.month, day.day, 12, 59, 59)) is Session.REGULAR
    assert CAL.session_at(et(day.year, day.month, day.day, 13)) is Session.POST
    assert CAL.session_at(et(day.year, day.month, day.day, 17)) is Session.CLOSED


def test_normal_day_boundaries() -> None:
    day = CAL.day(dt.date(2026, 11, 24))
    assert day is not None and not day.early_close
    assert (day.pre_open, day.open, day.close, day.post_close) == (
        et(2026, 11, 24, 4), et(2026, 11, 24, 9, 30), et(2026, 11, 24, 16), et(2026, 11, 24, 20))
    cases = [((3, 59, 59), Session.CLOSED), ((4, 0, 0), Session.PRE), ((9, 29, 59), Session.PRE),
             ((9, 30, 0), Session.REGULAR), ((15, 59, 59), Session.REGULAR), ((16, 0, 0), Session.POST),
             ((19, 59, 59), Session.POST), ((20, 0, 0), Session.CLOSED)]
    for (h, m, s), expected in cases:
        assert CAL.session_at(et(2026, 11, 24, h, m, s)) is expected, (h, m, s)


def test_dst_changes_keep_et_hours() -> None:
    # 2026-03-06 (EST, UTC-5) and 2026-03-09 (EDT, UTC-4); 2026-10-30 (EDT) and 2026-11-02 (EST).
    assert CAL.day(dt.date(2026, 3, 6)).open == int(dt.datetime(2026, 3, 6, 14, 30, tzinfo=dt.timezone.utc)
                                                     .timestamp()) * 10**9
    assert CAL.day(dt.date(2026, 3, 9)).open == int(dt.datetime(2026, 3, 9, 13, 30, tzinfo=dt.timezone.utc)
                                                     .timestamp()) * 10**9
    assert CAL.day(dt.date(2026, 10, 30)).close == int(dt.datetime(2026, 10, 30, 20, tzinfo=dt.timezone.utc)
                                                        .timestamp()) * 10**9
    assert CAL.day(dt.date(2026, 11, 2)).close == int(dt.datetime(2026, 11, 2, 21, tzinfo=dt.timezone.utc)
                                                       .timestamp()) * 10**9


def test_weekend_and_holiday_instants_are_closed() -> None:
    assert CAL.session_at(et(2026, 11, 28, 11)) is Session.CLOSED  # Saturday
    assert CAL.session_at(et(2026, 11, 26, 11)) is Session.CLOSED  # Thanksgiving


def test_vectorised_matches_scalar() -> None:
    rng = np.random.default_rng(1)
    instants = rng.integers(CAL.first_ns - 10**12, CAL.last_ns + 10**12, size=20_000)
    vector = CAL.sessions_at(instants)
    assert all(vector[i] is CAL.session_at(int(t)) for i, t in enumerate(instants))


def test_hours_are_data_including_an_overnight_session() -> None:
    hours = SessionHours(overnight=True)
    calendar = build_nyse_calendar(dt.date(2026, 11, 23), dt.date(2026, 11, 25), hours)
    # 02:00 ET on Tuesday lies between Monday's post close (20:00) and Tuesday's pre-open (04:00).
    assert calendar.session_at(et(2026, 11, 24, 2)) is Session.OVERNIGHT
    assert calendar.session_at(et(2026, 11, 23, 2)) is Session.CLOSED  # no previous day in range
    shifted = build_nyse_calendar(dt.date(2026, 11, 24), dt.date(2026, 11, 24),
                                  SessionHours(regular_open=dt.time(9, 0)))
    assert shifted.session_at(et(2026, 11, 24, 9, 15)) is Session.REGULAR


def test_corrections_override_the_library() -> None:
    corrected = build_nyse_calendar(dt.date(2026, 11, 23), dt.date(2026, 11, 25),
                                    extra_holidays=[dt.date(2026, 11, 23)], extra_early_closes=[dt.date(2026, 11, 25)])
    assert corrected.day(dt.date(2026, 11, 23)) is None
    assert corrected.day(dt.date(2026, 11, 25)).close == et(2026, 11, 25, 13)


def test_invalid_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="regular_open"):
        SessionHours(regular_open=dt.time(17, 0))


def test_windows_and_rows() -> None:
    windows = CAL.windows(parse_sessions("extended"))
    assert len(windows) == 3 * 251
    rows = calendar_rows(CAL)
    assert rows[0] == {"date": "2026-01-02", "pre_open": "2026-01-02T09:00:00Z", "open": "2026-01-02T14:30:00Z",
                       "close": "2026-01-02T21:00:00Z", "post_close": "2026-01-03T01:00:00Z",
                       "early_close": "false"}
    with pytest.raises(ValueError, match="session must be one of"):
        parse_sessions("lunch")


def test_to_ns_and_empty_calendar() -> None:
    assert to_ns(dt.date(2026, 7, 1), dt.time(9, 30)) == et(2026, 7, 1, 9, 30)
    assert MarketCalendar([]).session_at(0) is Session.CLOSED


def test_holidays_are_the_weekdays_without_a_session() -> None:
    calendar = build_nyse_calendar(dt.date(2025, 4, 1), dt.date(2025, 12, 31))
    assert sorted(calendar.holidays()) == [dt.date(2025, 4, 18), dt.date(2025, 5, 26), dt.date(2025, 6, 19),
                                           dt.date(2025, 7, 4), dt.date(2025, 9, 1), dt.date(2025, 11, 27),
                                           dt.date(2025, 12, 25)]

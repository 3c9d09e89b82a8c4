"""Business-day arithmetic and n-th weekdays, against a calendar read by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from processors.instruments.dates import (
    business_day_on_or_before,
    business_days_before,
    check_date,
    is_business_day,
    last_business_day_of_month,
    nth_weekday,
    previous_business_day,
    third_friday,
)

THANKSGIVING_2025 = dt.date(2025, 11, 27)


@pytest.mark.parametrize(("year", "month", "expected"), [
    (2025, 1, 17),   # January 2025 starts on a Wednesday: Fridays 3, 10, 17
    (2025, 4, 18),   # Good Friday 2025
    (2025, 8, 15),   # August 2025 starts on a Friday: 1, 8, 15
    (2026, 5, 15),   # May 2026 starts on a Friday
    (2026, 12, 18),
    (2027, 10, 15),  # October 2027 starts on a Friday
])
def test_third_friday(year: int, month: int, expected: int) -> None:
    assert third_friday(year, month) == dt.date(year, month, expected)


def test_nth_weekday_and_months_too_short() -> None:
    assert nth_weekday(2025, 11, 3, 4) == THANKSGIVING_2025   # fourth Thursday
    assert nth_weekday(2026, 1, 0, 3) == dt.date(2026, 1, 19)   # MLK day: third Monday
    assert nth_weekday(2025, 8, 4, 5) == dt.date(2025, 8, 29)   # August 2025 has five Fridays
    with pytest.raises(ValueError, match="fewer than 5"):
        nth_weekday(2025, 9, 4, 5)  # September 2025 has four Fridays
    with pytest.raises(ValueError, match="weekday"):
        nth_weekday(2025, 9, 7, 1)
    with pytest.raises(ValueError, match="month"):
        third_friday(2025, 13)


def test_business_days_over_weekends_and_holidays() -> None:
    assert is_business_day(dt.date(2025, 11, 26))
    assert not is_business_day(THANKSGIVING_2025, {THANKSGIVING_2025})
    assert not is_business_day(dt.date(2025, 11, 29))  # Saturday
    assert previous_business_day(dt.date(2025, 12, 1)) == dt.date(2025, 11, 28)  # Monday → Friday
    assert previous_business_day(dt.date(2025, 11, 28), {THANKSGIVING_2025}) == dt.date(2025, 11, 26)
    assert business_day_on_or_before(dt.date(2025, 11, 30)) == dt.date(2025, 11, 28)
    assert business_day_on_or_before(dt.date(2025, 11, 28)) == dt.date(2025, 11, 28)
    # From Monday 1 December: 28 (1), 26 (2, over Thanksgiving), 25 (3).
    assert business_days_before(dt.date(2025, 12, 1), 3, {THANKSGIVING_2025}) == dt.date(2025, 11, 25)
    assert business_days_before(dt.date(2025, 11, 30), 0) == dt.date(2025, 11, 30)
    with pytest.raises(ValueError, match="count"):
        business_days_before(dt.date(2025, 12, 1), -1)


def test_last_business_day_of_month() -> None:
    assert last_business_day_of_month(2026, 2) == dt.date(2026, 2, 27)   # the 28th is a Saturday
    assert last_business_day_of_month(2024, 2) == dt.date(2024, 2, 29)   # leap year, a Thursday
    assert last_business_day_of_month(2025, 12, {dt.date(2025, 12, 31)}) == dt.date(2025, 12, 30)


def test_check_date_refuses_datetimes_and_strings() -> None:
    assert check_date(dt.date(2025, 1, 2), "day") == dt.date(2025, 1, 2)
    with pytest.raises(ValueError, match="as_of must be a datetime.date"):
        check_date(dt.datetime(2025, 1, 2), "as_of")
    with pytest.raises(ValueError, match="as_of"):
        check_date("2025-01-02", "as_of")

"""Calendar arithmetic that expiry rules are written in: business days and the n-th weekday of a month.

A business day is a Monday-to-Friday date that is not in `holidays`. Holidays are given by the caller
(the exchange's full-day closures); an early-close day is a business day and must not be in the set.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection

FRIDAY = 4


def check_date(value: object, name: str) -> dt.date:
    """`value` if it is a `datetime.date` (and not a `datetime.datetime`); ValueError naming `name` otherwise."""
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{name} must be a datetime.date, got {value!r}")
    return value


def check_year_month(year: object, month: object) -> None:
    if not isinstance(year, int) or isinstance(year, bool) or not 1 <= year <= 9999:
        raise ValueError(f"year must be an integer from 1 to 9999, got {year!r}")
    if not isinstance(month, int) or isinstance(month, bool) or not 1 <= month <= 12:
        raise ValueError(f"month must be an integer from 1 to 12, got {month!r}")


def is_business_day(day: dt.date, holidays: Collection[dt.date] = frozenset()) -> bool:
    """True for a Monday-to-Friday `day` that is not in `holidays`."""
    return day.weekday() < 5 and day not in holidays


def previous_business_day(day: dt.date, holidays: Collection[dt.date] = frozenset()) -> dt.date:
    """The latest business day strictly before `day`."""
    day -= dt.timedelta(days=1)
    while not is_business_day(day, holidays):
        day -= dt.timedelta(days=1)
    return day


def business_day_on_or_before(day: dt.date, holidays: Collection[dt.date] = frozenset()) -> dt.date:
    """`day` itself when it is a business day, else the latest business day before it."""
    return day if is_business_day(day, holidays) else previous_business_day(day, holidays)


def business_days_before(day: dt.date, count: int, holidays: Collection[dt.date] = frozenset()) -> dt.date:
    """The business day `count` business days before `day` (`day` itself for a count of 0).

    `day` need not be a business day: one business day before Sunday is the Friday (or earlier, over
    holidays); zero business days before it is Sunday itself.
    """
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise ValueError(f"count must be a non-negative integer, got {count!r}")
    for _ in range(count):
        day = previous_business_day(day, holidays)
    return day


def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The `n`-th (1-based) `weekday` (Monday=0 … Sunday=6) of the month; ValueError if the month has fewer."""
    check_year_month(year, month)
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {weekday!r}")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    first = dt.date(year, month, 1)
    day = 1 + (weekday - first.weekday()) % 7 + 7 * (n - 1)
    if day > calendar.monthrange(year, month)[1]:
        raise ValueError(f"{year}-{month:02d} has fewer than {n} of weekday {weekday}")
    return dt.date(year, month, day)


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of the month: the standard monthly expiration day of U.S. options and equity index futures."""
    return nth_weekday(year, month, FRIDAY, 3)


def last_business_day_of_month(year: int, month: int, holidays: Collection[dt.date] = frozenset()) -> dt.date:
    check_year_month(year, month)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    return business_day_on_or_before(last, holidays)

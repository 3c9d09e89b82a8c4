"""Where the settings take effect: the NYSE calendar adjusted with the settings, the option split default."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.calendar import NS, UTC, Session, build_nyse_calendar
from processors.instruments.options import CategorySplit
from processors.settings import UniversalSettings, adjusted_calendar, option_category_split


def utc_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp()) * NS


def test_extra_closed_dates_and_half_days_adjust_the_nyse_calendar() -> None:
    nyse = build_nyse_calendar(dt.date(2026, 12, 21), dt.date(2026, 12, 31))
    assert nyse.day(dt.date(2026, 12, 24)).early_close          # the exchange's own half-day (Christmas Eve)
    assert not nyse.day(dt.date(2026, 12, 31)).early_close
    settings = UniversalSettings(capital=Decimal("1"), extra_closed_dates=(dt.date(2026, 12, 24),),
                                 extra_half_days=(dt.date(2026, 12, 31),))
    calendar = adjusted_calendar(nyse, settings)
    assert calendar.day(dt.date(2026, 12, 24)) is None
    assert dt.date(2026, 12, 24) in calendar.holidays()
    assert calendar.session_at(utc_ns(2026, 12, 24, 15)) is Session.CLOSED  # 10:00 ET
    half = calendar.day(dt.date(2026, 12, 31))
    # EST is UTC-5: 13:00 ET is 18:00 UTC, the half-day post-market end 17:00 ET is 22:00 UTC.
    assert (half.early_close, half.close, half.post_close) == (True, utc_ns(2026, 12, 31, 18), utc_ns(2026, 12, 31, 22))
    assert calendar.session_at(utc_ns(2026, 12, 31, 19)) is Session.POST
    usual = calendar.day(dt.date(2026, 12, 30))
    assert (usual.pre_open, usual.open, usual.close, usual.post_close) == (
        utc_ns(2026, 12, 30, 9), utc_ns(2026, 12, 30, 14, 30), utc_ns(2026, 12, 30, 21), utc_ns(2026, 12, 31, 1))
    assert [d.date for d in calendar.days] == [d.date for d in nyse.days if d.date != dt.date(2026, 12, 24)]


def test_the_settings_hours_are_applied_in_et_across_daylight_saving() -> None:
    settings = UniversalSettings(capital=Decimal("1"), regular_open=dt.time(9, 45), post_market_close=dt.time(18))
    calendar = adjusted_calendar(build_nyse_calendar(dt.date(2026, 7, 1), dt.date(2026, 7, 1)), settings)
    day = calendar.day(dt.date(2026, 7, 1))
    # EDT is UTC-4: 09:45 ET is 13:45 UTC, 18:00 ET is 22:00 UTC; the rest stays the default.
    assert (day.pre_open, day.open, day.close, day.post_close) == (
        utc_ns(2026, 7, 1, 8), utc_ns(2026, 7, 1, 13, 45), utc_ns(2026, 7, 1, 20), utc_ns(2026, 7, 1, 22))


def test_default_settings_leave_the_nyse_calendar_as_built() -> None:
    nyse = build_nyse_calendar(dt.date(2026, 11, 23), dt.date(2026, 11, 30))
    assert adjusted_calendar(nyse, UniversalSettings(capital=Decimal("1"))).days == nyse.days


def test_the_option_split_is_the_sections_else_the_settings_else_the_modules_default() -> None:
    settings = UniversalSettings(capital=Decimal("1"), option_category_split=CategorySplit(otm_strikes=2,
                                                                                           deep_strikes=6))
    own = CategorySplit(itm_strikes=3)
    assert option_category_split(own, settings) is own
    assert option_category_split(None, settings) == CategorySplit(otm_strikes=2, deep_strikes=6)
    assert option_category_split(None, None) == CategorySplit()

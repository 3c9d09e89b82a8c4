"""When a `TimeClose` closes the trades of a trading day, as an event-time instant (UTC ns) from the NYSE
calendar (`processors.calendar.MarketCalendar`, which knows each day's close: 16:00 ET, 13:00 on early
closes). A day the calendar does not hold (a weekend, a holiday, a day outside its range) has no time close.
"""

from __future__ import annotations

from datetime import timedelta

from processors.calendar import NS, MarketCalendar, TradingDay, to_ns
from processors.risk.account import et_date
from processors.trades.settings import TimeClose


def close_moment_ns(rule: TimeClose, day: TradingDay) -> int:
    """The instant `rule` closes trades on `day` (see `TimeClose` for the early-close rule)."""
    if rule.before_close_s is not None:
        return day.close - rule.before_close_s * NS
    assert rule.at_et is not None
    at = to_ns(day.date, rule.at_et)
    if day.early_close and at >= day.close:
        return day.close - (to_ns(day.date, rule.regular_close_et) - at)
    return at


def moment_on_day_of(rule: TimeClose, calendar: MarketCalendar, ts_ns: int) -> int | None:
    """The close instant of the ET trading day `ts_ns` falls on (None if that day is not a trading day)."""
    day = calendar.day(et_date(ts_ns))
    return None if day is None else close_moment_ns(rule, day)


def next_moment_ns(rule: TimeClose, calendar: MarketCalendar, after_ns: int, until_ns: int) -> int | None:
    """The first close instant of `rule` in (after_ns, until_ns], or None."""
    date, last = et_date(after_ns), et_date(until_ns)
    while date <= last:
        day = calendar.day(date)
        if day is not None:
            moment = close_moment_ns(rule, day)
            if after_ns < moment <= until_ns:
                return moment
        date += timedelta(days=1)
    return None

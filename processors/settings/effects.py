"""Where the universal settings take effect, as pure functions of the settings in force.

    adjusted_calendar(nyse, settings)         the exchange's calendar with the settings' session hours,
                                              extra closed dates and extra half-days applied
    option_category_split(section, settings)  a strategy's option category split, or the settings' default
"""

from __future__ import annotations

from processors.calendar import MarketCalendar, TradingDay, to_ns
from processors.instruments.options import CategorySplit
from processors.settings.universal import UniversalSettings


def adjusted_calendar(calendar: MarketCalendar, settings: UniversalSettings) -> MarketCalendar:
    """`calendar` (built by `processors.calendar.build_nyse_calendar`, whose half-days come from the exchange)
    with the settings applied to every day: an extra closed date is left out, an extra half-day closes at
    `early_close` (post-market until `early_post_market_close`), and every day's times are the settings'
    ET wall times as UTC instants (DST-aware). An overnight session, where the calendar has one, starts at
    the post-market close of the previous day kept."""
    closed, half_days = set(settings.extra_closed_dates), set(settings.extra_half_days)
    days: list[TradingDay] = []
    for day in calendar.days:
        if day.date in closed:
            continue
        early = day.early_close or day.date in half_days
        overnight = None
        if day.overnight_open is not None and days:
            overnight = days[-1].post_close
        days.append(TradingDay(
            date=day.date, pre_open=to_ns(day.date, settings.pre_market_open),
            open=to_ns(day.date, settings.regular_open),
            close=to_ns(day.date, settings.early_close if early else settings.regular_close),
            post_close=to_ns(day.date, settings.early_post_market_close if early else settings.post_market_close),
            early_close=early, overnight_open=overnight))
    return MarketCalendar(days)


def option_category_split(section_split: CategorySplit | None, settings: UniversalSettings | None) -> CategorySplit:
    """The split a strategy's option section gives, else the settings' default, else the instruments module's
    default (1 ITM, 1 OTM, 5 deep strikes) when no settings are in force."""
    if section_split is not None:
        return section_split
    return CategorySplit() if settings is None else settings.option_category_split

"""Where the universal settings take effect, as pure functions of the settings in force.

    adjusted_calendar(nyse, settings)         the exchange's calendar with the settings' session hours,
                                              extra closed dates and extra half-days applied
    calendar_in_force(nyse, history)          each day under the version in force when its date began
    first_date_under(change_ns)               the first date a version in force from `change_ns` governs
    CalendarInForce(nyse)                     a run's calendar, amended in place as SettingsChanged events come
    option_category_split(section, settings)  a strategy's option category split, or the settings' default
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from processors.calendar import ET, MarketCalendar, TradingDay, to_ns
from processors.instruments.options import CategorySplit
from processors.model import SettingsChanged
from processors.settings.history import SettingsHistory
from processors.settings.universal import UniversalSettings

MIDNIGHT = dt.time(0, 0)


def adjusted_calendar(calendar: MarketCalendar, settings: UniversalSettings) -> MarketCalendar:
    """`calendar` (built by `processors.calendar.build_nyse_calendar`, whose half-days come from the exchange)
    with the settings applied to every day: an extra closed date is left out, an extra half-day closes at
    `early_close` (post-market until `early_post_market_close`), and every day's times are the settings'
    ET wall times as UTC instants (DST-aware). An overnight session, where the calendar has one, starts at
    the post-market close of the previous day kept."""
    return _adjusted(calendar.days, lambda day: settings)


def first_date_under(effective_ns: int) -> dt.date:
    """The first date whose ET midnight is at or after `effective_ns`: a version of the settings governs the
    trading days that begin once it is in force, so the day in progress keeps the hours it opened with and
    a live run and its replay build every day alike."""
    local = dt.datetime.fromtimestamp(effective_ns / 1e9, ET)
    date = local.date()
    return date if to_ns(date, MIDNIGHT) >= effective_ns else date + dt.timedelta(days=1)


def calendar_in_force(calendar: MarketCalendar, history: SettingsHistory) -> MarketCalendar:
    """`calendar` (the exchange's) with each day adjusted by the settings in force at its ET midnight (see
    `first_date_under`); a day before the first version is the exchange's own."""
    return _adjusted(calendar.days, lambda day: history.at(to_ns(day.date, MIDNIGHT)))


class CalendarInForce:
    """The calendar a run's bars, strategies and desk share, amended in place (`MarketCalendar.amend`) when a
    new version of the settings arrives: the days it governs (from `first_date_under` its effective instant)
    are rebuilt under it, the days before keep theirs. A live run applies a change when it is made, a replay
    when its event time reaches that instant, and both build the same days: a change is never back-dated.

        in_force = CalendarInForce(build_nyse_calendar(first, last))
        in_force.calendar                    # give this object to the pipelines and the desk
        first = in_force.apply(change)       # SettingsError (nothing changed) when the change cannot follow
    """

    def __init__(self, exchange: MarketCalendar) -> None:
        self.exchange = MarketCalendar(list(exchange.days))
        self.history = SettingsHistory()
        self.calendar = MarketCalendar(list(exchange.days))

    def apply(self, change: SettingsChanged) -> dt.date:
        """The version `change` records, applied; returns the first date it governs."""
        version = self.history.apply(change)
        first = first_date_under(version.effective_ns)
        self.calendar.amend(calendar_in_force(self.exchange, self.history), first)
        return first


def _adjusted(exchange_days: list[TradingDay],
              settings_of_day: Callable[[TradingDay], UniversalSettings | None]) -> MarketCalendar:
    days: list[TradingDay] = []
    for day in exchange_days:
        settings = settings_of_day(day)
        if settings is None:
            days.append(day)
            continue
        if day.date in settings.extra_closed_dates:
            continue
        early = day.early_close or day.date in settings.extra_half_days
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

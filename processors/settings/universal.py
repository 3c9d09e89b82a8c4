"""The universal settings: one frozen, validated object of what every account and strategy shares, read
from and written to JSON/YAML values through the scanner configuration's `Table` machinery.

    settings = read_settings(yaml.safe_load(text))    # SettingsError listing every problem at once
    write_settings(settings)                          # plain values; read_settings of them equals settings

The shape (times are ET wall times "HH:MM", the calendar turns them into UTC instants day by day, DST
included; money as a string or an integer, never a float: 0.1 in YAML is a binary float):

    capital: "100000"                 # required
    exchange: NYSE                    # whose holiday and half-day calendar applies (the calendar module's)
    pre_market_open: "04:00"
    regular_open: "09:30"
    regular_close: "16:00"
    post_market_close: "20:00"
    early_close: "13:00"              # the regular close of a half-day
    early_post_market_close: "17:00"  # the post-market end of a half-day
    extra_closed_dates: [2026-12-24]  # closed although the exchange's calendar trades (an operator's addition)
    extra_half_days: [2026-12-31]     # half-days the exchange's calendar does not list
    option_category_split: {mode: count, itm_strikes: 1, otm_strikes: 1, deep_strikes: 5}
                                      # for a strategy whose option section gives none

Everything but `capital` has the default shown. Unknown keys are refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from processors.calendar import SessionHours
from processors.instruments.options import CategorySplit
from processors.scanner.config.checks import (INVALID, Checker, choice, describe, is_int, positive_decimal, shown,
                                              wall_time)
from processors.scanner.config.mapping import format_time, read_fields, read_time, write_fields
from processors.scanner.config.sections import check_category_split, read_category_split, write_category_split
from processors.scanner.config.table import Field, Table, check_values, in_setting_order
from processors.settings.errors import SettingsError

EXCHANGES = ("NYSE",)  # the calendars processors.calendar builds
MAX_CAPITAL = 10**12
MAX_EXTRA_DATES = 366


@dataclass(frozen=True, slots=True, kw_only=True)
class UniversalSettings:
    """The settings every account and strategy shares (see the module docstring for each one's meaning);
    SettingsError listing every invalid field, or the normalised values (capital a Decimal, dates sorted)."""

    capital: Decimal
    exchange: str = "NYSE"
    pre_market_open: dt.time = dt.time(4, 0)
    regular_open: dt.time = dt.time(9, 30)
    regular_close: dt.time = dt.time(16, 0)
    post_market_close: dt.time = dt.time(20, 0)
    early_close: dt.time = dt.time(13, 0)
    early_post_market_close: dt.time = dt.time(17, 0)
    extra_closed_dates: tuple[dt.date, ...] = ()
    extra_half_days: tuple[dt.date, ...] = ()
    option_category_split: CategorySplit = CategorySplit()

    def __post_init__(self) -> None:
        errors, checked = check_values(UNIVERSAL, {name: getattr(self, name) for name in UNIVERSAL.names})
        if errors:
            raise SettingsError(errors)
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    def session_hours(self) -> SessionHours:
        """The session hours of the calendar module (ET wall times) these settings give."""
        return SessionHours(pre_open=self.pre_market_open, regular_open=self.regular_open,
                            regular_close=self.regular_close, post_close=self.post_market_close,
                            early_close=self.early_close, early_post_close=self.early_post_market_close)


def _read_money(checker: Checker, name: str, raw: Any) -> Any:
    """A Decimal from a string or an integer as written in a file; a float is refused (it is not the decimal
    that was meant)."""
    if isinstance(raw, float):
        return checker.add(name, f"must be written as a string or an integer (\"{raw}\"), not the binary float {raw!r}")
    if is_int(raw) or isinstance(raw, Decimal):
        return Decimal(raw)
    if isinstance(raw, str):
        try:
            return Decimal(raw.strip())
        except InvalidOperation:
            pass
    return checker.add(name, f"must be a decimal number written as a string or an integer, got {shown(raw)}")


def _read_dates(checker: Checker, name: str, raw: Any) -> Any:
    """A list of dates (YAML dates, or "YYYY-MM-DD" text) as a tuple of `datetime.date`."""
    if not isinstance(raw, (list, tuple)):
        return checker.add(name, f"must be a list of dates YYYY-MM-DD, got {describe(raw)}")
    dates: list[dt.date] = []
    valid = True
    for index, item in enumerate(raw):
        if isinstance(item, dt.date) and not isinstance(item, dt.datetime):
            dates.append(item)
            continue
        try:
            dates.append(dt.date.fromisoformat(item) if isinstance(item, str) else None)  # type: ignore[arg-type]
        except ValueError:
            dates.append(None)  # type: ignore[arg-type]
        if dates[-1] is None:
            checker.add(f"{name}[{index}]", f"must be a date YYYY-MM-DD, got {shown(item)}")
            valid = False
    return tuple(dates) if valid else INVALID


def _check_dates(checker: Checker, name: str, value: Any) -> Any:
    """Distinct weekdays (a weekend is closed anyway), at most MAX_EXTRA_DATES, as a sorted tuple."""
    if value is INVALID:
        return INVALID
    if not isinstance(value, (list, tuple)):
        return checker.add(name, f"must be a tuple of datetime.date, got {describe(value)}")
    if len(value) > MAX_EXTRA_DATES:
        return checker.add(name, f"must list at most {MAX_EXTRA_DATES} dates, got {len(value):,}")
    valid = True
    for index, item in enumerate(value):
        if not isinstance(item, dt.date) or isinstance(item, dt.datetime):
            checker.add(f"{name}[{index}]", f"must be a datetime.date, got {describe(item)}")
            valid = False
        elif item.weekday() >= 5:
            checker.add(f"{name}[{index}]", f"{item.isoformat()} is a {item.strftime('%A')}: the exchange is closed "
                                            "on weekends anyway")
            valid = False
        elif item in value[:index]:
            checker.add(f"{name}[{index}]", f"{item.isoformat()} is listed twice")
            valid = False
    return tuple(sorted(value)) if valid else INVALID


def _hours_in_order(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """pre-market open <= regular open < early close <= regular close <= post-market close, and
    early close <= early post-market close <= post-market close."""
    names = ("pre_market_open", "regular_open", "regular_close", "post_market_close", "early_close",
             "early_post_market_close")
    if any(checked[name] is INVALID for name in names):
        return
    pre, open_, close, post, early, early_post = (checked[name] for name in names)
    if pre > open_:
        checker.add("pre_market_open", f"must be at or before regular_open ({format_time(open_)}), "
                                       f"got {format_time(pre)}")
    if close <= open_:
        checker.add("regular_close", f"must be after regular_open ({format_time(open_)}), got {format_time(close)}")
    if post < close:
        checker.add("post_market_close", f"must be at or after regular_close ({format_time(close)}), "
                                         f"got {format_time(post)}")
    if not open_ < early <= close:
        checker.add("early_close", f"must be after regular_open ({format_time(open_)}) and at or before "
                                   f"regular_close ({format_time(close)}), got {format_time(early)}")
    if not early <= early_post <= post:
        checker.add("early_post_market_close", f"must be at or after early_close ({format_time(early)}) and at or "
                                               f"before post_market_close ({format_time(post)}), "
                                               f"got {format_time(early_post)}")


def _closed_or_half(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    closed, half = checked["extra_closed_dates"], checked["extra_half_days"]
    if closed is INVALID or half is INVALID:
        return
    for day in sorted(set(closed) & set(half)):
        checker.add("extra_half_days", f"{day.isoformat()} is also in extra_closed_dates: a day is closed or a "
                                       "half-day, not both")


def _dates_written(dates: tuple[dt.date, ...]) -> list[str]:
    return [day.isoformat() for day in dates]


_TIME = {"check": wall_time, "read": read_time, "write": format_time}
UNIVERSAL = Table(UniversalSettings, (
    Field("capital", check=positive_decimal(MAX_CAPITAL), read=_read_money, write=str),
    Field("exchange", check=choice(EXCHANGES)),
    Field("pre_market_open", **_TIME),
    Field("regular_open", **_TIME),
    Field("regular_close", **_TIME),
    Field("post_market_close", **_TIME),
    Field("early_close", **_TIME),
    Field("early_post_market_close", **_TIME),
    Field("extra_closed_dates", check=_check_dates, read=_read_dates, write=_dates_written),
    Field("extra_half_days", check=_check_dates, read=_read_dates, write=_dates_written),
    Field("option_category_split", check=check_category_split, read=read_category_split,
          write=write_category_split),
), cross=(_hours_in_order, _closed_or_half), in_setting_order=True)


def read_settings(data: Any) -> UniversalSettings:
    """The universal settings written in `data` (a mapping loaded from YAML or JSON); SettingsError naming
    every problem, in the order of the settings."""
    checker = Checker()
    values = read_fields(checker, "", data, UNIVERSAL)
    if values is INVALID:
        raise SettingsError([error if error.field != "config" else type(error)("settings", error.message)
                             for error in checker.errors])
    if checker.errors:
        errors, _ = check_values(UNIVERSAL, UNIVERSAL.defaults | values)
        raise SettingsError(in_setting_order(UNIVERSAL, checker.errors + errors))
    return UniversalSettings(**values)


def write_settings(settings: UniversalSettings) -> dict[str, Any]:
    """`settings` as plain JSON/YAML values (strings, integers, lists), in the order of the settings."""
    return write_fields(UNIVERSAL, settings)

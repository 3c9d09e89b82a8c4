"""`ScannerConfig`: the whole configuration, a frozen dataclass validated, read and written through
its table (`CONFIG`, at the end of this module), and the checks of its single settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from processors.calendar import to_ns
from processors.scanner.config import cross
from processors.scanner.config.checks import (INVALID, Checker, boolean, choice, describe, instance, integer,
                                              optional, shown, suggestion, wall_time)
from processors.scanner.config.choices import (DEFAULT_END, DEFAULT_START, DIRECTIONS, INSTRUMENTS, MAX_NAME_LENGTH,
                                               MAX_SIGNALS_PER_DAY, MAX_SYMBOL_LENGTH, MAX_SYMBOLS, MODES, NAME,
                                               SCAN_TYPES, STRATEGIES, SYMBOL, TIMEFRAME, UNIT_SECONDS, WEEKDAYS,
                                               WEEKEND_NAMES)
from processors.scanner.config.mapping import (format_duration, format_time, interval_problem, read_config,
                                               read_days, read_interval, read_time, write_fields)
from processors.scanner.config.rules import ScannerRules
from processors.scanner.config.sections import (FuturesSettings, OptionSettings, OrderSettings, SanitySettings,
                                                read_futures, read_option, read_order, read_sanity)
from processors.scanner.config.table import Field, Table, apply
from processors.scanner.config.trading import (ChargesSettings, RiskSettings, TradeSettings, read_charges,
                                               read_risk, read_trade)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScannerConfig:
    """A scanner's settings, validated (see `processors.scanner.config` for each one). Construct it
    with `from_mapping` from loaded JSON/YAML, or directly with Python values; either raises
    `ScannerConfigError` listing every invalid setting. `rules` holds the compiled rules and the
    strategy's compiled conditions."""

    name: str
    type: str
    instrument: str
    expiry: str | None = None
    option: OptionSettings | None = None
    futures: FuturesSettings | None = None
    days: tuple[str, ...]
    start_time: dt.time = DEFAULT_START
    end_time: dt.time = DEFAULT_END
    extended_hours: bool = False
    interval: dt.timedelta
    max_signals_per_day: int
    max_signals_per_symbol: int
    direction: str
    mode: str
    symbols: tuple[str, ...]
    primary: str | None = None
    correlated: str | None = None
    timeframe: str
    strategy: str = "rules"
    entry_rules: tuple[str, ...] = ()
    exit_rules: tuple[str, ...] = ()
    sanity: SanitySettings = SanitySettings()
    order: OrderSettings
    risk: RiskSettings | None = None
    trade: TradeSettings | None = None
    charges: ChargesSettings = ChargesSettings()
    rules: ScannerRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        apply(self, CONFIG)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScannerConfig:
        """The config written in `data` (a dict loaded from JSON or YAML); ScannerConfigError listing
        every unknown key, missing setting, value of the wrong type and invalid value."""
        return cls(**read_config(CONFIG, data))

    def to_mapping(self) -> dict[str, Any]:
        """The settings as plain JSON/YAML values, every default written out; `from_mapping` of the
        result equals this config. Optional settings that are not set are left out."""
        return write_fields(CONFIG, self)

    @property
    def interval_s(self) -> int:
        """The evaluation interval in whole seconds."""
        return self.interval // dt.timedelta(seconds=1)

    @property
    def timeframe_s(self) -> int:
        """The indicator timeframe in seconds (5m is 300)."""
        return int(self.timeframe[:-1]) * UNIT_SECONDS[self.timeframe[-1]]

    @property
    def weekdays(self) -> frozenset[int]:
        """The scan days as Python weekday numbers (Monday is 0)."""
        return frozenset(WEEKDAYS.index(day) for day in self.days)

    def window_utc(self, date: dt.date) -> tuple[int, int]:
        """The scan window [start, end) of `date` as UTC epoch nanoseconds: `start_time` and
        `end_time` are ET wall times, so the UTC offset follows daylight saving time (09:30 ET is
        14:30 UTC in winter, 13:30 UTC in summer). Whether `date` is a trading day is not checked."""
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            raise ValueError(f"date must be a datetime.date, got {describe(date)}")
        return to_ns(date, self.start_time), to_ns(date, self.end_time)


# The checks of single settings -------------------------------------------------------------------

def _name(checker: Checker, name: str, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, str):
        return checker.add(name, f"must be text, got {describe(value)}")
    if not value.strip():
        return checker.add(name, "must not be empty")
    if len(value) > MAX_NAME_LENGTH:
        return checker.add(name, f"must be at most {MAX_NAME_LENGTH} characters, got {len(value)}")
    if not NAME.fullmatch(value):
        bad = sorted({char for char in value if not NAME.fullmatch(char)})
        return checker.add(name, "may hold only letters A-Z and a-z, digits, spaces, '_', '-' and '.', "
                                 f"not {', '.join(map(repr, bad))}")
    if value != value.strip():
        return checker.add(name, f"must not start or end with a space, got {value!r}")
    return value


def _days(checker: Checker, name: str, value: Any) -> Any:
    """Distinct weekdays, stored in calendar order."""
    if value is INVALID:
        return INVALID
    if not isinstance(value, (list, tuple)):
        return checker.add(name, f"must be a list of weekdays from {', '.join(WEEKDAYS)}, got {describe(value)}")
    if not value:
        return checker.add(name, f"must name at least one weekday ({', '.join(WEEKDAYS)}), or be \"all\"")
    valid = True
    seen: set[str] = set()
    for index, day in enumerate(value):
        where = f"{name}[{index}]"
        if isinstance(day, str) and day.lower() in WEEKEND_NAMES:
            checker.add(where, f"{day!r} is not a trading day: U.S. markets trade Mon-Fri; "
                               f"use {', '.join(WEEKDAYS)}")
        elif not isinstance(day, str):
            checker.add(where, f"must be one of {', '.join(WEEKDAYS)}, got {describe(day)}")
        elif day not in WEEKDAYS:  # "monday" and "Mon" suggest "mon"
            checker.add(where, f"must be one of {', '.join(WEEKDAYS)}, got {day!r}{suggestion(day[:3], WEEKDAYS)}")
        elif day in seen:
            checker.add(where, f"{day!r} is listed twice")
        else:
            seen.add(day)
            continue
        valid = False
    return tuple(sorted(value, key=WEEKDAYS.index)) if valid else INVALID


def _interval(checker: Checker, name: str, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, dt.timedelta):
        return checker.add(name, f"must be a datetime.timedelta, got {describe(value)}")
    problem = interval_problem(Decimal(value // dt.timedelta(microseconds=1)) / 1_000_000)
    return checker.add(name, problem) if problem else value


def _symbols(checker: Checker, name: str, value: Any) -> Any:
    """1 to MAX_SYMBOLS distinct symbols, as a tuple."""
    if value is INVALID:
        return INVALID
    if not isinstance(value, (list, tuple)):
        return checker.add(name, f"must be a list of symbols such as [SPY, QQQ], got {describe(value)}")
    if not value:
        return checker.add(name, "must list at least one symbol")
    valid = True
    if len(value) > MAX_SYMBOLS:
        checker.add(name, f"must list at most {MAX_SYMBOLS} symbols, got {len(value)}")
        valid = False
    seen: set[str] = set()
    for index, symbol in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(symbol, str) or not SYMBOL.fullmatch(symbol) or len(symbol) > MAX_SYMBOL_LENGTH:
            checker.add(where, f"must be an upper-case symbol of at most {MAX_SYMBOL_LENGTH} characters such as "
                               f"SPY, BRK.B or ESZ6 (a capital letter, then capitals, digits and dots), "
                               f"got {shown(symbol)}")
        elif symbol in seen:
            checker.add(where, f"{symbol!r} is listed twice")
        else:
            seen.add(symbol)
            continue
        valid = False
    return tuple(value) if valid else INVALID


def _timeframe(checker: Checker, name: str, value: Any) -> Any:
    if value is not INVALID and (not isinstance(value, str) or not TIMEFRAME.fullmatch(value)):
        return checker.add(name, "must be a bar timeframe: a whole number of minutes or hours from 1 up, or 1d, "
                                 f"such as 5m, 15m, 1h or 1d; got {shown(value)}")
    return value


# The table ---------------------------------------------------------------------------------------

CONFIG = Table(ScannerConfig, (
    Field("name", check=_name),
    Field("type", check=choice(SCAN_TYPES)),
    Field("instrument", check=choice(INSTRUMENTS)),
    Field("expiry"),  # expiry, option and futures: checked against the instrument (`cross`)
    Field("option", read=read_option, write=OptionSettings.to_mapping),
    Field("futures", read=read_futures, write=FuturesSettings.to_mapping),
    Field("days", check=_days, read=read_days, write=list),
    Field("start_time", check=wall_time, read=read_time, write=format_time),
    Field("end_time", check=wall_time, read=read_time, write=format_time),
    Field("extended_hours", check=boolean),
    Field("interval", check=_interval, read=read_interval, write=format_duration),
    Field("max_signals_per_day", check=integer(1, MAX_SIGNALS_PER_DAY)),
    Field("max_signals_per_symbol", check=integer(1, MAX_SIGNALS_PER_DAY)),
    Field("direction", check=choice(DIRECTIONS)),
    Field("mode", check=choice(MODES)),
    Field("symbols", check=_symbols, write=list),
    Field("primary"),  # primary, correlated and the rules: checked against the symbols (`cross`)
    Field("correlated"),
    Field("timeframe", check=_timeframe),
    Field("strategy", check=choice(STRATEGIES)),
    Field("entry_rules", write=list),
    Field("exit_rules", write=list),
    Field("sanity", check=instance(SanitySettings), read=read_sanity, write=SanitySettings.to_mapping),
    Field("order", check=instance(OrderSettings), read=read_order, write=OrderSettings.to_mapping),
    Field("risk", check=optional(instance(RiskSettings)), read=read_risk, write=RiskSettings.to_mapping),
    Field("trade", check=optional(instance(TradeSettings)), read=read_trade, write=TradeSettings.to_mapping),
    Field("charges", check=instance(ChargesSettings), read=read_charges, write=ChargesSettings.to_mapping),
), cross=(cross.instrument_sections, cross.window, cross.evaluated_window, cross.signal_limits, cross.pair, cross.rules,
          cross.order_for_instrument, cross.trading), in_setting_order=True)

"""The scanner (SS) configuration: one frozen, validated model of everything a scanner needs.

A scanner watches `symbols` on `days` between `start_time` and `end_time` (ET wall times), every
`interval`, evaluates its entry and exit rules on `timeframe` bars, emits at most
`max_signals_per_day` signals (`max_signals_per_symbol` per symbol), and describes the orders its
signals become in `order`.

    config = ScannerConfig.from_mapping(yaml.safe_load(text))  # ScannerConfigError lists every bad field
    config.rules.entry                                         # the compiled entry rules
    config.window_utc(dt.date(2026, 3, 9))                     # the day's [start, end) in UTC ns
    ScannerConfig.from_mapping(config.to_mapping()) == config  # True

Settings (the mapping's keys; the plan's SS-* names are these keys without the prefix):

    name                     1-64 letters, digits, spaces, _ - . (required)
    type                     intraday | positional (required)
    instrument               equity | etf | option | futures (required)
    expiry                   weekly | monthly: required for option and futures, absent otherwise
    option                   section, required iff instrument is option:
        right                    call | put (required)
        category                 ATM | ITM | OTM | DITM | DOTM (required)
        category_split           CategorySplit fields: mode count (itm_strikes, otm_strikes,
                                 deep_strikes) or percent (itm_pct, otm_pct, deep_pct); default count 1/1/5
        min_days_to_expiry       whole number >= 0, default 0
    futures                  section, required iff instrument is futures:
        root                     a root of `ticks.FUTURES_SPECS` (ES, NQ, CL, GC, ZN) (required)
        roll                     days_before_expiry | volume | open_interest, default days_before_expiry
        roll_days                0-30 business days before expiry (the backstop of volume and
                                 open-interest rolls too), default 5
    days                     list of mon..fri, or "all" (required)
    start_time, end_time     "HH:MM" ET, default "09:30" and "16:00"; start before end; within the
                             regular session 09:30-16:00 ET unless extended_hours
    extended_hours           true allows 04:00-20:00 ET, default false
    interval                 how often the scanner evaluates: "30s", "1m", "5m", "1h" ... 1s to 1d,
                             a whole number of seconds (required)
    max_signals_per_day      whole number >= 1 (required)
    max_signals_per_symbol   whole number >= 1, at most max_signals_per_day (required)
    direction                long | short | both (required)
    mode                     live | virtual (required)
    symbols                  1-50 distinct upper-case symbols (SPY, BRK.B, ESZ6) (required)
    primary, correlated      optional, two different members of symbols
    timeframe                indicator bars: "<n>m", "<n>h" or "1d" (required)
    strategy                 rules | correlation (the built-in strategy on primary and correlated),
                             default rules
    entry_rules, exit_rules  lists of rule texts (see `processors.rules`), compiled against symbols;
                             entry_rules needs one rule or more unless strategy is correlation
    sanity                   section: max_deviation_pct (number > 0, default 10),
                             max_staleness_seconds (whole number > 0, default 120)
    order                    section (required):
        exchange                 SMART | NYSE | NASDAQ | CBOE (CBOE for options only) (required)
        order_type               market | limit | stop | stop_limit (required)
        product                  margin | cash (required; selling equities short needs margin)
        quantity                 whole number >= 1 (required)
        limit_offset_ticks       >= 0, default 0; only for limit and stop_limit
        stop_offset_ticks        >= 0, default 0; only for stop and stop_limit
        multiplier               >= 1; default 100 for options, the root's multiplier for futures,
                                 1 for equities and ETFs (which allow only 1)

`from_mapping` parses JSON/YAML-loaded data strictly: a value of the wrong type (the text "5" for a
whole number) or an unknown key is an error, like an out-of-range value. Constructing the dataclasses
directly validates the same way (with Python values: `datetime.time`, `timedelta`, `Decimal`). Times
are ET wall times; `window_utc` converts them to UTC for one date (DST-correct, via America/New_York).
Pure: no I/O, no clock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final

from processors.calendar import SessionHours, to_ns
from processors.instruments.futures import ROLL_MODES, RollRule
from processors.instruments.options import EXPIRY_KINDS, RIGHTS, CategorySplit, StrikeCategory
from processors.instruments.ticks import FUTURES_SPECS, FuturesSpec
from processors.rules import Rule, RuleError, compile_rule
from processors.strategies.entry import entry_conditions
from processors.scanner.errors import FieldError, ScannerConfigError

__all__ = [
    "DIRECTIONS",
    "EXCHANGES",
    "INSTRUMENTS",
    "MODES",
    "ORDER_TYPES",
    "PRODUCTS",
    "SCAN_TYPES",
    "STRATEGIES",
    "WEEKDAYS",
    "FieldError",
    "FuturesSettings",
    "OptionSettings",
    "OrderSettings",
    "SanitySettings",
    "ScannerConfig",
    "ScannerConfigError",
    "ScannerRules",
]

SCAN_TYPES = ("intraday", "positional")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")  # index = Python's weekday() number
WEEKEND_NAMES = frozenset({"sat", "sun", "saturday", "sunday"})
DIRECTIONS = ("long", "short", "both")
INSTRUMENTS = ("equity", "etf", "option", "futures")
DERIVATIVES = ("option", "futures")
MODES = ("live", "virtual")
STRATEGIES = ("rules", "correlation")
EXCHANGES = ("SMART", "NYSE", "NASDAQ", "CBOE")
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
LIMIT_ORDER_TYPES = ("limit", "stop_limit")
STOP_ORDER_TYPES = ("stop", "stop_limit")
PRODUCTS = ("margin", "cash")
CATEGORY_NAMES = tuple(category.value for category in StrikeCategory)

MAX_NAME_LENGTH = 64
MAX_SYMBOLS = 50
MAX_SYMBOL_LENGTH = 16
MAX_ROLL_DAYS = 30
OPTION_MULTIPLIER = 100

# The session hours the window is checked against (ET): regular 09:30-16:00, extended 04:00-20:00.
SESSION_HOURS = SessionHours()
DEFAULT_START = SESSION_HOURS.regular_open
DEFAULT_END = SESSION_HOURS.regular_close

MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 86400  # one day
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

_NAME = re.compile(r"[A-Za-z0-9 _.\-]+")
_SYMBOL = re.compile(r"[A-Z][A-Z0-9]*(?:\.[A-Z0-9]+)*")  # also a symbol in the rule language
_TIMEFRAME = re.compile(r"[1-9][0-9]*[mh]|1d")
_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")


class _Invalid(Enum):
    """Marks a value that already failed (its error is recorded); later checks skip it."""

    VALUE = "invalid"


INVALID: Final = _Invalid.VALUE


@dataclass(frozen=True, slots=True)
class _Partial:
    """A section that has errors: its values (INVALID where they failed), for cross-field checks."""

    values: Mapping[str, Any]


# The checks shared by the constructors and `from_mapping` ---------------------------------------

def _join(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _suggestion(word: object, candidates: Collection[str]) -> str:
    if not isinstance(word, str):
        return ""
    lowered = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


class _Checker:
    """Collects the errors of one mapping or object; each check returns the (normalised) value, or
    INVALID after recording why. A check given INVALID returns INVALID without a second error."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, name: str, message: str) -> _Invalid:
        self.errors.append(FieldError(_join(self.prefix, name), message))
        return INVALID

    def extend(self, name: str, errors: list[FieldError]) -> None:
        self.errors.extend(FieldError(_join(_join(self.prefix, name), error.field), error.message) for error in errors)

    def choice(self, name: str, value: Any, choices: tuple[str, ...]) -> Any:
        if value is INVALID:
            return INVALID
        if isinstance(value, str) and value in choices:
            return value
        shown = repr(value) if isinstance(value, str) else _describe(value)
        return self.add(name, f"must be one of {', '.join(choices)}, got {shown}{_suggestion(value, choices)}")

    def integer(self, name: str, value: Any, minimum: int, maximum: int | None = None) -> Any:
        if value is INVALID:
            return INVALID
        if not _is_int(value):
            return self.add(name, f"must be a whole number, got {_describe(value)}")
        if value < minimum:
            return self.add(name, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            return self.add(name, f"must be at most {maximum}, got {value}")
        return value

    def boolean(self, name: str, value: Any) -> Any:
        if value is INVALID or isinstance(value, bool):
            return value
        return self.add(name, f"must be true or false, got {_describe(value)}")

    def positive_decimal(self, name: str, value: Any) -> Any:
        if value is INVALID:
            return INVALID
        if isinstance(value, float):
            return self.add(name, f"must be a Decimal, got float {value!r}; convert floats with Decimal(str(x))")
        if not isinstance(value, Decimal) and not _is_int(value):
            return self.add(name, f"must be a number, got {_describe(value)}")
        number = Decimal(value)
        if not number.is_finite():
            return self.add(name, f"must be a finite number, got {value}")
        if number <= 0:
            return self.add(name, f"must be greater than 0, got {value}")
        return number

    def text_list(self, name: str, value: Any, what: str) -> Any:
        """A list (or tuple) whose items are all text, as a tuple."""
        if value is INVALID:
            return INVALID
        if not isinstance(value, (list, tuple)):
            return self.add(name, f"must be a list of {what}, got {_describe(value)}")
        valid = True
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.add(f"{name}[{index}]", f"must be text, got {_describe(item)}")
                valid = False
        return tuple(value) if valid else INVALID

    def instance(self, name: str, value: Any, kind: type, optional: bool = False) -> Any:
        if value is INVALID or isinstance(value, (kind, _Partial)) or (optional and value is None):
            return value
        return self.add(name, f"must be a {kind.__name__}, got {_describe(value)}")


def _apply_checks(instance: Any, check: Callable[[dict[str, Any]], tuple[list[FieldError], dict[str, Any]]]) -> None:
    """Run `check` on a dataclass's init fields; raise its errors, or store its normalised values."""
    values = {item.name: getattr(instance, item.name) for item in dataclasses.fields(instance) if item.init}
    errors, normalised = check(values)
    if errors:
        raise ScannerConfigError(errors)
    for name, value in normalised.items():
        object.__setattr__(instance, name, value)


def _defaults(cls: type) -> dict[str, Any]:
    return {item.name: item.default for item in dataclasses.fields(cls)
            if item.init and item.default is not dataclasses.MISSING}


def _value(section: Any, name: str) -> Any:
    """A setting of a section that may be valid, partial, INVALID or absent (None)."""
    if isinstance(section, _Partial):
        return section.values.get(name, INVALID)
    if section is None or section is INVALID:
        return INVALID
    return getattr(section, name)


def _format_time(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _format_duration(value: dt.timedelta) -> str:
    seconds = value // dt.timedelta(seconds=1)
    for unit in ("d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def _check_wall_time(checker: _Checker, name: str, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, dt.time):
        return checker.add(name, f"must be a datetime.time (ET wall time), got {_describe(value)}")
    if value.tzinfo is not None:
        return checker.add(name, f"must be a naive ET wall time without tzinfo, got {value.isoformat()}")
    if value.second or value.microsecond:
        return checker.add(name, f"must be a whole minute (HH:MM), got {value.isoformat()}")
    return value


def _interval_problem(seconds: Decimal) -> str | None:
    if seconds != seconds.to_integral_value():
        return f"must be a whole number of seconds, got {seconds.normalize():f} seconds"
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        return f"must be from 1s to 1d (86400 seconds), got {seconds.normalize():f} seconds"
    return None


# The sections -----------------------------------------------------------------------------------

def _check_option(values: dict[str, Any]) -> tuple[list[FieldError], dict[str, Any]]:
    checker = _Checker()
    right = checker.choice("right", values["right"], RIGHTS)
    category = values["category"]
    if category is not INVALID:
        if isinstance(category, str) and category.upper() in CATEGORY_NAMES:
            category = StrikeCategory(category.upper())
        else:
            shown = repr(category) if isinstance(category, str) else _describe(category)
            category = checker.add("category", f"must be one of {', '.join(CATEGORY_NAMES)}, got {shown}")
    checker.instance("category_split", values["category_split"], CategorySplit)
    checker.integer("min_days_to_expiry", values["min_days_to_expiry"], 0)
    return checker.errors, {"right": right, "category": category}


@dataclass(frozen=True, slots=True, kw_only=True)
class OptionSettings:
    """Which option of each symbol a signal trades: the `right`, the strike `category` relative to
    the underlying price (how far ITM/OTM/deep reach is `category_split`), and the nearest expiry
    (of the config's `expiry` kind) at least `min_days_to_expiry` calendar days away."""

    right: str
    category: StrikeCategory
    category_split: CategorySplit = CategorySplit()
    min_days_to_expiry: int = 0

    def __post_init__(self) -> None:
        _apply_checks(self, _check_option)

    def to_mapping(self) -> dict[str, Any]:
        split = self.category_split
        if split.mode == "count":
            split_mapping: dict[str, Any] = {"mode": "count", "itm_strikes": split.itm_strikes,
                                             "otm_strikes": split.otm_strikes, "deep_strikes": split.deep_strikes}
        else:
            split_mapping = {"mode": "percent", "itm_pct": str(split.itm_pct), "otm_pct": str(split.otm_pct),
                             "deep_pct": str(split.deep_pct)}
        return {"right": self.right, "category": self.category.value, "category_split": split_mapping,
                "min_days_to_expiry": self.min_days_to_expiry}


def _check_futures(values: dict[str, Any]) -> tuple[list[FieldError], dict[str, Any]]:
    checker = _Checker()
    root = values["root"]
    if root is not INVALID and (not isinstance(root, str) or root not in FUTURES_SPECS):
        shown = repr(root) if isinstance(root, str) else _describe(root)
        checker.add("root", f"must be a futures root with a known spec ({', '.join(sorted(FUTURES_SPECS))}), "
                            f"got {shown}{_suggestion(root, FUTURES_SPECS)}")
    checker.choice("roll", values["roll"], ROLL_MODES)
    checker.integer("roll_days", values["roll_days"], 0, MAX_ROLL_DAYS)
    return checker.errors, {}


@dataclass(frozen=True, slots=True, kw_only=True)
class FuturesSettings:
    """Which futures contract of `root` a signal trades, and when it moves to the next one: `roll`
    days_before_expiry rolls `roll_days` business days before the last trading day; volume and
    open_interest roll when the next contract's volume (open interest) overtakes, at the latest
    `roll_days` business days before (see `futures.RollRule`)."""

    root: str
    roll: str = "days_before_expiry"
    roll_days: int = 5

    def __post_init__(self) -> None:
        _apply_checks(self, _check_futures)

    @property
    def spec(self) -> FuturesSpec:
        return FUTURES_SPECS[self.root]

    @property
    def roll_rule(self) -> RollRule:
        return RollRule(mode=self.roll, days_before_expiry=self.roll_days)

    def to_mapping(self) -> dict[str, Any]:
        return {"root": self.root, "roll": self.roll, "roll_days": self.roll_days}


def _check_sanity(values: dict[str, Any]) -> tuple[list[FieldError], dict[str, Any]]:
    checker = _Checker()
    deviation = checker.positive_decimal("max_deviation_pct", values["max_deviation_pct"])
    checker.integer("max_staleness_seconds", values["max_staleness_seconds"], 1)
    return checker.errors, {"max_deviation_pct": deviation}


@dataclass(frozen=True, slots=True, kw_only=True)
class SanitySettings:
    """When a price is not trusted: more than `max_deviation_pct` percent (10 is 10 %) away from
    the previous one, or older than `max_staleness_seconds`."""

    max_deviation_pct: Decimal = Decimal(10)
    max_staleness_seconds: int = 120

    def __post_init__(self) -> None:
        _apply_checks(self, _check_sanity)

    def to_mapping(self) -> dict[str, Any]:
        return {"max_deviation_pct": str(self.max_deviation_pct), "max_staleness_seconds": self.max_staleness_seconds}


def _check_order(values: dict[str, Any]) -> tuple[list[FieldError], dict[str, Any]]:
    checker = _Checker()
    checker.choice("exchange", values["exchange"], EXCHANGES)
    order_type = checker.choice("order_type", values["order_type"], ORDER_TYPES)
    checker.choice("product", values["product"], PRODUCTS)
    checker.integer("quantity", values["quantity"], 1)
    limit_offset = checker.integer("limit_offset_ticks", values["limit_offset_ticks"], 0)
    stop_offset = checker.integer("stop_offset_ticks", values["stop_offset_ticks"], 0)
    if values["multiplier"] is not None:
        checker.integer("multiplier", values["multiplier"], 1)
    if order_type is not INVALID:
        if limit_offset not in (INVALID, 0) and order_type not in LIMIT_ORDER_TYPES:
            checker.add("limit_offset_ticks", f"is only used with order_type limit or stop_limit, not {order_type}; "
                                              "remove it or set it to 0")
        if stop_offset not in (INVALID, 0) and order_type not in STOP_ORDER_TYPES:
            checker.add("stop_offset_ticks", f"is only used with order_type stop or stop_limit, not {order_type}; "
                                             "remove it or set it to 0")
    return checker.errors, {}


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSettings:
    """The orders a signal becomes: routed to `exchange`, of `order_type` (a limit price
    `limit_offset_ticks` ticks beyond the signal price for limit and stop_limit, a stop price
    `stop_offset_ticks` away for stop and stop_limit), in a `product` (margin or cash) account,
    `quantity` shares or contracts of `multiplier` units each. A multiplier of None means the
    instrument's default; `ScannerConfig` replaces it with that default (100, the futures root's, or 1)."""

    exchange: str
    order_type: str
    product: str
    quantity: int
    limit_offset_ticks: int = 0
    stop_offset_ticks: int = 0
    multiplier: int | None = None

    def __post_init__(self) -> None:
        _apply_checks(self, _check_order)

    def to_mapping(self) -> dict[str, Any]:
        mapping = {"exchange": self.exchange, "order_type": self.order_type, "product": self.product,
                   "quantity": self.quantity, "limit_offset_ticks": self.limit_offset_ticks,
                   "stop_offset_ticks": self.stop_offset_ticks}
        if self.multiplier is not None:
            mapping["multiplier"] = self.multiplier
        return mapping


@dataclass(frozen=True, slots=True)
class ScannerRules:
    """The compiled rules of a config, in the order written (see `processors.rules.RuleEvaluator`)."""

    entry: tuple[Rule, ...]
    exit: tuple[Rule, ...]


# The whole config -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class ScannerConfig:
    """A scanner's settings, validated (see the module docstring for each one). Construct it with
    `from_mapping` from loaded JSON/YAML, or directly with Python values; either raises
    `ScannerConfigError` listing every invalid setting. `rules` holds the compiled rules."""

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
    rules: ScannerRules = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        values = {item.name: getattr(self, item.name) for item in dataclasses.fields(self) if item.init}
        errors, normalised, rules = _check_config(values)
        if errors:
            raise ScannerConfigError(errors)
        for name, value in normalised.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "rules", rules)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ScannerConfig:
        """The config written in `data` (a dict loaded from JSON or YAML); ScannerConfigError listing
        every unknown key, missing setting, value of the wrong type and invalid value."""
        return _parse_config(data)

    def to_mapping(self) -> dict[str, Any]:
        """The settings as plain JSON/YAML values, every default written out; `from_mapping` of the
        result equals this config. Optional settings that are not set are left out."""
        mapping: dict[str, Any] = {"name": self.name, "type": self.type, "instrument": self.instrument}
        if self.expiry is not None:
            mapping["expiry"] = self.expiry
        if self.option is not None:
            mapping["option"] = self.option.to_mapping()
        if self.futures is not None:
            mapping["futures"] = self.futures.to_mapping()
        mapping |= {
            "days": list(self.days),
            "start_time": _format_time(self.start_time),
            "end_time": _format_time(self.end_time),
            "extended_hours": self.extended_hours,
            "interval": _format_duration(self.interval),
            "max_signals_per_day": self.max_signals_per_day,
            "max_signals_per_symbol": self.max_signals_per_symbol,
            "direction": self.direction,
            "mode": self.mode,
            "symbols": list(self.symbols),
        }
        if self.primary is not None:
            mapping["primary"] = self.primary
        if self.correlated is not None:
            mapping["correlated"] = self.correlated
        mapping |= {
            "timeframe": self.timeframe,
            "strategy": self.strategy,
            "entry_rules": list(self.entry_rules),
            "exit_rules": list(self.exit_rules),
            "sanity": self.sanity.to_mapping(),
            "order": self.order.to_mapping(),
        }
        return mapping

    @property
    def interval_s(self) -> int:
        """The evaluation interval in whole seconds."""
        return self.interval // dt.timedelta(seconds=1)

    @property
    def timeframe_s(self) -> int:
        """The indicator timeframe in seconds (5m is 300)."""
        return int(self.timeframe[:-1]) * _UNIT_SECONDS[self.timeframe[-1]]

    @property
    def weekdays(self) -> frozenset[int]:
        """The scan days as Python weekday numbers (Monday is 0)."""
        return frozenset(WEEKDAYS.index(day) for day in self.days)

    def window_utc(self, date: dt.date) -> tuple[int, int]:
        """The scan window [start, end) of `date` as UTC epoch nanoseconds: `start_time` and
        `end_time` are ET wall times, so the UTC offset follows daylight saving time (09:30 ET is
        14:30 UTC in winter, 13:30 UTC in summer). Whether `date` is a trading day is not checked."""
        if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
            raise ValueError(f"date must be a datetime.date, got {_describe(date)}")
        return to_ns(date, self.start_time), to_ns(date, self.end_time)


_FIELD_ORDER = {item.name: index for index, item in enumerate(dataclasses.fields(ScannerConfig))}
_TOP_LEVEL = re.compile(r"[^.\[]*")


def _in_field_order(errors: list[FieldError]) -> list[FieldError]:
    def key(error: FieldError) -> int:
        top = _TOP_LEVEL.match(error.field)
        return _FIELD_ORDER.get(top.group() if top else "", len(_FIELD_ORDER))
    return sorted(errors, key=key)


def _check_config(values: dict[str, Any]) -> tuple[list[FieldError], dict[str, Any], ScannerRules | None]:
    """Every check of the config on `values` (INVALID, or a `_Partial` section, where parsing already
    failed): the errors in field order, the normalised values, and the compiled rules."""
    checker = _Checker()
    normalised: dict[str, Any] = {}

    name = values["name"]
    if name is not INVALID:
        if not isinstance(name, str):
            checker.add("name", f"must be text, got {_describe(name)}")
        elif not name.strip():
            checker.add("name", "must not be empty")
        elif len(name) > MAX_NAME_LENGTH:
            checker.add("name", f"must be at most {MAX_NAME_LENGTH} characters, got {len(name)}")
        elif not _NAME.fullmatch(name):
            bad = sorted({char for char in name if not _NAME.fullmatch(char)})
            checker.add("name", "may hold only letters A-Z and a-z, digits, spaces, '_', '-' and '.', "
                                f"not {', '.join(map(repr, bad))}")
        elif name != name.strip():
            checker.add("name", f"must not start or end with a space, got {name!r}")

    checker.choice("type", values["type"], SCAN_TYPES)
    instrument = checker.choice("instrument", values["instrument"], INSTRUMENTS)
    _check_instrument_sections(checker, values, instrument)

    days = _check_days(checker, values["days"])
    if days is not INVALID:
        normalised["days"] = days

    start = _check_wall_time(checker, "start_time", values["start_time"])
    end = _check_wall_time(checker, "end_time", values["end_time"])
    extended = checker.boolean("extended_hours", values["extended_hours"])
    _check_window(checker, start, end, extended)

    interval = values["interval"]
    if interval is not INVALID:
        if not isinstance(interval, dt.timedelta):
            checker.add("interval", f"must be a datetime.timedelta, got {_describe(interval)}")
        else:
            problem = _interval_problem(Decimal(interval // dt.timedelta(microseconds=1)) / 1_000_000)
            if problem:
                checker.add("interval", problem)

    per_day = checker.integer("max_signals_per_day", values["max_signals_per_day"], 1)
    per_symbol = checker.integer("max_signals_per_symbol", values["max_signals_per_symbol"], 1)
    if per_day is not INVALID and per_symbol is not INVALID and per_symbol > per_day:
        checker.add("max_signals_per_symbol", f"must not exceed max_signals_per_day ({per_day}), got {per_symbol}")

    direction = checker.choice("direction", values["direction"], DIRECTIONS)
    checker.choice("mode", values["mode"], MODES)

    symbols = _check_symbols(checker, values["symbols"])
    if symbols is not INVALID:
        normalised["symbols"] = symbols
    # Even when one symbol is invalid, the others still say which symbols primary and the rules may name.
    raw_symbols = values["symbols"]
    named = (tuple(item for item in raw_symbols if isinstance(item, str))
             if isinstance(raw_symbols, (list, tuple)) else None)
    strategy = checker.choice("strategy", values["strategy"], STRATEGIES)
    _check_pair(checker, values, named, strategy)

    timeframe = values["timeframe"]
    if timeframe is not INVALID and (not isinstance(timeframe, str) or not _TIMEFRAME.fullmatch(timeframe)):
        shown = repr(timeframe) if isinstance(timeframe, str) else _describe(timeframe)
        checker.add("timeframe", f"must be a bar timeframe: a whole number of minutes or hours from 1 up, or 1d, "
                                 f"such as 5m, 15m, 1h or 1d; got {shown}")

    rule_symbols = None if named is None else set(named)
    entry = _compile_rules(checker, "entry_rules", values["entry_rules"], rule_symbols)
    exit_ = _compile_rules(checker, "exit_rules", values["exit_rules"], rule_symbols)
    if entry is not INVALID and not entry and strategy == "rules":
        checker.add("entry_rules", "needs at least one rule with strategy rules (only strategy correlation "
                                   "brings its own entry rules)")
    if entry is not INVALID:
        normalised["entry_rules"] = tuple(rule.text for rule in entry)
        _check_combined(checker, strategy, direction, values, entry, rule_symbols)
    if exit_ is not INVALID:
        normalised["exit_rules"] = tuple(rule.text for rule in exit_)

    checker.instance("sanity", values["sanity"], SanitySettings)
    order = checker.instance("order", values["order"], OrderSettings)
    multiplier = _check_order_for_instrument(checker, order, instrument, direction, values["futures"])
    if isinstance(order, OrderSettings) and multiplier is not INVALID and order.multiplier != multiplier:
        normalised["order"] = dataclasses.replace(order, multiplier=multiplier)

    if checker.errors:
        return _in_field_order(checker.errors), normalised, None
    return [], normalised, ScannerRules(entry, exit_)


def _check_instrument_sections(checker: _Checker, values: dict[str, Any], instrument: Any) -> None:
    expiry = values["expiry"]
    if expiry is not None:
        if instrument in ("equity", "etf"):
            checker.add("expiry", f"only applies to options and futures; remove it for instrument {instrument}")
        else:
            checker.choice("expiry", expiry, EXPIRY_KINDS)
    elif instrument in DERIVATIVES:
        checker.add("expiry", f"is required for instrument {instrument}: weekly or monthly")
    for section, kind in (("option", OptionSettings), ("futures", FuturesSettings)):
        value = values[section]
        if value is None:
            if instrument == section:
                checker.add(section, f"is required for instrument {section}")
        elif instrument is not INVALID and instrument != section:
            checker.add(section, f"only applies to instrument {section}; remove it for instrument {instrument}")
        else:
            checker.instance(section, value, kind)


def _check_days(checker: _Checker, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, (list, tuple)):
        return checker.add("days", f"must be a list of weekdays from {', '.join(WEEKDAYS)}, got {_describe(value)}")
    if not value:
        return checker.add("days", f"must name at least one weekday ({', '.join(WEEKDAYS)}), or be \"all\"")
    valid = True
    seen: set[str] = set()
    for index, day in enumerate(value):
        where = f"days[{index}]"
        if isinstance(day, str) and day.lower() in WEEKEND_NAMES:
            checker.add(where, f"{day!r} is not a trading day: U.S. markets trade Mon-Fri; "
                               f"use {', '.join(WEEKDAYS)}")
        elif not isinstance(day, str):
            checker.add(where, f"must be one of {', '.join(WEEKDAYS)}, got {_describe(day)}")
        elif day not in WEEKDAYS:  # "monday" and "Mon" suggest "mon"
            checker.add(where, f"must be one of {', '.join(WEEKDAYS)}, got {day!r}{_suggestion(day[:3], WEEKDAYS)}")
        elif day in seen:
            checker.add(where, f"{day!r} is listed twice")
        else:
            seen.add(day)
            continue
        valid = False
    return tuple(sorted(value, key=WEEKDAYS.index)) if valid else INVALID


def _check_window(checker: _Checker, start: Any, end: Any, extended: Any) -> None:
    if extended is True:
        low, high, session = SESSION_HOURS.pre_open, SESSION_HOURS.post_close, "the extended hours"
        hint = ""
    else:
        low, high, session = SESSION_HOURS.regular_open, SESSION_HOURS.regular_close, "the regular session"
        hint = (f"; set extended_hours: true to scan within {_format_time(SESSION_HOURS.pre_open)}-"
                f"{_format_time(SESSION_HOURS.post_close)} ET")
    span = f"{_format_time(low)}-{_format_time(high)} ET"
    if extended is INVALID:
        return
    if start is not INVALID and not low <= start <= high:
        checker.add("start_time", f"{_format_time(start)} is outside {session} {span}{hint}")
        start = INVALID
    if end is not INVALID and not low <= end <= high:
        checker.add("end_time", f"{_format_time(end)} is outside {session} {span}{hint}")
        end = INVALID
    if start is not INVALID and end is not INVALID and not start < end:
        checker.add("end_time", f"must be after start_time {_format_time(start)}, got {_format_time(end)}")


def _check_symbols(checker: _Checker, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, (list, tuple)):
        return checker.add("symbols", f"must be a list of symbols such as [SPY, QQQ], got {_describe(value)}")
    if not value:
        return checker.add("symbols", "must list at least one symbol")
    valid = True
    if len(value) > MAX_SYMBOLS:
        checker.add("symbols", f"must list at most {MAX_SYMBOLS} symbols, got {len(value)}")
        valid = False
    seen: set[str] = set()
    for index, symbol in enumerate(value):
        where = f"symbols[{index}]"
        if not isinstance(symbol, str) or not _SYMBOL.fullmatch(symbol) or len(symbol) > MAX_SYMBOL_LENGTH:
            shown = repr(symbol) if isinstance(symbol, str) else _describe(symbol)
            checker.add(where, f"must be an upper-case symbol of at most {MAX_SYMBOL_LENGTH} characters such as "
                               f"SPY, BRK.B or ESZ6 (a capital letter, then capitals, digits and dots), got {shown}")
        elif symbol in seen:
            checker.add(where, f"{symbol!r} is listed twice")
        else:
            seen.add(symbol)
            continue
        valid = False
    return tuple(value) if valid else INVALID


def _check_pair(checker: _Checker, values: dict[str, Any], symbols: tuple[str, ...] | None, strategy: Any) -> None:
    """primary and correlated: members of symbols (None: unknown), different, and required by
    strategy correlation."""
    pair: dict[str, str] = {}
    for name in ("primary", "correlated"):
        value = values[name]
        if value is None:
            if strategy == "correlation":
                checker.add(name, "is required by strategy correlation: name two of the symbols as primary and "
                                  "correlated")
            continue
        if value is INVALID:
            continue
        if not isinstance(value, str):
            checker.add(name, f"must be text (one of the symbols), got {_describe(value)}")
        elif symbols is not None and value not in symbols:
            checker.add(name, f"{value!r} is not among symbols ({', '.join(symbols)})")
        else:
            pair[name] = value
    if len(pair) == 2 and pair["primary"] == pair["correlated"]:
        checker.add("correlated", f"must differ from primary, got {pair['correlated']!r} for both")


def _check_combined(checker: _Checker, strategy: Any, direction: Any, values: dict[str, Any], entry: tuple,
                    symbols: set[str] | None) -> None:
    """The engine ANDs the entry rules (with the built-in conditions of the correlation strategy): a set
    that compiles rule by rule must also compile together, or the strategy would be refused at start."""
    if strategy is INVALID or direction is INVALID or not isinstance(values["timeframe"], str):
        return
    if strategy == "correlation" and not (isinstance(values["primary"], str) and isinstance(values["correlated"], str)):
        return
    texts = entry_conditions(strategy, direction, values["primary"], values["correlated"], values["timeframe"],
                             [rule.text for rule in entry])
    for text in filter(None, texts):
        try:
            compile_rule(text, symbols=symbols)
        except RuleError as error:
            checker.add("entry_rules", f"the rules cannot be evaluated together: {error.message}")
            return


def _compile_rules(checker: _Checker, name: str, value: Any, symbols: set[str] | None) -> Any:
    texts = checker.text_list(name, value, "rule texts")
    if texts is INVALID:
        return INVALID
    rules = []
    for index, text in enumerate(texts):
        try:
            rules.append(compile_rule(text, symbols=symbols))
        except RuleError as error:
            checker.add(f"{name}[{index}]", f"{error.message} at position {error.position}")
    return tuple(rules) if len(rules) == len(texts) else INVALID


def _check_order_for_instrument(checker: _Checker, order: Any, instrument: Any, direction: Any,
                                futures: Any) -> Any:
    """Order settings that depend on the instrument; the resolved multiplier (INVALID if unknown)."""
    exchange, product, multiplier = _value(order, "exchange"), _value(order, "product"), _value(order, "multiplier")
    if instrument is INVALID:
        return INVALID
    if exchange == "CBOE" and instrument != "option":
        others = "SMART" if instrument == "futures" else "SMART, NYSE or NASDAQ"  # no futures on NYSE, NASDAQ
        checker.add("order.exchange", f"CBOE routes options only; use {others} for instrument {instrument}")
    if instrument in ("equity", "etf"):
        if product == "cash" and direction in ("short", "both"):
            checker.add("order.product", f"a cash account cannot sell short; use margin for direction {direction}")
        if multiplier not in (None, 1, INVALID):
            checker.add("order.multiplier",
                        f"must be 1 for instrument {instrument} (one share per unit), got {multiplier}")
    if multiplier is not None:
        return multiplier
    if instrument == "option":
        return OPTION_MULTIPLIER
    if instrument == "futures":
        root = _value(futures, "root")
        return FUTURES_SPECS[root].multiplier if isinstance(root, str) and root in FUTURES_SPECS else INVALID
    return 1


# Parsing a mapping ------------------------------------------------------------------------------

_CONFIG_REQUIRED = ("name", "type", "instrument", "days", "interval", "max_signals_per_day",
                    "max_signals_per_symbol", "direction", "mode", "symbols", "timeframe", "order")


def _read_mapping(checker: _Checker, path: str, data: Any, known: Collection[str],
                  required: Collection[str]) -> dict[str, Any] | _Invalid:
    """The known keys of `data` (INVALID for missing required ones); errors for unknown keys."""
    if not isinstance(data, Mapping):
        return checker.add(path or "config", f"must be a mapping of settings (name: value), got {_describe(data)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in known:
            values[key] = value
        elif isinstance(key, str):
            checker.add(_join(path, key), f"unknown setting{_suggestion(key, known)}")
        else:
            checker.add(_join(path, repr(key)), "unknown setting: setting names are text")
    for key in required:
        if key not in values:
            values[key] = checker.add(_join(path, key), "required setting is missing")
    return values


def _parse_time(checker: _Checker, name: str, raw: Any) -> Any:
    if isinstance(raw, str):
        match = _TIME.fullmatch(raw)
        if match:
            return dt.time(int(match[1]), int(match[2]))
    hint = ""
    if _is_int(raw) and 0 <= raw < 24 * 60:
        hint = f" (YAML reads an unquoted {raw // 60}:{raw % 60:02d} as the number {raw}: quote the time)"
    shown = repr(raw) if isinstance(raw, str) else _describe(raw)
    return checker.add(name, f"must be an ET wall time written \"HH:MM\" such as \"09:30\", got {shown}{hint}")


def _parse_interval(checker: _Checker, raw: Any) -> Any:
    match = _DURATION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        shown = repr(raw) if isinstance(raw, str) else _describe(raw)
        return checker.add("interval", "must be a duration: a number and s, m, h or d, such as 30s, 1m, 5m, 15m "
                                       f"or 1h; got {shown}")
    seconds = Decimal(match[1]) * _UNIT_SECONDS[match[2]]
    problem = _interval_problem(seconds)
    if problem:
        return checker.add("interval", f"{problem} ({raw!r})")
    return dt.timedelta(seconds=int(seconds))


def _parse_days(checker: _Checker, raw: Any) -> Any:
    if raw == "all":
        return WEEKDAYS
    if isinstance(raw, (list, tuple)):
        return tuple(raw)
    shown = repr(raw) if isinstance(raw, str) else _describe(raw)
    return checker.add("days", f"must be a list of weekdays from {', '.join(WEEKDAYS)}, or \"all\", got {shown}")


def _parse_decimal(checker: _Checker, name: str, raw: Any) -> Any:
    """A number from JSON/YAML: an int, a float (by its shortest repr), a numeric text or a Decimal."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        return checker.add(name, f"must be a number, got {_describe(raw)}")
    try:
        number = Decimal(str(raw)) if isinstance(raw, (float, str)) else Decimal(raw)
    except InvalidOperation:
        return checker.add(name, f"must be a number such as 10 or 2.5, got {raw!r}")
    if not number.is_finite():
        return checker.add(name, f"must be a finite number, got {raw!r}")
    return number


def _build_section(checker: _Checker, path: str, cls: type, values: dict[str, Any], errors_before: int,
                   check: Callable[[dict[str, Any]], tuple[list[FieldError], dict[str, Any]]]) -> Any:
    """The section object, or a `_Partial` with the section's errors recorded in `checker`."""
    full = _defaults(cls) | values
    if len(checker.errors) > errors_before:  # parsing failed somewhere: add the other errors, no object
        errors, normalised = check(full)
        checker.extend(path, errors)
        return _Partial(full | normalised)
    try:
        return cls(**values)
    except ScannerConfigError as error:
        checker.extend(path, error.errors)
        return _Partial(full)


_SPLIT_INTEGERS = ("itm_strikes", "otm_strikes", "deep_strikes")
_SPLIT_DECIMALS = ("itm_pct", "otm_pct", "deep_pct")
_SPLIT_KEYS = ("mode", *_SPLIT_INTEGERS, *_SPLIT_DECIMALS)


def _parse_category_split(checker: _Checker, path: str, raw: Any) -> Any:
    errors_before = len(checker.errors)
    values = _read_mapping(checker, path, raw, _SPLIT_KEYS, ())
    if values is INVALID:
        return INVALID
    for name in _SPLIT_INTEGERS:
        if name in values and not _is_int(values[name]):
            values[name] = checker.add(_join(path, name), f"must be a whole number, got {_describe(values[name])}")
    for name in _SPLIT_DECIMALS:
        if name in values:
            values[name] = _parse_decimal(checker, _join(path, name), values[name])
    if "mode" in values and not isinstance(values["mode"], str):
        values["mode"] = checker.add(_join(path, "mode"), f"must be count or percent, got {_describe(values['mode'])}")
    if len(checker.errors) > errors_before:
        return INVALID
    try:
        return CategorySplit(**values)
    except ValueError as error:  # CategorySplit names the field first: "itm_strikes must be ..."
        message = str(error)
        first_word = message.split(" ", 1)[0]
        return checker.add(_join(path, first_word) if first_word in _SPLIT_KEYS else path, message)


def _parse_option(checker: _Checker, path: str, raw: Any) -> Any:
    errors_before = len(checker.errors)
    values = _read_mapping(checker, path, raw, ("right", "category", "category_split", "min_days_to_expiry"),
                           ("right", "category"))
    if values is INVALID:
        return INVALID
    if "category_split" in values:
        values["category_split"] = _parse_category_split(checker, _join(path, "category_split"),
                                                         values["category_split"])
    return _build_section(checker, path, OptionSettings, values, errors_before, _check_option)


def _parse_futures(checker: _Checker, path: str, raw: Any) -> Any:
    errors_before = len(checker.errors)
    values = _read_mapping(checker, path, raw, ("root", "roll", "roll_days"), ("root",))
    if values is INVALID:
        return INVALID
    return _build_section(checker, path, FuturesSettings, values, errors_before, _check_futures)


def _parse_sanity(checker: _Checker, path: str, raw: Any) -> Any:
    errors_before = len(checker.errors)
    values = _read_mapping(checker, path, raw, ("max_deviation_pct", "max_staleness_seconds"), ())
    if values is INVALID:
        return INVALID
    if "max_deviation_pct" in values:
        values["max_deviation_pct"] = _parse_decimal(checker, _join(path, "max_deviation_pct"),
                                                     values["max_deviation_pct"])
    return _build_section(checker, path, SanitySettings, values, errors_before, _check_sanity)


_ORDER_KEYS = ("exchange", "order_type", "product", "quantity", "limit_offset_ticks", "stop_offset_ticks",
               "multiplier")


def _parse_order(checker: _Checker, path: str, raw: Any) -> Any:
    errors_before = len(checker.errors)
    values = _read_mapping(checker, path, raw, _ORDER_KEYS, ("exchange", "order_type", "product", "quantity"))
    if values is INVALID:
        return INVALID
    return _build_section(checker, path, OrderSettings, values, errors_before, _check_order)


_SECTION_PARSERS: dict[str, Callable[[_Checker, str, Any], Any]] = {
    "option": _parse_option,
    "futures": _parse_futures,
    "sanity": _parse_sanity,
    "order": _parse_order,
}


def _parse_config(data: Any) -> ScannerConfig:
    checker = _Checker()
    known = [item.name for item in dataclasses.fields(ScannerConfig) if item.init]
    values = _read_mapping(checker, "", data, known, _CONFIG_REQUIRED)
    if values is INVALID:
        raise ScannerConfigError(checker.errors)
    if values.get("days", INVALID) is not INVALID:
        values["days"] = _parse_days(checker, values["days"])
    if values.get("interval", INVALID) is not INVALID:
        values["interval"] = _parse_interval(checker, values["interval"])
    for name in ("start_time", "end_time"):
        if name in values:
            values[name] = _parse_time(checker, name, values[name])
    for name, parse in _SECTION_PARSERS.items():
        if values.get(name) not in (None, INVALID):
            values[name] = parse(checker, name, values[name])
    if checker.errors or any(isinstance(value, _Partial) for value in values.values()):
        errors, _, _ = _check_config(_defaults(ScannerConfig) | values)
        raise ScannerConfigError(_in_field_order(checker.errors + errors))
    return ScannerConfig(**values)

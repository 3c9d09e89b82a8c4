"""The sections of a scanner configuration, each a frozen dataclass validated through its table:
`OptionSettings` (with the instruments module's `CategorySplit`), `FuturesSettings`,
`SanitySettings` and `OrderSettings`. The checks that need settings outside a section (the order
against the instrument) are in `cross`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from processors.instruments.futures import ROLL_MODES, RollRule
from processors.instruments.options import RIGHTS, CategorySplit, StrikeCategory
from processors.instruments.ticks import FUTURES_SPECS, FuturesSpec
from processors.scanner.config.checks import (INVALID, Checker, choice, instance, integer, join, number, optional,
                                              positive_decimal, shown, suggestion)
from processors.scanner.config.choices import (CATEGORY_NAMES, EXCHANGES, LIMIT_ORDER_TYPES, MAX_DAYS_TO_EXPIRY,
                                               MAX_DEVIATION_PCT, MAX_MULTIPLIER, MAX_OFFSET_TICKS, MAX_QUANTITY,
                                               MAX_ROLL_DAYS, MAX_STALENESS_SECONDS, MAX_STRIKES, ORDER_TYPES,
                                               PRODUCTS, STOP_ORDER_TYPES)
from processors.scanner.config.mapping import (read_decimal, read_fields, read_whole_number, read_word, section,
                                               write_fields)
from processors.scanner.config.table import Field, Table, apply


# Options -----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class OptionSettings:
    """Which option of each symbol a signal trades: the `right`, the strike `category` relative to
    the underlying price (how far ITM/OTM/deep reach is `category_split`; None: the universal settings'
    default split, `processors.settings.effects.option_category_split`), and the nearest expiry
    (of the config's `expiry` kind) at least `min_days_to_expiry` calendar days away."""

    right: str
    category: StrikeCategory
    category_split: CategorySplit | None = None
    min_days_to_expiry: int = 0

    def __post_init__(self) -> None:
        apply(self, OPTION)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(OPTION, self)


def _category(checker: Checker, name: str, value: Any) -> Any:
    """A strike category in any case, as the enum."""
    if value is INVALID:
        return INVALID
    if isinstance(value, str) and value.upper() in CATEGORY_NAMES:
        return StrikeCategory(value.upper())
    return checker.add(name, f"must be one of {', '.join(CATEGORY_NAMES)}, got {shown(value)}")


def _strikes(checker: Checker, name: str, raw: Any) -> Any:
    """A strike count as read: CategorySplit checks its lower bound and order, the scanner its upper bound."""
    value = read_whole_number(checker, name, raw)
    if value is not INVALID and value > MAX_STRIKES:
        return checker.add(name, f"must be at most {MAX_STRIKES:,} strikes, got {number(value)}")
    return value


# CategorySplit validates itself (raising ValueError); the table reads and writes it, and bounds the strike counts.
CATEGORY_SPLIT = Table(CategorySplit, (
    Field("itm_strikes", read=_strikes),
    Field("otm_strikes", read=_strikes),
    Field("deep_strikes", read=_strikes),
    Field("itm_pct", read=read_decimal),
    Field("otm_pct", read=read_decimal),
    Field("deep_pct", read=read_decimal),
    Field("mode", read=read_word("count or percent")),
))


def read_category_split(checker: Checker, path: str, data: Any) -> Any:
    errors_before = len(checker.errors)
    values = read_fields(checker, path, data, CATEGORY_SPLIT)
    if values is INVALID or len(checker.errors) > errors_before:
        return INVALID
    try:
        return CategorySplit(**values)
    except ValueError as error:  # CategorySplit names the field first: "itm_strikes must be ..."
        message = str(error)
        first_word = message.split(" ", 1)[0]
        return checker.add(join(path, first_word) if first_word in CATEGORY_SPLIT.names else path, message)


def check_category_split(checker: Checker, name: str, value: Any) -> Any:
    """A CategorySplit (made in Python or read) whose strike counts are at most MAX_STRIKES."""
    value = instance(CategorySplit)(checker, name, value)
    if isinstance(value, CategorySplit):
        for strikes in ("itm_strikes", "otm_strikes", "deep_strikes"):
            count = getattr(value, strikes)
            if count > MAX_STRIKES:
                return checker.add(join(name, strikes), f"must be at most {MAX_STRIKES:,} strikes, got {number(count)}")
    return value


def write_category_split(split: CategorySplit) -> dict[str, Any]:
    if split.mode == "count":
        return {"mode": "count", "itm_strikes": split.itm_strikes, "otm_strikes": split.otm_strikes,
                "deep_strikes": split.deep_strikes}
    return {"mode": "percent", "itm_pct": str(split.itm_pct), "otm_pct": str(split.otm_pct),
            "deep_pct": str(split.deep_pct)}


OPTION = Table(OptionSettings, (
    Field("right", check=choice(RIGHTS)),
    Field("category", check=_category, write=lambda category: category.value),
    Field("category_split", check=optional(check_category_split), read=read_category_split,
          write=write_category_split),
    Field("min_days_to_expiry", check=integer(0, MAX_DAYS_TO_EXPIRY)),
))


# Futures -----------------------------------------------------------------------------------------

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
        apply(self, FUTURES)

    @property
    def spec(self) -> FuturesSpec:
        return FUTURES_SPECS[self.root]

    @property
    def roll_rule(self) -> RollRule:
        return RollRule(mode=self.roll, days_before_expiry=self.roll_days)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(FUTURES, self)


def _root(checker: Checker, name: str, value: Any) -> Any:
    if value is not INVALID and (not isinstance(value, str) or value not in FUTURES_SPECS):
        return checker.add(name, f"must be a futures root with a known spec ({', '.join(sorted(FUTURES_SPECS))}), "
                                 f"got {shown(value)}{suggestion(value, FUTURES_SPECS)}")
    return value


FUTURES = Table(FuturesSettings, (
    Field("root", check=_root),
    Field("roll", check=choice(ROLL_MODES)),
    Field("roll_days", check=integer(0, MAX_ROLL_DAYS)),
))


# Sanity ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class SanitySettings:
    """When a price is not trusted: more than `max_deviation_pct` percent (10 is 10 %) away from
    the previous one, or older than `max_staleness_seconds`."""

    max_deviation_pct: Decimal = Decimal(10)
    max_staleness_seconds: int = 120

    def __post_init__(self) -> None:
        apply(self, SANITY)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(SANITY, self)


SANITY = Table(SanitySettings, (
    Field("max_deviation_pct", check=positive_decimal(MAX_DEVIATION_PCT), read=read_decimal, write=str),
    Field("max_staleness_seconds", check=integer(1, MAX_STALENESS_SECONDS)),
))


# Orders ------------------------------------------------------------------------------------------

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
        apply(self, ORDER)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(ORDER, self)


def _offsets(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """Each offset only with the order types that use it."""
    order_type, limit_offset, stop_offset = (checked["order_type"], checked["limit_offset_ticks"],
                                             checked["stop_offset_ticks"])
    if order_type is INVALID:
        return
    if limit_offset not in (INVALID, 0) and order_type not in LIMIT_ORDER_TYPES:
        checker.add("limit_offset_ticks", f"is only used with order_type limit or stop_limit, not {order_type}; "
                                          "remove it or set it to 0")
    if stop_offset not in (INVALID, 0) and order_type not in STOP_ORDER_TYPES:
        checker.add("stop_offset_ticks", f"is only used with order_type stop or stop_limit, not {order_type}; "
                                         "remove it or set it to 0")


ORDER = Table(OrderSettings, (
    Field("exchange", check=choice(EXCHANGES)),
    Field("order_type", check=choice(ORDER_TYPES)),
    Field("product", check=choice(PRODUCTS)),
    Field("quantity", check=integer(1, MAX_QUANTITY)),
    Field("limit_offset_ticks", check=integer(0, MAX_OFFSET_TICKS)),
    Field("stop_offset_ticks", check=integer(0, MAX_OFFSET_TICKS)),
    Field("multiplier", check=optional(integer(1, MAX_MULTIPLIER))),
), cross=(_offsets,))

# The readers of the sections inside the whole configuration.
read_option, read_futures, read_sanity, read_order = section(OPTION), section(FUTURES), section(SANITY), section(ORDER)

"""Minimum price increments (ticks) and rounding prices onto them, exactly, in `Decimal`.

    equities   SEC Rule 612 (Regulation NMS): quotes of $1.00 or more in $0.01, below $1.00 in $0.0001.
               The 2024 amendment's $0.005 increment for tick-constrained stocks is not modelled here:
               it depends on a per-symbol designation published by the exchanges; pass that tick to
               `round_to_tick` directly.
    options    Penny Interval Program classes: $0.01 below $3.00, $0.05 at or above; other classes:
               $0.05 below $3.00, $0.10 at or above. SPY, QQQ and IWM quote in $0.01 at every premium
               (`all_penny=True`, roots in `ALL_PENNY_ROOTS`).
    futures    one `FuturesSpec` per root (tick, multiplier, listed months, last-trading-day rule),
               the table `FUTURES_SPECS`.

Prices are `Decimal` (or `int`); a `float` is refused, since its binary value is not the decimal the
caller meant (0.1 + 0.2 != 0.3): convert with `Decimal(str(x))` at the edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

# Futures delivery-month codes, January to December.
MONTH_CODES = "FGHJKMNQUVXZ"

ONE_DOLLAR = Decimal("1.00")
THREE_DOLLARS = Decimal("3.00")
PENNY = Decimal("0.01")
NICKEL = Decimal("0.05")
DIME = Decimal("0.10")
SUB_PENNY = Decimal("0.0001")

# Option classes quoted in $0.01 at every premium.
ALL_PENNY_ROOTS = frozenset({"SPY", "QQQ", "IWM"})

SIDES = ("buy", "sell")

ROOT_PATTERN = re.compile(r"[A-Z0-9]{1,6}")


def to_decimal(value: object, name: str) -> Decimal:
    """`value` as a finite `Decimal`; ValueError naming `name` for a float, NaN, infinity or a non-number."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise ValueError(f"{name} must be a Decimal (or int), got {type(value).__name__} {value!r}; "
                         "convert floats with Decimal(str(x))")
    result = Decimal(value)
    if not result.is_finite():
        raise ValueError(f"{name} must be finite, got {value!r}")
    return result


def round_to_tick(price: Decimal, tick: Decimal, side: str | None = None) -> Decimal:
    """`price` moved onto a multiple of `tick`, exactly.

    side None     the nearest multiple; a price exactly half-way goes to the even multiple
                  (ROUND_HALF_EVEN: 10.005 on a 0.01 tick is 10.00, 10.015 is 10.02).
    side "buy"    round down (towards minus infinity): a buy limit never pays more than asked.
    side "sell"   round up (towards plus infinity): a sell limit never accepts less than asked.

    A price already on the tick is returned unchanged in value for every side. The result carries the
    tick's decimal places (100 on a 0.01 tick is 100.00). Negative prices (spreads, 2020 crude oil)
    round the same way along the number line.
    """
    price = to_decimal(price, "price")
    tick = to_decimal(tick, "tick")
    if tick <= 0:
        raise ValueError(f"tick must be positive, got {tick}")
    if side is not None and side not in SIDES:
        raise ValueError(f"side must be None, 'buy' or 'sell', got {side!r}")
    whole, remainder = divmod(price, tick)  # whole is truncated towards zero; the remainder is exact
    if remainder < 0:  # make `whole` the floor, so price = whole * tick + remainder with 0 <= remainder < tick
        whole -= 1
        remainder += tick
    if remainder == 0 or side == "buy":
        units = whole
    elif side == "sell":
        units = whole + 1
    elif remainder * 2 < tick:
        units = whole
    elif remainder * 2 > tick:
        units = whole + 1
    else:
        units = whole if whole % 2 == 0 else whole + 1
    return units.to_integral_value() * tick


def equity_tick_size(price: Decimal) -> Decimal:
    """SEC Rule 612: $0.01 for a price of $1.00 or more, $0.0001 below $1.00."""
    price = to_decimal(price, "price")
    if price <= 0:
        raise ValueError(f"price must be positive, got {price}")
    return PENNY if price >= ONE_DOLLAR else SUB_PENNY


def option_tick_size(premium: Decimal, penny_program: bool, all_penny: bool = False) -> Decimal:
    """The minimum increment of an option premium.

    penny_program  the class is in the Penny Interval Program: $0.01 below $3.00, $0.05 at or above.
                   Otherwise $0.05 below $3.00, $0.10 at or above.
    all_penny      the class quotes in $0.01 at every premium (SPY, QQQ, IWM; see `ALL_PENNY_ROOTS`).
                   These classes are in the program, so `all_penny=True` needs `penny_program=True`.
    """
    premium = to_decimal(premium, "premium")
    if premium < 0:
        raise ValueError(f"premium must not be negative, got {premium}")
    if not isinstance(penny_program, bool):
        raise ValueError(f"penny_program must be a bool, got {penny_program!r}")
    if not isinstance(all_penny, bool):
        raise ValueError(f"all_penny must be a bool, got {all_penny!r}")
    if all_penny and not penny_program:
        raise ValueError("all_penny=True needs penny_program=True: "
                         "every all-penny class is in the Penny Interval Program")
    if all_penny:
        return PENNY
    if penny_program:
        return PENNY if premium < THREE_DOLLARS else NICKEL
    return NICKEL if premium < THREE_DOLLARS else DIME


# The last-trading-day rules `futures.expiry_date` knows, named after the exchange's wording.
EXPIRY_RULES = (
    "third_friday",                           # ES, NQ: third Friday; the business day before if a holiday
    "crude_oil",                              # CL: 3 business days before the 25th of the month before delivery
    "third_last_business_day",                # GC: third-last business day of the contract month
    "seventh_business_day_before_last",       # ZN: 7 business days before the month's last business day
)


@dataclass(frozen=True, slots=True)
class FuturesSpec:
    """One futures root: its tick, the dollars per point (`multiplier`), the listed months as codes.

    `months` are the contract months this table rolls through ("HMUZ" for the quarterly cycle), in
    calendar order; `expiry_rule` names the last-trading-day rule (one of `EXPIRY_RULES`) or is None
    when unknown, in which case `futures.expiry_date` refuses the root.
    """

    root: str
    tick: Decimal
    multiplier: int
    months: str
    expiry_rule: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.root, str) or not ROOT_PATTERN.fullmatch(self.root):
            raise ValueError(f"root must be upper-case letters and digits, got {self.root!r}")
        tick = to_decimal(self.tick, "tick")
        if tick <= 0:
            raise ValueError(f"tick must be positive, got {tick}")
        object.__setattr__(self, "tick", tick)
        if not isinstance(self.multiplier, int) or isinstance(self.multiplier, bool) or self.multiplier <= 0:
            raise ValueError(f"multiplier must be a positive integer, got {self.multiplier!r}")
        if (not isinstance(self.months, str) or not self.months or any(code not in MONTH_CODES for code in self.months)
                or list(self.months) != sorted(set(self.months), key=MONTH_CODES.index)):
            raise ValueError(f"months must be distinct month codes from {MONTH_CODES} in calendar order, "
                             f"got {self.months!r}")
        if self.expiry_rule is not None and self.expiry_rule not in EXPIRY_RULES:
            raise ValueError(f"expiry_rule must be None or one of {', '.join(EXPIRY_RULES)}, got {self.expiry_rule!r}")

    @property
    def tick_value(self) -> Decimal:
        """Dollars per tick per contract: tick × multiplier (ES: 0.25 × 50 = 12.50)."""
        return self.tick * self.multiplier

    @property
    def month_numbers(self) -> tuple[int, ...]:
        """The listed months as 1-12."""
        return tuple(MONTH_CODES.index(code) + 1 for code in self.months)


FUTURES_SPECS: MappingProxyType[str, FuturesSpec] = MappingProxyType({
    spec.root: spec
    for spec in (
        FuturesSpec("ES", Decimal("0.25"), 50, "HMUZ", "third_friday"),
        FuturesSpec("NQ", Decimal("0.25"), 20, "HMUZ", "third_friday"),
        FuturesSpec("CL", Decimal("0.01"), 1000, "FGHJKMNQUVXZ", "crude_oil"),
        FuturesSpec("GC", Decimal("0.10"), 100, "GJMQVZ", "third_last_business_day"),
        FuturesSpec("ZN", Decimal("0.015625"), 1000, "HMUZ", "seventh_business_day_before_last"),  # 1/64 of a point
    )
})


def futures_spec(root: str) -> FuturesSpec:
    """The spec of a root in `FUTURES_SPECS`; ValueError naming the root and the known ones."""
    try:
        return FUTURES_SPECS[root]
    except (KeyError, TypeError):
        known = ", ".join(sorted(FUTURES_SPECS))
        raise ValueError(f"root {root!r} has no futures spec; known roots: {known}") from None


def futures_tick_size(root: str) -> Decimal:
    return futures_spec(root).tick

"""Listed U.S. equity options: contracts and their OCC symbols, chains, expiry and strike selection.

OCC symbol (21 characters, the OSI format): the root left-aligned and padded with spaces to 6, the
expiry as YYMMDD, C or P, the strike × 1000 zero-padded to 8 digits:

    SPY   261218C00600000     SPY call, 18 Dec 2026, strike 600
    AAPL  250117P00142500     AAPL put, 17 Jan 2025, strike 142.50

Expiry selection (`select_expiry`): "monthly" is the standard expiration of a month, its third
Friday, or the business day before when that Friday is an exchange holiday (Good Friday 2025-04-18
was the third Friday of April 2025, so April's monthly expired Thursday 2025-04-17); "weekly" is any
listed expiry, the nearest one far enough away.

Strike selection (`select_strike`) names five categories relative to the underlying price:

    ATM    the listed strike nearest to the underlying price. A tie (the price exactly half-way
           between two strikes) goes to the lower strike for a call and the higher one for a put:
           the strike that is in the money for that right.
    ITM    in the money: for a call a lower strike, for a put a higher one
    OTM    out of the money: for a call a higher strike, for a put a lower one
    DITM   deep in the money, DOTM deep out of the money: the same directions, further away

How far is set by a `CategorySplit`: a count of strikes along the listed ladder from ATM (the
default), or a fraction of the underlying price (the listed strike nearest to price × (1 ∓ pct),
taken among the strikes on that category's side of the price).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum

from processors.csvio import CsvFormatError
from processors.instruments.dates import business_day_on_or_before, check_date, third_friday
from processors.instruments.ticks import to_decimal

RIGHTS = ("call", "put")
EXPIRY_KINDS = ("weekly", "monthly")
SPLIT_MODES = ("count", "percent")
CHAIN_COLUMNS = ("underlying", "expiry", "strike", "right")

OCC_ROOT_PATTERN = re.compile(r"[A-Z0-9]{1,6}")
OCC_SYMBOL_PATTERN = re.compile(r"(?P<root>[A-Z0-9 ]{6})(?P<expiry>\d{6})(?P<right>[CP])(?P<strike>\d{8})")
MAX_OCC_STRIKE = Decimal("99999.999")


def check_right(right: object) -> str:
    if right not in RIGHTS:
        raise ValueError(f"right must be 'call' or 'put', got {right!r}")
    return right  # type: ignore[return-value]


def occ_symbol(underlying: str, expiry: dt.date, right: str, strike: Decimal) -> str:
    """The 21-character OCC symbol: root padded to 6, YYMMDD, C/P, strike × 1000 zero-padded to 8."""
    if not isinstance(underlying, str) or not OCC_ROOT_PATTERN.fullmatch(underlying):
        raise ValueError(f"underlying must be 1 to 6 upper-case letters or digits (the OCC root), got {underlying!r}")
    check_date(expiry, "expiry")
    if not 2000 <= expiry.year <= 2099:
        raise ValueError(f"expiry must be in 2000-2099 (the OCC symbol has a two-digit year), got {expiry}")
    check_right(right)
    strike = to_decimal(strike, "strike")
    if not 0 < strike <= MAX_OCC_STRIKE:
        raise ValueError(f"strike must be positive and at most {MAX_OCC_STRIKE}, got {strike}")
    thousandths = strike * 1000
    if thousandths != thousandths.to_integral_value():
        raise ValueError(f"strike must have at most three decimal places, got {strike}")
    return f"{underlying:<6}{expiry:%y%m%d}{'C' if right == 'call' else 'P'}{int(thousandths):08d}"


@dataclass(frozen=True, slots=True)
class OptionContract:
    """One listed option. `symbol` is its OCC symbol; `multiplier` is the shares per contract."""

    underlying: str
    expiry: dt.date
    strike: Decimal
    right: str
    multiplier: int = 100

    def __post_init__(self) -> None:
        # occ_symbol validates underlying, expiry, right and strike, each error naming the field.
        occ_symbol(self.underlying, self.expiry, self.right, self.strike)
        object.__setattr__(self, "strike", Decimal(self.strike))
        if not isinstance(self.multiplier, int) or isinstance(self.multiplier, bool) or self.multiplier <= 0:
            raise ValueError(f"multiplier must be a positive integer, got {self.multiplier!r}")

    @property
    def symbol(self) -> str:
        return self.occ_symbol()

    def occ_symbol(self) -> str:
        return occ_symbol(self.underlying, self.expiry, self.right, self.strike)


def parse_occ_symbol(symbol: str, multiplier: int = 100) -> OptionContract:
    """The contract an OCC symbol names (years 2000-2099); ValueError if it is not 21 characters of that format."""
    match = OCC_SYMBOL_PATTERN.fullmatch(symbol) if isinstance(symbol, str) else None
    root = match["root"].rstrip(" ") if match else ""
    if match is None or not OCC_ROOT_PATTERN.fullmatch(root):
        raise ValueError(f"symbol must be an OCC symbol like 'SPY   261218C00600000', got {symbol!r}")
    try:
        expiry = dt.datetime.strptime(match["expiry"], "%y%m%d").date()
    except ValueError:
        raise ValueError(f"symbol {symbol!r} has no valid YYMMDD expiry") from None
    if expiry.year < 2000:  # strptime maps 69-99 to the 1900s
        expiry = expiry.replace(year=expiry.year + 100)
    return OptionContract(root, expiry, Decimal(int(match["strike"])) / 1000,
                          "call" if match["right"] == "C" else "put", multiplier)


class OptionChain:
    """The listed contracts of one underlying, indexed by expiry and right. Not modified after creation."""

    def __init__(self, contracts: Iterable[OptionContract]) -> None:
        contracts = list(contracts)
        if not contracts:
            raise ValueError("contracts must not be empty: a chain needs at least one contract")
        by_key: dict[tuple[dt.date, str, Decimal], OptionContract] = {}
        for contract in contracts:
            if not isinstance(contract, OptionContract):
                raise ValueError(f"contracts must be OptionContract instances, got {contract!r}")
            if contract.underlying != contracts[0].underlying:
                raise ValueError(f"contracts must share one underlying: {contracts[0].underlying} "
                                 f"and {contract.underlying} are both present")
            key = (contract.expiry, contract.right, contract.strike)
            if key in by_key:
                raise ValueError(f"contracts has a duplicate: {contract.symbol}")
            by_key[key] = contract
        self.underlying: str = contracts[0].underlying
        self._contracts = by_key
        self._ladders: dict[tuple[dt.date, str], tuple[Decimal, ...]] = {}
        for expiry, right, strike in sorted(by_key):
            self._ladders[(expiry, right)] = self._ladders.get((expiry, right), ()) + (strike,)
        self.expiries: tuple[dt.date, ...] = tuple(sorted({expiry for expiry, _, _ in by_key}))

    def __len__(self) -> int:
        return len(self._contracts)

    def __iter__(self) -> Iterator[OptionContract]:
        return (self._contracts[key] for key in sorted(self._contracts))

    def __repr__(self) -> str:
        return f"OptionChain({self.underlying}, {len(self)} contracts, {len(self.expiries)} expiries)"

    def strikes(self, expiry: dt.date, right: str) -> tuple[Decimal, ...]:
        """The listed strikes of one expiry and right, ascending (empty if none is listed)."""
        return self._ladders.get((check_date(expiry, "expiry"), check_right(right)), ())

    def contract(self, expiry: dt.date, strike: Decimal, right: str) -> OptionContract:
        try:
            return self._contracts[(expiry, right, strike)]
        except KeyError:
            raise ValueError(f"{self.underlying} has no {right} at strike {strike} expiring {expiry}") from None


def chain_from_csv(text: str) -> OptionChain:
    """A chain from CSV text with the header `underlying,expiry,strike,right` (an optional `multiplier`
    column too). Expiry is YYYY-MM-DD; right is call/put or C/P in any case. The caller reads the file;
    errors are `CsvFormatError` (a ValueError) naming the line and column."""
    if not isinstance(text, str):
        raise ValueError(f"text must be the CSV content as a str, got {type(text).__name__}")
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or ()]
    missing = [name for name in CHAIN_COLUMNS if name not in header]
    if missing:
        raise CsvFormatError(f"line 1: header lacks column(s) {', '.join(missing)}; "
                             f"expected {','.join(CHAIN_COLUMNS)}, got {','.join(header) or 'nothing'}")
    reader.fieldnames = header
    contracts = []
    for row in reader:
        line = reader.line_num
        values = {name: (value or "").strip() for name, value in row.items() if name is not None}
        if not any(values.values()):
            continue
        contracts.append(_contract_from_row(values, line))
    if not contracts:
        raise CsvFormatError("the CSV has a header but no contract rows")
    return OptionChain(contracts)


def _contract_from_row(values: dict[str, str], line: int) -> OptionContract:
    try:
        expiry = dt.date.fromisoformat(values["expiry"])
    except ValueError:
        raise CsvFormatError(f"line {line}, column expiry: {values['expiry']!r} is not a YYYY-MM-DD date") from None
    try:
        strike = Decimal(values["strike"])
    except InvalidOperation:
        raise CsvFormatError(f"line {line}, column strike: {values['strike']!r} is not a number") from None
    right = {"call": "call", "c": "call", "put": "put", "p": "put"}.get(values["right"].lower())
    if right is None:
        raise CsvFormatError(f"line {line}, column right: {values['right']!r} is not call, put, C or P")
    multiplier_text = values.get("multiplier", "") or "100"
    if not multiplier_text.isdigit():
        raise CsvFormatError(f"line {line}, column multiplier: {multiplier_text!r} is not a positive integer")
    try:
        return OptionContract(values["underlying"].upper(), expiry, strike, right, int(multiplier_text))
    except ValueError as error:
        raise CsvFormatError(f"line {line}: {error}") from None


def monthly_expiry(year: int, month: int, holidays: Collection[dt.date] = frozenset()) -> dt.date:
    """The standard monthly expiration: the third Friday, or the business day before it when it is a holiday."""
    return business_day_on_or_before(third_friday(year, month), holidays)


def select_expiry(expiries: Iterable[dt.date], as_of: dt.date, kind: str, min_days: int = 0,
                  holidays: Collection[dt.date] = frozenset()) -> dt.date:
    """The earliest listed expiry of `kind` at least `min_days` calendar days after `as_of`.

    kind "monthly"  only the month's standard expiration (`monthly_expiry`, which needs the exchange
                    `holidays` to recognise a Thursday expiration before a holiday Friday).
    kind "weekly"   any listed expiry: the nearest one that is far enough away.

    `min_days=0` admits an expiry on `as_of` itself. ValueError naming what is missing when no listed
    expiry qualifies.
    """
    listed = sorted({check_date(expiry, "expiries") for expiry in expiries})
    check_date(as_of, "as_of")
    if kind not in EXPIRY_KINDS:
        raise ValueError(f"kind must be 'weekly' or 'monthly', got {kind!r}")
    if not isinstance(min_days, int) or isinstance(min_days, bool) or min_days < 0:
        raise ValueError(f"min_days must be a non-negative integer, got {min_days!r}")
    for holiday in holidays:
        check_date(holiday, "holidays")
    if not listed:
        raise ValueError("expiries is empty: no expiry is listed")
    earliest = as_of + dt.timedelta(days=min_days)
    for expiry in listed:
        if expiry >= earliest and (kind == "weekly" or expiry == monthly_expiry(expiry.year, expiry.month, holidays)):
            return expiry
    raise ValueError(f"no {kind} expiry on or after {earliest} ({min_days} days after as_of {as_of}) among the "
                     f"{len(listed)} listed expiries ({listed[0]} to {listed[-1]})")


class StrikeCategory(str, Enum):
    ATM = "ATM"
    ITM = "ITM"
    OTM = "OTM"
    DITM = "DITM"
    DOTM = "DOTM"


@dataclass(frozen=True, slots=True)
class CategorySplit:
    """How far from ATM the ITM, OTM and deep (DITM, DOTM) categories are.

    mode "count"    `itm_strikes`, `otm_strikes`, `deep_strikes`: strikes along the listed ladder from ATM.
    mode "percent"  `itm_pct`, `otm_pct`, `deep_pct`: fractions of the underlying price
                    (Decimal("0.05") is 5 %), all three required; the strike counts are then unused.

    Deep must be further than both ITM and OTM. Only the fields of the chosen mode may be set.
    """

    mode: str = "count"
    itm_strikes: int = 1
    otm_strikes: int = 1
    deep_strikes: int = 5
    itm_pct: Decimal | None = None
    otm_pct: Decimal | None = None
    deep_pct: Decimal | None = None

    def __post_init__(self) -> None:
        if self.mode not in SPLIT_MODES:
            raise ValueError(f"mode must be 'count' or 'percent', got {self.mode!r}")
        for name in ("itm_strikes", "otm_strikes", "deep_strikes"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if self.mode == "count":
            for name in ("itm_pct", "otm_pct", "deep_pct"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} is only used with mode='percent'; this split has mode='count'")
            for name in ("itm_strikes", "otm_strikes"):
                if self.deep_strikes <= getattr(self, name):
                    raise ValueError(f"deep_strikes ({self.deep_strikes}) must be greater than "
                                     f"{name} ({getattr(self, name)})")
            return
        defaults = {"itm_strikes": 1, "otm_strikes": 1, "deep_strikes": 5}
        for name, default in defaults.items():
            if getattr(self, name) != default:
                raise ValueError(f"{name} is only used with mode='count'; this split has mode='percent'")
        for name in ("itm_pct", "otm_pct", "deep_pct"):
            value = getattr(self, name)
            if value is None:
                raise ValueError(f"{name} is required with mode='percent'")
            value = to_decimal(value, name)
            if not 0 < value < 1:
                raise ValueError(f"{name} must be a fraction of the price between 0 and 1 (0.05 is 5 %), got {value}")
            object.__setattr__(self, name, value)
        for name in ("itm_pct", "otm_pct"):
            if self.deep_pct <= getattr(self, name):  # type: ignore[operator]
                raise ValueError(f"deep_pct ({self.deep_pct}) must be greater than {name} ({getattr(self, name)})")


def _nearest_index(ladder: tuple[Decimal, ...] | list[Decimal], target: Decimal, right: str) -> int:
    """Index of the strike nearest to `target`; a tie goes to the lower strike for a call, the higher for a put."""
    best = 0
    for index, strike in enumerate(ladder):
        distance, best_distance = abs(strike - target), abs(ladder[best] - target)
        if distance < best_distance or (distance == best_distance and right == "put"):
            best = index  # ascending ladder: on a tie a put moves on to the higher strike, a call keeps the lower
    return best


def select_strike(chain: OptionChain, underlying_price: Decimal, right: str, category: StrikeCategory | str,
                  expiry: dt.date, split: CategorySplit = CategorySplit()) -> OptionContract:
    """The contract of `category` (ATM, ITM, OTM, DITM, DOTM) for `right` and `expiry` (see the module doc).

    Count mode: ITM is `itm_strikes` listed strikes into the money from ATM (lower for a call, higher
    for a put), OTM `otm_strikes` out of the money, DITM and DOTM `deep_strikes`. Percent mode: the
    listed strike nearest to price × (1 − pct) for a call's ITM side or price × (1 + pct) for its OTM
    side (mirrored for a put), chosen among strikes strictly on that side of the price, so an ITM pick
    is always in the money. ValueError when the ladder is too short to reach the category.
    """
    if not isinstance(chain, OptionChain):
        raise ValueError(f"chain must be an OptionChain, got {type(chain).__name__}")
    price = to_decimal(underlying_price, "underlying_price")
    if price <= 0:
        raise ValueError(f"underlying_price must be positive, got {price}")
    check_right(right)
    try:
        category = StrikeCategory(category.upper() if isinstance(category, str) else category)
    except ValueError:
        raise ValueError(f"category must be one of ATM, ITM, OTM, DITM, DOTM, got {category!r}") from None
    check_date(expiry, "expiry")
    if not isinstance(split, CategorySplit):
        raise ValueError(f"split must be a CategorySplit, got {type(split).__name__}")
    if expiry not in chain.expiries:
        raise ValueError(f"expiry {expiry} is not listed for {chain.underlying}; listed: "
                         f"{', '.join(str(listed) for listed in chain.expiries)}")
    ladder = chain.strikes(expiry, right)
    if not ladder:
        raise ValueError(f"{chain.underlying} lists no {right}s expiring {expiry}")
    atm = _nearest_index(ladder, price, right)
    if category is StrikeCategory.ATM:
        strike = ladder[atm]
    elif split.mode == "count":
        strike = _strike_by_count(ladder, atm, right, category, split, expiry)
    else:
        strike = _strike_by_percent(ladder, price, right, category, split, expiry)
    return chain.contract(expiry, strike, right)


def _into_the_money(category: StrikeCategory) -> bool:
    return category in (StrikeCategory.ITM, StrikeCategory.DITM)


def _strike_by_count(ladder: tuple[Decimal, ...], atm: int, right: str, category: StrikeCategory,
                     split: CategorySplit, expiry: dt.date) -> Decimal:
    steps = {StrikeCategory.ITM: split.itm_strikes, StrikeCategory.OTM: split.otm_strikes,
             StrikeCategory.DITM: split.deep_strikes, StrikeCategory.DOTM: split.deep_strikes}[category]
    lower = _into_the_money(category) == (right == "call")  # call ITM and put OTM are below ATM
    index = atm - steps if lower else atm + steps
    if not 0 <= index < len(ladder):
        available = atm if lower else len(ladder) - 1 - atm
        raise ValueError(f"ladder too short for {category.value} {right}: it needs {steps} strikes "
                         f"{'below' if lower else 'above'} the ATM strike {ladder[atm]} for {expiry}, "
                         f"but only {available} are listed")
    return ladder[index]


def _strike_by_percent(ladder: tuple[Decimal, ...], price: Decimal, right: str, category: StrikeCategory,
                       split: CategorySplit, expiry: dt.date) -> Decimal:
    pct = {StrikeCategory.ITM: split.itm_pct, StrikeCategory.OTM: split.otm_pct,
           StrikeCategory.DITM: split.deep_pct, StrikeCategory.DOTM: split.deep_pct}[category]
    lower = _into_the_money(category) == (right == "call")
    target = price * (1 - pct) if lower else price * (1 + pct)  # type: ignore[operator]
    # The ladder reaches a target within half a strike interval beyond either end.
    low_reach = ladder[0] - (ladder[1] - ladder[0]) / 2 if len(ladder) > 1 else ladder[0]
    high_reach = ladder[-1] + (ladder[-1] - ladder[-2]) / 2 if len(ladder) > 1 else ladder[-1]
    side = [strike for strike in ladder if (strike < price if lower else strike > price)]
    if not low_reach <= target <= high_reach or not side:
        raise ValueError(f"ladder too short for {category.value} {right}: the target strike {target} "
                         f"({pct} of {price} {'below' if lower else 'above'} the price) is beyond the "
                         f"strikes listed for {expiry} ({ladder[0]} to {ladder[-1]})")
    return side[_nearest_index(side, target, right)]

"""Futures contracts: month codes and symbols, last trading days, roll schedules, continuous series.

Symbols are the root, the month code and the last digit of the year: "ESZ6" is the E-mini S&P 500
of December 2026 (codes F G H J K M N Q U V X Z for January to December). A one-digit year repeats
every decade, so parsing a symbol takes the earliest year it may denote.

Last trading day (`expiry_date`), by the spec's `expiry_rule`, over the caller's exchange holidays:

    third_friday                      ES, NQ: the third Friday of the contract month; the business
                                      day before if that Friday is a holiday (ESZ5: 2025-12-19).
    crude_oil                         CL: 3 business days before the 25th calendar day of the month
                                      before the contract month; if the 25th is not a business day,
                                      3 business days before the business day preceding the 25th.
                                      CLZ5: Tue 2025-11-25 is a business day; back 3 over 24, 21, 20:
                                      2025-11-20. CLF6: Thu 2025-12-25 is Christmas, the business day
                                      before is 12-24; back 3 over 23, 22, 19: 2025-12-19.
    third_last_business_day           GC: the third-last business day of the contract month.
    seventh_business_day_before_last  ZN: 7 business days before the last business day of the month.

Rolls (`roll_schedule`) move a continuous position from each contract to the next-expiring one,
either a fixed number of business days before the current contract's last trading day, or on the
first day the next contract's volume (or open interest) exceeds the current one's, never later than
that days-before-expiry backstop. On a roll date the series takes the new contract's close.

Continuous series (`continuous_series`): back adjustment (the default) shifts all history before a
roll by the roll's price gap (new close − old close on the roll date), so the latest segment shows
actual prices and the series has no jump at rolls; ratio adjustment multiplies the earlier history
by new close ÷ old close instead; "none" splices the actual closes.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from processors.instruments.dates import (
    business_day_on_or_before,
    business_days_before,
    check_date,
    check_year_month,
    last_business_day_of_month,
    third_friday,
)
from processors.instruments.ticks import MONTH_CODES, FuturesSpec, to_decimal

SYMBOL_PATTERN = re.compile(r"(?P<root>[A-Z0-9]+)(?P<month>[FGHJKMNQUVXZ])(?P<year>\d{1,2})")
ROLL_MODES = ("days_before_expiry", "volume", "open_interest")
ADJUSTMENTS = ("back", "ratio", "none")
DAILY_COLUMNS = ("date", "contract", "close", "volume", "open_interest")


def month_code(month: int) -> str:
    """The delivery-month code of month 1-12: 1 → "F", 12 → "Z"."""
    check_year_month(2000, month)
    return MONTH_CODES[month - 1]


def month_from_code(code: str) -> int:
    """The month 1-12 of a delivery-month code: "F" → 1, "Z" → 12."""
    if not isinstance(code, str) or len(code) != 1 or code not in MONTH_CODES:
        raise ValueError(f"code must be one of the month codes {' '.join(MONTH_CODES)}, got {code!r}")
    return MONTH_CODES.index(code) + 1


@dataclass(frozen=True, slots=True)
class FuturesContract:
    """One contract month of a root. `symbol` is the one-digit-year form ("ESZ5")."""

    root: str
    year: int
    month: int

    def __post_init__(self) -> None:
        if not isinstance(self.root, str) or not re.fullmatch(r"[A-Z0-9]+", self.root):
            raise ValueError(f"root must be upper-case letters and digits, got {self.root!r}")
        check_year_month(self.year, self.month)

    @property
    def symbol(self) -> str:
        return contract_symbol(self.root, self.year, self.month)


def contract_symbol(root: str, year: int, month: int) -> str:
    """Root + month code + last digit of the year: ("ES", 2026, 12) → "ESZ6"."""
    if not isinstance(root, str) or not re.fullmatch(r"[A-Z0-9]+", root):
        raise ValueError(f"root must be upper-case letters and digits, got {root!r}")
    check_year_month(year, month)
    return f"{root}{MONTH_CODES[month - 1]}{year % 10}"


def parse_contract_symbol(symbol: str, earliest_year: int) -> FuturesContract:
    """The contract a symbol names, with a one- or two-digit year resolved to the first year on or
    after `earliest_year` that ends in those digits: ("ESZ5", 2020) → ES 2025-12, ("ESZ5", 2026) → 2035-12.

    The root is everything before the last month-code letter that precedes the year digits ("6EZ5" is 6E).
    """
    if not isinstance(earliest_year, int) or isinstance(earliest_year, bool) or not 1 <= earliest_year <= 9899:
        raise ValueError(f"earliest_year must be an integer year, got {earliest_year!r}")
    match = SYMBOL_PATTERN.fullmatch(symbol) if isinstance(symbol, str) else None
    if match is None:
        raise ValueError(f"symbol must be root + month code + 1 or 2 year digits like 'ESZ6', got {symbol!r}")
    digits = match["year"]
    period = 10 ** len(digits)
    year = earliest_year + (int(digits) - earliest_year) % period
    return FuturesContract(match["root"], year, month_from_code(match["month"]))


def expiry_date(spec: FuturesSpec, year: int, month: int, holidays: Collection[dt.date] = frozenset()) -> dt.date:
    """The last trading day of the `spec.root` contract of `year`-`month` under its `expiry_rule`
    (see the module doc); ValueError if the month is not listed or the root has no rule."""
    if not isinstance(spec, FuturesSpec):
        raise ValueError(f"spec must be a FuturesSpec, got {type(spec).__name__}")
    check_year_month(year, month)
    for holiday in holidays:
        check_date(holiday, "holidays")
    if month not in spec.month_numbers:
        raise ValueError(f"month {month} ({MONTH_CODES[month - 1]}) is not a listed month of {spec.root}; "
                         f"listed: {spec.months}")
    if spec.expiry_rule == "third_friday":
        return business_day_on_or_before(third_friday(year, month), holidays)
    if spec.expiry_rule == "crude_oil":
        before_year, before_month = (year - 1, 12) if month == 1 else (year, month - 1)
        the_25th = dt.date(before_year, before_month, 25)
        return business_days_before(business_day_on_or_before(the_25th, holidays), 3, holidays)
    if spec.expiry_rule == "third_last_business_day":
        return business_days_before(last_business_day_of_month(year, month, holidays), 2, holidays)
    if spec.expiry_rule == "seventh_business_day_before_last":
        return business_days_before(last_business_day_of_month(year, month, holidays), 7, holidays)
    raise ValueError(f"spec {spec.root} has no expiry_rule; set one of the rules in ticks.EXPIRY_RULES")


@dataclass(frozen=True, slots=True)
class RollRule:
    """When to roll to the next contract.

    mode "days_before_expiry"   on the business day `days_before_expiry` business days before the
                                current contract's last trading day (0: on the last trading day).
    mode "volume"               on the first day the next contract's volume exceeds the current one's,
    mode "open_interest"        (or its open interest), but never later than the days-before-expiry day.
    """

    mode: str = "days_before_expiry"
    days_before_expiry: int = 5

    def __post_init__(self) -> None:
        if self.mode not in ROLL_MODES:
            raise ValueError(f"mode must be one of {', '.join(ROLL_MODES)}, got {self.mode!r}")
        if not isinstance(self.days_before_expiry, int) or isinstance(self.days_before_expiry, bool) \
                or self.days_before_expiry < 0:
            raise ValueError(f"days_before_expiry must be a non-negative integer, got {self.days_before_expiry!r}")


@dataclass(frozen=True, slots=True)
class Roll:
    """A roll: from `date` on (inclusive) the series follows `to_contract`. `price_gap` is
    to_contract's close − from_contract's close on `date`; `trigger` is the rule mode that fired,
    or "days_before_expiry" when a crossover rule fell back on its backstop."""

    date: dt.date
    from_contract: str
    to_contract: str
    price_gap: Decimal
    trigger: str = "days_before_expiry"


def _daily_frame(contracts_daily: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """A validated copy with `date` as datetime.date and `close` as Decimal, sorted by date and contract."""
    if not isinstance(contracts_daily, pd.DataFrame):
        raise ValueError(f"contracts_daily must be a pandas DataFrame, got {type(contracts_daily).__name__}")
    missing = [name for name in columns if name not in contracts_daily.columns]
    if missing:
        raise ValueError(f"contracts_daily lacks column(s) {', '.join(missing)}; it needs {', '.join(columns)}")
    frame = contracts_daily.loc[:, list(columns)].copy()
    if frame.empty:
        raise ValueError("contracts_daily has no rows")
    frame["date"] = [_as_date(value) for value in frame["date"]]
    frame["contract"] = [str(value) for value in frame["contract"]]
    frame["close"] = pd.Series([to_decimal(value, "contracts_daily.close") for value in frame["close"]],
                               index=frame.index, dtype=object)
    for name in ("volume", "open_interest"):
        if name in frame.columns:
            for value in frame[name]:
                if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                    raise ValueError(f"contracts_daily.{name} must hold non-negative integers, got {value!r}")
    duplicated = frame.duplicated(["date", "contract"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(f"contracts_daily has more than one row for {first['contract']} on {first['date']}")
    return frame.sort_values(["date", "contract"], kind="stable").reset_index(drop=True)


def _as_date(value: object) -> dt.date:
    """A `datetime.date`, or a midnight `pandas.Timestamp` (a datetime64 column) as one."""
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        value = value.date()
    return check_date(value, "contracts_daily.date")


def _contract_order(frame: pd.DataFrame, expiries: Mapping[str, dt.date]) -> list[str]:
    if not isinstance(expiries, Mapping):
        raise ValueError(f"expiries must map contract symbol to expiry date, got {type(expiries).__name__}")
    for contract, expiry in expiries.items():
        check_date(expiry, f"expiries[{contract!r}]")
    unknown = sorted(set(frame["contract"]) - set(expiries))
    if unknown:
        raise ValueError(f"expiries lacks the expiry of contract(s) {', '.join(unknown)}")
    present = sorted(set(frame["contract"]), key=lambda contract: (expiries[contract], contract))
    for earlier, later in zip(present, present[1:]):
        if expiries[earlier] == expiries[later]:
            raise ValueError(f"expiries gives {earlier} and {later} the same date {expiries[earlier]}")
    return present


def roll_schedule(contracts_daily: pd.DataFrame, rule: RollRule, expiries: Mapping[str, dt.date],
                  holidays: Collection[dt.date] = frozenset()) -> list[Roll]:
    """The rolls through the contracts in `contracts_daily`, in expiry order (one per adjacent pair).

    contracts_daily   rows of (date, contract, close, volume, open_interest): one per contract per
                      day it traded; close is Decimal, volume and open interest integers.
    expiries          contract symbol → last trading day, for every contract in the data.
    holidays          exchange holidays, for counting business days before expiry.

    The backstop day is `rule.days_before_expiry` business days before the current contract's last
    trading day; the roll is on the last day on or before it on which both contracts have a row (or
    on the first earlier crossover day, in the volume and open-interest modes), and after the
    previous roll. ValueError when no such day exists.
    """
    if not isinstance(rule, RollRule):
        raise ValueError(f"rule must be a RollRule, got {type(rule).__name__}")
    for holiday in holidays:
        check_date(holiday, "holidays")
    frame = _daily_frame(contracts_daily, DAILY_COLUMNS)
    order = _contract_order(frame, expiries)
    rows = {contract: group.set_index("date") for contract, group in frame.groupby("contract", sort=False)}
    rolls: list[Roll] = []
    previous_roll: dt.date | None = None
    for current, following in zip(order, order[1:]):
        common = sorted(set(rows[current].index) & set(rows[following].index))
        if previous_roll is not None:
            common = [day for day in common if day > previous_roll]
        backstop = business_days_before(expiries[current], rule.days_before_expiry, holidays)
        candidates = [day for day in common if day <= backstop]
        if not candidates:
            after = f" after the roll on {previous_roll}" if previous_roll else ""
            raise ValueError(f"no day to roll {current} to {following}: no date{after} on or before {backstop} "
                             f"({rule.days_before_expiry} business days before {current}'s expiry "
                             f"{expiries[current]}) has rows for both contracts")
        day, trigger = candidates[-1], "days_before_expiry"
        if rule.mode != "days_before_expiry":
            for candidate in candidates:
                if rows[following].at[candidate, rule.mode] > rows[current].at[candidate, rule.mode]:
                    day, trigger = candidate, rule.mode
                    break
        gap = rows[following].at[day, "close"] - rows[current].at[day, "close"]
        rolls.append(Roll(day, current, following, gap, trigger))
        previous_roll = day
    return rolls


def continuous_series(contracts_daily: pd.DataFrame, rolls: Sequence[Roll], adjust: str = "back") -> pd.DataFrame:
    """One price series spliced from the contracts at `rolls`: columns date, contract, close, adjusted_close.

    Before the first roll the series is the first roll's from_contract; from each roll's date on, its
    to_contract. A row is one day on which the followed contract has a row in `contracts_daily`.

    adjust "back"   adjusted_close = close + the sum of the price gaps of every roll after that day
                    (gaps recomputed from the data: new close − old close on the roll date).
    adjust "ratio"  adjusted_close = close × the product of new close ÷ old close of every later roll
                    (old closes must be positive).
    adjust "none"   adjusted_close = close.

    With no rolls the data must hold a single contract. ValueError if the rolls are not a chain in
    date order, or a roll date lacks a close of either contract, or a roll's price_gap disagrees
    with the data.
    """
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {', '.join(ADJUSTMENTS)}, got {adjust!r}")
    frame = _daily_frame(contracts_daily, ("date", "contract", "close"))
    rolls = list(rolls)
    for roll in rolls:
        if not isinstance(roll, Roll):
            raise ValueError(f"rolls must hold Roll instances, got {roll!r}")
    closes = {(row.date, row.contract): row.close for row in frame.itertuples(index=False)}
    contracts = set(frame["contract"])
    if not rolls:
        if len(contracts) != 1:
            raise ValueError(f"rolls is empty but contracts_daily holds {len(contracts)} contracts: "
                             f"{', '.join(sorted(contracts))}")
        segments = [(next(iter(contracts)), None, None)]
    else:
        segments = _segments(rolls, closes)
    factors = _adjustments(rolls, closes, adjust)
    parts = []
    for index, (contract, start, end) in enumerate(segments):
        rows = frame[frame["contract"] == contract]
        if start is not None:
            rows = rows[rows["date"] >= start]
        if end is not None:
            rows = rows[rows["date"] < end]
        part = rows.loc[:, ["date", "contract", "close"]].copy()
        shift, scale = factors[index]
        part["adjusted_close"] = pd.Series([(close + shift) * scale for close in part["close"]],
                                           index=part.index, dtype=object)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _segments(rolls: list[Roll],
              closes: Mapping[tuple[dt.date, str], Decimal]) -> list[tuple[str, dt.date | None, dt.date | None]]:
    """(contract, first date inclusive, last date exclusive) of each segment between rolls."""
    for earlier, later in zip(rolls, rolls[1:]):
        if later.date <= earlier.date:
            raise ValueError(f"rolls must be in strictly increasing date order: {earlier.date} then {later.date}")
        if later.from_contract != earlier.to_contract:
            raise ValueError(f"rolls must chain: the roll on {earlier.date} goes to {earlier.to_contract} "
                             f"but the next one, on {later.date}, leaves {later.from_contract}")
    for roll in rolls:
        for contract in (roll.from_contract, roll.to_contract):
            if (roll.date, contract) not in closes:
                raise ValueError(f"the roll on {roll.date} from {roll.from_contract} to {roll.to_contract} "
                                 f"needs a close of {contract} on that date; contracts_daily has none")
        gap = closes[(roll.date, roll.to_contract)] - closes[(roll.date, roll.from_contract)]
        if gap != roll.price_gap:
            raise ValueError(f"the roll on {roll.date} has price_gap {roll.price_gap} but the data gives {gap}: "
                             "were the rolls computed from other data?")
    starts: list[dt.date | None] = [None] + [roll.date for roll in rolls]
    ends: list[dt.date | None] = [roll.date for roll in rolls] + [None]
    contracts = [rolls[0].from_contract] + [roll.to_contract for roll in rolls]
    return list(zip(contracts, starts, ends))


def _adjustments(rolls: list[Roll], closes: Mapping[tuple[dt.date, str], Decimal],
                 adjust: str) -> list[tuple[Decimal, Decimal]]:
    """(shift, scale) per segment: adjusted = (close + shift) × scale; the last segment is (0, 1)."""
    result = [(Decimal(0), Decimal(1))]
    shift, scale = Decimal(0), Decimal(1)
    for roll in reversed(rolls):
        old = closes[(roll.date, roll.from_contract)]
        new = closes[(roll.date, roll.to_contract)]
        if adjust == "back":
            shift += new - old
        elif adjust == "ratio":
            if old <= 0 or new <= 0:
                raise ValueError(f"ratio adjustment needs positive closes; on {roll.date} {roll.from_contract} "
                                 f"closed {old} and {roll.to_contract} {new}: use adjust='back'")
            scale *= new / old
        result.append((shift, scale))
    return list(reversed(result))

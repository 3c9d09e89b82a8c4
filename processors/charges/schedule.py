"""The effective-dated schedule of regulatory fees: parsed from CSV text, looked up by ET trade date.

The rates are data (`regulatory_fees.csv` beside this module, one row per fee and period with the notice it
comes from), never constants in code. `parse_fee_schedule(text)` is pure; `packaged_fee_schedule_text()`
reads the packaged file through importlib.resources (the only file access in the package) for callers that
do not pass their own text. A fill's trade date is its ET calendar date (`trade_date`), as the SEC's charge
date and FINRA's TAF are reckoned on the trade date.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from importlib import resources
from zoneinfo import ZoneInfo

from processors.charges.errors import FeeScheduleError

EASTERN = ZoneInfo("America/New_York")
NS_PER_SECOND = 1_000_000_000
PACKAGED_SCHEDULE = "regulatory_fees.csv"
COLUMNS = ("fee", "effective_from", "effective_through", "rate", "unit", "maximum_per_trade", "source")


class Fee(StrEnum):
    """A regulatory fee charged on sales, with the unit its rate is given in."""

    SEC_SECTION_31 = "sec_section_31"
    FINRA_TAF = "finra_taf"

    @property
    def unit(self) -> str:
        return "per_million_dollars_sold" if self is Fee.SEC_SECTION_31 else "per_share_sold"


@dataclass(frozen=True, slots=True)
class FeeRate:
    """One row: `fee` at `rate` (in the fee's unit) for ET trade dates from `effective_from` through
    `effective_through` (None: open-ended), capped at `maximum_per_trade` dollars (None: no cap)."""

    fee: Fee
    effective_from: dt.date
    effective_through: dt.date | None
    rate: Decimal
    maximum_per_trade: Decimal | None
    source: str

    def covers(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_through is None or day <= self.effective_through)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Every row of every fee; at most one row of a fee covers a date (checked when parsed)."""

    rates: tuple[FeeRate, ...]

    def __post_init__(self) -> None:
        for fee in Fee:
            rows = sorted((row for row in self.rates if row.fee is fee), key=lambda row: row.effective_from)
            for earlier, later in zip(rows, rows[1:]):
                if earlier.effective_through is None or earlier.effective_through >= later.effective_from:
                    raise FeeScheduleError(f"{fee} rows overlap: the row from {earlier.effective_from} still covers "
                                           f"{later.effective_from}, where the next row starts; end it the day before")

    def rate(self, fee: Fee, day: dt.date) -> FeeRate:
        """The row of `fee` in force on ET trade date `day`; FeeScheduleError if no row covers it."""
        for row in self.rates:
            if row.fee is fee and row.covers(day):
                return row
        raise FeeScheduleError(f"the fee schedule has no {fee} row for trade date {day}: add the row from the "
                               f"regulator's notice to {PACKAGED_SCHEDULE} (or the schedule given)")


def trade_date(ts_event: int) -> dt.date:
    """The ET calendar date of an instant in integer nanoseconds UTC (the fill's trade date)."""
    return dt.datetime.fromtimestamp(ts_event // NS_PER_SECOND, EASTERN).date()


def packaged_fee_schedule_text() -> str:
    """The text of the schedule shipped in this package."""
    return resources.files("processors.charges").joinpath(PACKAGED_SCHEDULE).read_text(encoding="utf-8")


def parse_fee_schedule(text: str) -> FeeSchedule:
    """The schedule in CSV `text` (lines starting with `#` are comments; the header names `COLUMNS`).
    FeeScheduleError names the line and column of the first bad cell."""
    rows = [(number, next(csv.reader([line]))) for number, line in _data_lines(text.splitlines())]
    if not rows:
        raise FeeScheduleError("the fee schedule has no header line (expected " + ",".join(COLUMNS) + ")")
    (header_line, header), rows = rows[0], rows[1:]
    if tuple(cell.strip() for cell in header) != COLUMNS:
        raise FeeScheduleError(f"line {header_line}: the header is {','.join(header)!r}, "
                               f"expected {','.join(COLUMNS)!r}")
    rates = []
    for number, cells in rows:
        if len(cells) != len(COLUMNS):
            raise FeeScheduleError(f"line {number}: {len(cells)} cells, expected {len(COLUMNS)} ({','.join(COLUMNS)})")
        rates.append(_row(number, dict(zip(COLUMNS, (cell.strip() for cell in cells)))))
    return FeeSchedule(tuple(rates))


def _data_lines(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(lines, start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line


def _row(number: int, cells: dict[str, str]) -> FeeRate:
    try:
        fee = Fee(cells["fee"])
    except ValueError:
        raise _bad(number, cells, "fee", "is not a known fee (" + ", ".join(Fee) + ")") from None
    if cells["unit"] != fee.unit:
        raise _bad(number, cells, "unit", f"is not the unit of {fee} ({fee.unit})")
    effective_from = _date(number, cells, "effective_from")
    effective_through = _date(number, cells, "effective_through") if cells["effective_through"] else None
    if effective_through is not None and effective_through < effective_from:
        raise _bad(number, cells, "effective_through", f"is before effective_from {effective_from}")
    rate = _amount(number, cells, "rate")
    maximum = _amount(number, cells, "maximum_per_trade") if cells["maximum_per_trade"] else None
    if not cells["source"]:
        raise _bad(number, cells, "source", "is empty: every rate cites the notice it comes from")
    return FeeRate(fee, effective_from, effective_through, rate, maximum, cells["source"])


def _bad(number: int, cells: dict[str, str], column: str, why: str) -> FeeScheduleError:
    return FeeScheduleError(f"line {number}, column {column}: {cells[column]!r} {why}")


def _date(number: int, cells: dict[str, str], column: str) -> dt.date:
    try:
        return dt.date.fromisoformat(cells[column])
    except ValueError:
        raise _bad(number, cells, column, "is not a date (YYYY-MM-DD)") from None


def _amount(number: int, cells: dict[str, str], column: str) -> Decimal:
    try:
        value = Decimal(cells[column])
    except InvalidOperation:
        raise _bad(number, cells, column, "is not a decimal number") from None
    if not value.is_finite() or value < 0:
        raise _bad(number, cells, column, "is not a finite, non-negative amount")
    return value

"""The regulatory fee schedule is data: the packaged CSV parses, cites a notice on every row, gives the rates
the notices give on each side of every change, and a malformed or missing row is an error naming it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.charges import Fee, FeeScheduleError, packaged_fee_schedule_text, parse_fee_schedule, trade_date

HEADER = "fee,effective_from,effective_through,rate,unit,maximum_per_trade,source"
SCHEDULE = parse_fee_schedule(packaged_fee_schedule_text())


@pytest.mark.parametrize(("fee", "day", "rate", "maximum"), [
    (Fee.SEC_SECTION_31, "2025-05-13", "27.80", None),
    (Fee.SEC_SECTION_31, "2025-05-14", "0.00", None),
    (Fee.SEC_SECTION_31, "2026-04-03", "0.00", None),
    (Fee.SEC_SECTION_31, "2026-04-04", "20.60", None),
    (Fee.SEC_SECTION_31, "2030-01-02", "20.60", None),   # in force until the SEC orders another rate
    (Fee.FINRA_TAF, "2025-12-31", "0.000166", "8.30"),
    (Fee.FINRA_TAF, "2026-01-01", "0.000195", "9.79"),
    (Fee.FINRA_TAF, "2026-09-30", "0.000195", "9.79"),
    (Fee.FINRA_TAF, "2026-10-01", "0", "0.00"),          # the TAF holiday
    (Fee.FINRA_TAF, "2026-12-31", "0", "0.00"),
    (Fee.FINRA_TAF, "2027-01-01", "0.000232", "11.61"),
    (Fee.FINRA_TAF, "2027-12-31", "0.000232", "11.61"),
])
def test_packaged_rates_on_each_side_of_every_change(fee: Fee, day: str, rate: str, maximum: str | None) -> None:
    row = SCHEDULE.rate(fee, dt.date.fromisoformat(day))
    assert row.rate == Decimal(rate)
    assert row.maximum_per_trade == (None if maximum is None else Decimal(maximum))


def test_every_packaged_row_cites_its_notice() -> None:
    assert SCHEDULE.rates and all(row.source for row in SCHEDULE.rates)
    assert all(isinstance(row.rate, Decimal) for row in SCHEDULE.rates)


@pytest.mark.parametrize(("fee", "day"), [(Fee.FINRA_TAF, "2028-01-03"), (Fee.SEC_SECTION_31, "2024-12-31"),
                                          (Fee.FINRA_TAF, "2024-12-31")])
def test_a_date_without_a_row_is_an_error_not_a_zero_fee(fee: Fee, day: str) -> None:
    with pytest.raises(FeeScheduleError, match=f"no {fee} row for trade date {day}"):
        SCHEDULE.rate(fee, dt.date.fromisoformat(day))


@pytest.mark.parametrize(("iso", "expected"), [
    ("2026-05-01T13:30:00+00:00", "2026-05-01"),   # 09:30 EDT
    ("2026-05-02T02:00:00+00:00", "2026-05-01"),   # 22:00 EDT the day before in UTC terms
    ("2026-01-15T04:30:00+00:00", "2026-01-14"),   # 23:30 EST
    ("2026-01-15T05:00:00+00:00", "2026-01-15"),   # midnight EST
])
def test_trade_date_is_the_eastern_calendar_date(iso: str, expected: str) -> None:
    ns = int(dt.datetime.fromisoformat(iso).timestamp()) * 1_000_000_000
    assert trade_date(ns) == dt.date.fromisoformat(expected)


def test_comments_and_blank_lines_are_ignored() -> None:
    schedule = parse_fee_schedule(f"# a comment\n\n{HEADER}\n  # indented comment\n"
                                  "finra_taf,2026-01-01,,0.000195,per_share_sold,9.79,notice\n")
    assert schedule.rate(Fee.FINRA_TAF, dt.date(2026, 6, 1)).maximum_per_trade == Decimal("9.79")


@pytest.mark.parametrize(("row", "message"), [
    ("cat_fee,2026-01-01,,0.1,per_share_sold,,n", "line 2, column fee: 'cat_fee' is not a known fee"),
    ("finra_taf,2026-01-01,,0.1,per_million_dollars_sold,,n", "line 2, column unit"),
    ("finra_taf,2026-13-01,,0.1,per_share_sold,,n", "line 2, column effective_from: '2026-13-01' is not a date"),
    ("finra_taf,2026-02-01,2026-01-31,0.1,per_share_sold,,n", "line 2, column effective_through: .* is before"),
    ("finra_taf,2026-01-01,,-0.1,per_share_sold,,n", "line 2, column rate: '-0.1' is not a finite, non-negative"),
    ("finra_taf,2026-01-01,,abc,per_share_sold,,n", "line 2, column rate: 'abc' is not a decimal number"),
    ("finra_taf,2026-01-01,,0.1,per_share_sold,x,n", "line 2, column maximum_per_trade"),
    ("finra_taf,2026-01-01,,0.1,per_share_sold,,", "line 2, column source: '' is empty"),
    ("finra_taf,2026-01-01,,0.1,per_share_sold", "line 2: 5 cells, expected 7"),
])
def test_a_bad_row_is_named_by_line_and_column(row: str, message: str) -> None:
    with pytest.raises(FeeScheduleError, match=message):
        parse_fee_schedule(f"{HEADER}\n{row}\n")


def test_a_wrong_header_is_refused() -> None:
    with pytest.raises(FeeScheduleError, match="line 2: the header"):
        parse_fee_schedule("# rates\nfee,from,through,rate\n")
    with pytest.raises(FeeScheduleError, match="no header"):
        parse_fee_schedule("# nothing but comments\n")


def test_overlapping_rows_of_one_fee_are_refused() -> None:
    with pytest.raises(FeeScheduleError, match="finra_taf rows overlap"):
        parse_fee_schedule(f"{HEADER}\nfinra_taf,2026-01-01,,0.000195,per_share_sold,9.79,a\n"
                           "finra_taf,2027-01-01,,0.000232,per_share_sold,11.61,b\n")

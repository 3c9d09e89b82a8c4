"""The SEC Section 31 fee and the FINRA TAF on single sales, computed by hand, rounded up to the cent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.charges import (ChargesError, FeeScheduleError, RegulatoryFees, packaged_fee_schedule_text,
                                parse_fee_schedule, sale_fees, section_31_fee, trading_activity_fee)

SCHEDULE = parse_fee_schedule(packaged_fee_schedule_text())


@pytest.mark.parametrize(("day", "sale_value", "expected"), [
    ("2026-05-01", "1234567.89", "25.44"),  # 1,234,567.89 x 20.60 / 1,000,000 = 25.43209853... -> up to 25.44
    ("2026-05-01", "10000.00", "0.21"),     # 0.206 -> 0.21
    ("2026-05-01", "48.54", "0.01"),        # 0.000999924 -> 0.01: any fee above zero is at least a cent
    ("2026-04-03", "1234567.89", "0.00"),   # the last day of the $0.00 rate
    ("2025-03-03", "10000.00", "0.28"),     # 10,000 x 27.80 / 1,000,000 = 0.278 -> 0.28
])
def test_section_31_fee(day: str, sale_value: str, expected: str) -> None:
    assert section_31_fee(SCHEDULE, dt.date.fromisoformat(day), Decimal(sale_value)) == Decimal(expected)


@pytest.mark.parametrize(("day", "quantity", "expected"), [
    ("2026-06-01", 2000, "0.39"),     # 2,000 x 0.000195 = 0.39 exactly
    ("2026-06-01", 60, "0.02"),       # 0.0117 -> up to 0.02
    ("2026-06-01", 60000, "9.79"),    # 11.70, capped at 9.79
    ("2026-11-02", 60000, "0.00"),    # TAF holiday
    ("2027-01-04", 1000, "0.24"),     # 0.232 -> 0.24
    ("2027-01-04", 50000, "11.60"),   # just under the cap
    ("2027-01-04", 60000, "11.61"),   # 13.92, capped at 11.61
])
def test_trading_activity_fee(day: str, quantity: int, expected: str) -> None:
    assert trading_activity_fee(SCHEDULE, dt.date.fromisoformat(day), quantity) == Decimal(expected)


def test_sale_fees_of_one_sale() -> None:
    fees = sale_fees(SCHEDULE, dt.date(2026, 5, 1), 300, Decimal("25.10"))
    # SEC: 7,530.00 x 20.60 / 1e6 = 0.155118 -> 0.16; TAF: 300 x 0.000195 = 0.0585 -> 0.06
    assert fees == RegulatoryFees(Decimal("0.16"), Decimal("0.06"))
    assert fees.total == Decimal("0.22")


def test_a_sale_on_a_date_the_schedule_does_not_cover_is_an_error() -> None:
    with pytest.raises(FeeScheduleError, match="finra_taf row for trade date 2028-03-01"):
        sale_fees(SCHEDULE, dt.date(2028, 3, 1), 100, Decimal("10"))


def test_a_float_sale_value_is_refused() -> None:
    with pytest.raises(ChargesError, match="sale_value must be a Decimal, not float"):
        section_31_fee(SCHEDULE, dt.date(2026, 5, 1), 1000.0)  # type: ignore[arg-type]

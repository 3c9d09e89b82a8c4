"""All the charges of one fill: the commission's increment for its order, plus the regulatory fees on a sale
at the rates of its ET trade date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.charges import (IBKR_FIXED, NO_REGULATORY_FEES, ChargesError, OrderCommission, RegulatoryFees,
                                charge_fill, default_charges_model)

MODEL = default_charges_model()


def ns(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp()) * 1_000_000_000


def test_default_model_is_ibkr_fixed_with_the_packaged_schedule() -> None:
    assert MODEL.commission == IBKR_FIXED
    assert MODEL.regulatory_fees.rates


def test_a_purchase_pays_commission_only() -> None:
    at = ns("2026-05-01T14:00:00+00:00")
    charges, order = charge_fill(MODEL, OrderCommission(), "BUY", 300, Decimal("25.10"), at)
    assert charges.commission == Decimal("1.50") and charges.regulatory == NO_REGULATORY_FEES
    assert charges.total == Decimal("1.50") and order.filled_quantity == 300


def test_a_sale_pays_commission_and_regulatory_fees() -> None:
    charges, _ = charge_fill(MODEL, OrderCommission(), "SELL", 300, Decimal("25.10"), ns("2026-05-01T14:00:00+00:00"))
    # commission 300 x 0.005 = 1.50; SEC 7,530 x 20.60e-6 = 0.155118 -> 0.16; TAF 300 x 0.000195 = 0.0585 -> 0.06
    assert charges.commission == Decimal("1.50")
    assert charges.regulatory == RegulatoryFees(Decimal("0.16"), Decimal("0.06"))
    assert charges.total == Decimal("1.72")


def test_the_trade_date_is_eastern() -> None:
    # 2026-04-04T02:00Z is 22:00 on April 3 in New York: the $0.00 SEC rate still applies
    charges, _ = charge_fill(MODEL, OrderCommission(), "SELL", 1000, Decimal("100"), ns("2026-04-04T02:00:00+00:00"))
    assert charges.regulatory.section_31 == Decimal("0.00")
    charges, _ = charge_fill(MODEL, OrderCommission(), "SELL", 1000, Decimal("100"), ns("2026-04-04T14:00:00+00:00"))
    assert charges.regulatory.section_31 == Decimal("2.06")  # 100,000 x 20.60 / 1e6


def test_two_fills_of_one_sale_order() -> None:
    at = ns("2026-06-01T15:00:00+00:00")
    first, order = charge_fill(MODEL, OrderCommission(), "SELL", 150, Decimal("25.10"), at)
    second, order = charge_fill(MODEL, order, "SELL", 150, Decimal("25.10"), at)
    assert (first.commission, second.commission) == (Decimal("1.00"), Decimal("0.50"))  # the order pays 1.50
    # each fill is a trade for the regulatory fees: SEC 3,765 x 20.6e-6 = 0.077559 -> 0.08, TAF 0.02925 -> 0.03
    assert first.regulatory == second.regulatory == RegulatoryFees(Decimal("0.08"), Decimal("0.03"))


def test_a_bad_side_is_refused() -> None:
    with pytest.raises(ChargesError, match="side must be BUY or SELL, not 'SHORT'"):
        charge_fill(MODEL, OrderCommission(), "SHORT", 100, Decimal("10"), 0)

"""IBKR fixed pricing: USD 0.005 per share, minimum USD 1.00 and maximum 1% of trade value per order, with the
order's minimum paid once however many fills it takes. Expected figures are computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.charges import (IBKR_FIXED, ZERO_COMMISSION, ChargesError, CommissionModel, OrderCommission,
                                add_fill, fill_commissions)


@pytest.mark.parametrize(("quantity", "price", "expected"), [
    (100, "25", "1.00"),      # 0.50 per share, raised to the USD 1.00 minimum (IBKR's own example)
    (1000, "25", "5.00"),     # 1,000 x 0.005 (IBKR's own example)
    (1000, "0.25", "2.50"),   # 5.00 per share, capped at 1% of USD 250 (IBKR's own example)
    (500, "0.50", "2.50"),    # 2.50 per share, and 1% of USD 250 is 2.50
    (100, "0.50", "0.50"),    # minimum 1.00, but the cap (1% of USD 50) is applied last and wins
    (101, "10", "1.00"),      # 0.505 is under the minimum
    (301, "10", "1.51"),      # 1.505 rounds half up to the cent
    (1001, "10", "5.01"),     # 5.005 rounds half up
    (20000, "150", "100.00"),  # no upper limit in dollars: 20,000 x 0.005
])
def test_order_commission_by_hand(quantity: int, price: str, expected: str) -> None:
    commission = IBKR_FIXED.order_commission(quantity, quantity * Decimal(price))
    assert commission == Decimal(expected)
    assert commission.as_tuple().exponent == -2


def test_an_order_in_several_fills_pays_the_minimum_once() -> None:
    fills = [(100, Decimal("25")), (100, Decimal("25")), (101, Decimal("25"))]
    # cumulative 100 -> 1.00, 200 -> 1.00, 301 -> 1.505 -> 1.51: each fill pays the increase
    assert fill_commissions(IBKR_FIXED, fills) == [Decimal("1.00"), Decimal("0.00"), Decimal("0.51")]
    # the same fills as three separate orders pay the minimum three times, and 101 shares pay 1.00 not 0.51
    assert [IBKR_FIXED.order_commission(q, q * p) for q, p in fills] == [Decimal("1.00")] * 3


def test_add_fill_returns_the_order_after_the_fill() -> None:
    commission, order = add_fill(IBKR_FIXED, OrderCommission(), 300, Decimal("10.00"))
    assert commission == Decimal("1.50")
    assert order == OrderCommission(300, Decimal("3000.00"), Decimal("1.50"))
    commission, order = add_fill(IBKR_FIXED, order, 1, Decimal("10.00"))
    assert (commission, order.commission) == (Decimal("0.01"), Decimal("1.51"))  # 1.505 -> 1.51


def test_zero_commission_model() -> None:
    assert ZERO_COMMISSION.order_commission(1000, Decimal("25000")) == Decimal("0.00")


@pytest.mark.parametrize(("quantity", "price"), [(100, 25.0), (0, Decimal("25")), (-5, Decimal("25")),
                                                 (True, Decimal("25")), (100, Decimal("0")), (100, Decimal("NaN"))])
def test_bad_fills_are_refused_naming_the_value(quantity: object, price: object) -> None:
    with pytest.raises(ChargesError, match="quantity|price"):
        add_fill(IBKR_FIXED, OrderCommission(), quantity, price)  # type: ignore[arg-type]


def test_a_model_with_a_negative_rate_is_refused() -> None:
    with pytest.raises(ChargesError, match="per_share"):
        CommissionModel(Decimal("-0.005"), Decimal("1.00"), Decimal("0.01"))
    with pytest.raises(ChargesError, match="maximum_rate_of_trade_value"):
        CommissionModel(Decimal("0.005"), Decimal("1.00"), Decimal("0"))


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("2000"), places=4)
fills = st.lists(st.tuples(st.integers(min_value=1, max_value=20_000), prices), min_size=1, max_size=12)


@given(fills)
def test_fills_of_one_order_sum_to_the_order_commission(order_fills: list[tuple[int, Decimal]]) -> None:
    charged = fill_commissions(IBKR_FIXED, order_fills)
    quantity = sum(q for q, _ in order_fills)
    value = sum((q * p for q, p in order_fills), Decimal(0))
    assert sum(charged, Decimal(0)) == IBKR_FIXED.order_commission(quantity, value)
    assert all(type(c) is Decimal and c >= 0 and c == c.quantize(Decimal("0.01")) for c in charged)

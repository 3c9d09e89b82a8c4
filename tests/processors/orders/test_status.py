"""An order's status now from its newest status event and its fills, and what its fills add up to (figures by
hand)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processors.orders.status import OrderFills, order_status
from processors.pnl import Fill, average_price


@pytest.mark.parametrize(("event_status", "quantity", "filled", "expected"), [
    ("Placed", 100, 0, "Placed"),          # accepted, nothing filled
    ("Placed", 100, 100, "Success"),       # a market order ACCEPTED, then filled in full
    ("Placed", 100, 40, "Pending"),        # partly filled, the rest working
    ("Pending", 100, 100, "Success"),      # the event saw a part; the fills now add up to all of it
    ("Initiated", 0, 0, "Initiated"),      # a bracket child before its entry fills
    ("Cancelled", 100, 40, "Cancelled"),   # cancelled after a part: final, its fills say what filled
    ("Failed", 100, 0, "Failed"),
    ("Success", 100, 60, "Success"),       # the broker says filled; fills not all stored yet
    (None, 5, 0, None),                    # a command for an unknown order was refused
])
def test_the_status_of_an_order_from_its_event_and_fills(event_status: str | None, quantity: int, filled: int,
                                                          expected: str | None) -> None:
    assert order_status(event_status, quantity, filled) == expected


def test_negative_fills_are_refused() -> None:
    with pytest.raises(ValueError, match="filled_quantity"):
        order_status("Placed", 1, -1)


def test_the_figures_of_an_orders_fills() -> None:
    # 1 @ 10.00 and 2 @ 10.01: value 30.02, average 10.00666... (does not terminate: 8 places, half up)
    fills = OrderFills.of(3, Decimal("30.02000000"), Decimal("1.00350000"))
    assert (fills.average_price, fills.charges) == (Decimal("10.00666667"), Decimal("1.00350000"))
    assert fills.average_price == average_price([Fill(1, 1, Decimal("10.00")), Fill(2, 2, Decimal("10.01"))])
    assert OrderFills.of(4, Decimal("18.00000000"), Decimal(0)).average_price == Decimal("4.50")   # exact
    assert OrderFills.of(0, Decimal(0), Decimal(0)).average_price is None

"""Money as exact `Decimal`s, and the two rounding rules the charges use.

- `round_charge`: a commission is rounded to the cent, half up (ROUND_HALF_UP: 0.505 -> 0.51), the rule
  customers expect of a charge and the one the issue asks for; IBKR does not publish a rounding rule for its
  fixed commission (its examples are whole cents).
- `round_up_to_cent`: a regulatory fee passed through to the customer is rounded UP to the next cent
  (ROUND_CEILING: 0.0117 -> 0.02), as broker disclosures state for the SEC fee and the FINRA TAF ("rounded up
  to the nearest penny": M1 Finance, Motif Investing, Gotrade and Baraka help pages). Some brokers round to the
  nearest cent instead; rounding up is the standard pass-through and never undercharges.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from processors.charges.errors import ChargesError

CENT = Decimal("0.01")
ZERO_MONEY = Decimal("0.00")


def round_charge(amount: Decimal) -> Decimal:
    """`amount` to the cent, half up."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_up_to_cent(amount: Decimal) -> Decimal:
    """`amount` to the cent, up (toward +infinity)."""
    return amount.quantize(CENT, rounding=ROUND_CEILING)


def require_price(price: object, name: str = "price") -> Decimal:
    """`price` if it is a finite, positive Decimal; ChargesError naming `name` otherwise (a float is refused:
    binary fractions cannot hold cents exactly)."""
    if not isinstance(price, Decimal):
        raise ChargesError(f"{name} must be a Decimal, not {type(price).__name__} ({price!r})")
    if not price.is_finite() or price <= 0:
        raise ChargesError(f"{name} must be a finite positive Decimal, not {price}")
    return price


def require_quantity(quantity: object, name: str = "quantity") -> int:
    """`quantity` if it is a positive int (whole shares); ChargesError naming `name` otherwise."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise ChargesError(f"{name} must be a whole number of shares (int), not {type(quantity).__name__}")
    if quantity <= 0:
        raise ChargesError(f"{name} must be positive, not {quantity}")
    return quantity

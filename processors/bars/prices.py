"""Exact bar prices: OHLC are the input prices as decimals, VWAP an exact sum in units of 1e-8 rounded
half-even to 8 decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

PRICE_SCALE = 100_000_000  # prices in units of 1e-8 for exact VWAP sums
_EIGHT = Decimal("0.00000001")


def price_units(price: float) -> int:
    return round(price * PRICE_SCALE)


def to_decimal(price: float) -> Decimal:
    """The exact decimal of an input price that went through float (repr round-trips)."""
    return Decimal(repr(price))


def eight_decimals(value: Decimal) -> Decimal:
    """`value` rounded half-even to 8 decimals (a VWAP's precision)."""
    return value.quantize(_EIGHT, ROUND_HALF_EVEN)


def vwap_decimal(pv_units: int, volume: int) -> Decimal:
    return eight_decimals(Decimal(pv_units) / Decimal(volume) / PRICE_SCALE)

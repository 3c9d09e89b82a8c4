"""Checking the fields of the trade manager's settings and events, each failure a `TradeError` naming the field.

Prices and money are `Decimal` (an `int` is accepted); a `float` is refused, since its binary value is not the
decimal that was meant: convert with `Decimal(str(x))` at the edge. Quantities are whole shares (`int`).
Prices compared in the sweep are integer counts of 1e-8 (`processors.model.price_e8`): a trade price with
more than 8 decimal places is refused.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from processors.model import price_e8
from processors.trades.errors import TradeError


def decimal_field(value: object, name: str, *, above: Decimal | int | None = None,
                  minimum: Decimal | int | None = None, maximum: Decimal | int | None = None) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise TradeError(name, f"must be a Decimal (or int), got {type(value).__name__} {value!r}; "
                               "convert floats with Decimal(str(x))")
    result = value if type(value) is Decimal else Decimal(value)
    if not result.is_finite():
        raise TradeError(name, f"must be finite, got {value!r}")
    if above is not None and not result > above:
        raise TradeError(name, f"must be more than {above}, got {result}")
    if minimum is not None and result < minimum:
        raise TradeError(name, f"must be at least {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise TradeError(name, f"must be at most {maximum}, got {result}")
    return result


def price_field(value: object, name: str) -> Decimal:
    """A price: a finite Decimal above zero with at most 8 decimal places."""
    return price_units_field(value, name)[0]


def price_units_field(value: object, name: str) -> tuple[Decimal, int]:
    """`price_field`, and the price as its integer count of 1e-8 (`price_e8`)."""
    price = decimal_field(value, name, above=0)
    try:
        return price, price_e8(price)
    except ValueError:
        raise TradeError(name, f"must have at most 8 decimal places, got {price}") from None


def int_field(value: object, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TradeError(name, f"must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise TradeError(name, f"must be at least {minimum}, got {value}")
    return value


def text_field(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TradeError(name, f"must be a non-empty string, got {value!r}")
    return value


def bool_field(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TradeError(name, f"must be True or False, got {value!r}")
    return value


def set_field(record: object, attribute: str, value: object) -> None:
    """Store a checked (converted) value back on a frozen record."""
    object.__setattr__(record, attribute, value)


def floor_e8(price: Decimal) -> int:
    """The largest count of 1e-8 at or below `price` (a price p on the 1e-8 grid is <= price iff its count is
    <= this)."""
    return int(price.scaleb(8).to_integral_value(ROUND_FLOOR))


def ceil_e8(price: Decimal) -> int:
    """The smallest count of 1e-8 at or above `price`."""
    return int(price.scaleb(8).to_integral_value(ROUND_CEILING))

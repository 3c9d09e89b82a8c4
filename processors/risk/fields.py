"""Checking the fields of the risk package's records, each failure a `RiskConfigError` naming the field.

Money, prices and percentages are `Decimal` (or `int`); a `float` is refused, since its binary value is
not the decimal that was meant: convert with `Decimal(str(x))` at the edge. Percentages are numbers of
percent (`Decimal("1")` is 1 %).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.risk.errors import RiskConfigError


def decimal_field(value: object, name: str, *, minimum: Decimal | int | None = None,
                  maximum: Decimal | int | None = None, above: Decimal | int | None = None) -> Decimal:
    """`value` as a finite Decimal within the bounds (`minimum`/`maximum` inclusive, `above` exclusive)."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise RiskConfigError(name, f"must be a Decimal (or int), got {type(value).__name__} {value!r}; "
                                    "convert floats with Decimal(str(x))")
    result = Decimal(value)
    if not result.is_finite():
        raise RiskConfigError(name, f"must be finite, got {value!r}")
    if above is not None and not result > above:
        raise RiskConfigError(name, f"must be more than {above}, got {result}")
    if minimum is not None and result < minimum:
        raise RiskConfigError(name, f"must be at least {minimum}, got {result}")
    if maximum is not None and result > maximum:
        raise RiskConfigError(name, f"must be at most {maximum}, got {result}")
    return result


def int_field(value: object, name: str, *, minimum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RiskConfigError(name, f"must be an integer, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise RiskConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def text_field(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RiskConfigError(name, f"must be a non-empty string, got {value!r}")
    return value


def date_field(value: object, name: str) -> dt.date:
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise RiskConfigError(name, f"must be a datetime.date, got {value!r}")
    return value


def bool_field(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise RiskConfigError(name, f"must be True or False, got {value!r}")
    return value


def set_decimal(record: object, attribute: str, prefix: str, **bounds: Decimal | int | None) -> None:
    """Check `record.attribute` with `decimal_field` and store it back as a Decimal (frozen records)."""
    value = decimal_field(getattr(record, attribute), f"{prefix}{attribute}", **bounds)
    object.__setattr__(record, attribute, value)

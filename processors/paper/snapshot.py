"""The broker's state as a plain dict of str, int, bool, None and lists (JSON-safe, for a changelog), and back.

    {"format": 1, "next_sequence": 7, "orders": [{"client_order_id": "...", "limit_price": "101.25", ...}]}

Decimals are written as strings (exact), enums as their values. `decode_state` raises PaperBrokerError
naming the field for a snapshot it cannot read.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from processors.paper.errors import PaperBrokerError
from processors.paper.orders import BracketRole, OrderState, OrderStatus, OrderType, Side

FORMAT = 1

_DECIMALS = frozenset({"tick_size", "limit_price", "stop_price", "filled_notional"})
_ENUMS: dict[str, type[StrEnum]] = {"side": Side, "order_type": OrderType, "status": OrderStatus,
                                     "role": BracketRole}
_FIELDS = tuple(f.name for f in fields(OrderState))


def encode_order(order: OrderState) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for name in _FIELDS:
        value = getattr(order, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, StrEnum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        encoded[name] = value
    return encoded


def decode_order(data: dict[str, Any], where: str) -> OrderState:
    values: dict[str, Any] = {}
    for name in _FIELDS:
        if name not in data:
            raise PaperBrokerError(f"{where}.{name}", "is missing")
        value = data[name]
        try:
            if value is not None and name in _DECIMALS:
                value = Decimal(value)
            elif value is not None and name in _ENUMS:
                value = _ENUMS[name](value)
            elif name == "children":
                value = tuple(value)
        except (InvalidOperation, ValueError, TypeError) as error:
            raise PaperBrokerError(f"{where}.{name}", f"cannot be read from {value!r}: {error}") from None
        values[name] = value
    return OrderState(**values)


def encode_state(next_sequence: int, orders: list[OrderState]) -> dict[str, Any]:
    return {"format": FORMAT, "next_sequence": next_sequence, "orders": [encode_order(o) for o in orders]}


def decode_state(snapshot: dict[str, Any]) -> tuple[int, list[OrderState]]:
    if not isinstance(snapshot, dict):
        raise PaperBrokerError("snapshot", f"must be a dict, got {type(snapshot).__name__}")
    if snapshot.get("format") != FORMAT:
        raise PaperBrokerError("snapshot.format", f"must be {FORMAT}, got {snapshot.get('format')!r}")
    next_sequence = snapshot.get("next_sequence")
    if isinstance(next_sequence, bool) or not isinstance(next_sequence, int) or next_sequence < 1:
        raise PaperBrokerError("snapshot.next_sequence", f"must be a positive int, got {next_sequence!r}")
    orders = snapshot.get("orders")
    if not isinstance(orders, list):
        raise PaperBrokerError("snapshot.orders", "must be a list")
    return next_sequence, [decode_order(order, f"snapshot.orders[{i}]") for i, order in enumerate(orders)]

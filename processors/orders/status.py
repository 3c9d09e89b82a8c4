"""An order as it stands: its newest status event and its fills, read together.

A fill is a `FillExecuted`, not an order status event, so an order's newest `OrderStatusChanged` (a market order's
ACCEPTED, Placed, filled 0) says nothing of the fills that followed it. What the order is now, in the platform's
order-status vocabulary (`processors.paper.orders.OrderStatus`):

    Failed, Cancelled, Success   as the newest event says: final, whatever fills are known
    Success                      its fills add up to its quantity (filled in full)
    Pending                      some units filled, the rest still working
    the event's status           nothing filled yet (Initiated, Placed; None when the event names no status)

A bracket's stop or target that filled its whole quantity is Success here; should its entry fill more, the broker's
next event for the child (its quantity grown, Pending) is newer and says so.

    order_status(event_status, quantity, filled_quantity) -> the status above
    OrderFills.of(quantity, value, charges)               -> the fills' figures (average price exact, as pnl.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from processors.paper.orders import OrderStatus
from processors.pnl import average_of

FINAL = frozenset({OrderStatus.SUCCESS.value, OrderStatus.FAILED.value, OrderStatus.CANCELLED.value})


def order_status(event_status: str | None, quantity: int, filled_quantity: int) -> str | None:
    """The order's status given its newest event's `event_status` and `quantity` and the units its fills add up to."""
    if filled_quantity < 0:
        raise ValueError(f"filled_quantity must not be negative, got {filled_quantity}")
    if event_status in FINAL:
        return event_status
    if filled_quantity > 0:
        return OrderStatus.SUCCESS.value if filled_quantity >= quantity else OrderStatus.PENDING.value
    return event_status


@dataclass(frozen=True, slots=True)
class OrderFills:
    """What an order's fills add up to: units, their value (sum of quantity x price, before any contract
    multiplier), the average price (None before any fill) and the charges (commission and regulatory fees)."""

    quantity: int
    value: Decimal
    average_price: Decimal | None
    charges: Decimal

    @classmethod
    def of(cls, quantity: int, value: Decimal, charges: Decimal) -> OrderFills:
        if quantity < 0:
            raise ValueError(f"quantity must not be negative, got {quantity}")
        return cls(quantity, value, average_of(value, quantity) if quantity else None, charges)

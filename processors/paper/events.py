"""What the paper broker reports, facts in the past tense, each for one order and at `ts_event` (int ns UTC:
the time of the command, of the print, or the end of the bar that caused it).

    OrderAccepted    a place was accepted (a bracket: three, the children Initiated)
    OrderRejected    a place, modify or cancel was refused; `operation` and `reason` say which and why;
                     `status` is Failed for a place, the order's unchanged status otherwise (None: unknown id)
    OrderModified    quantity, prices or status changed other than by a fill: on request, or a bracket child
                     following its entry's fills and its sibling's (`reason` says which)
    OrderTriggered   a stop or stop-limit was triggered by a print at or through its stop, at `price`
    OrderFilled      a fill: `exec_id` = "<client order id>-<n>" for its n-th fill (a replay gives the same ids)
    OrderCancelled   cancelled by request or by its bracket (`reason`); `filled_quantity` filled before
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from processors.paper.orders import OrderStatus, OrderType, Side


class Operation(StrEnum):
    PLACE = "place"
    MODIFY = "modify"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted:
    client_order_id: str
    ts_event: int
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    parent_order_id: str | None = None
    oca_group: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected:
    client_order_id: str
    ts_event: int
    operation: Operation
    reason: str
    status: OrderStatus | None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderModified:
    client_order_id: str
    ts_event: int
    quantity: int
    limit_price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTriggered:
    client_order_id: str
    ts_event: int
    symbol: str
    price: Decimal
    status: OrderStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled:
    client_order_id: str
    exec_id: str
    ts_event: int
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    filled_quantity: int
    leaves_quantity: int
    status: OrderStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelled:
    client_order_id: str
    ts_event: int
    filled_quantity: int
    reason: str
    status: OrderStatus = OrderStatus.CANCELLED


PaperEvent = OrderAccepted | OrderRejected | OrderModified | OrderTriggered | OrderFilled | OrderCancelled

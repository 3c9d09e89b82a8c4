"""The desk's record of each order it placed, and the broker's events as the Kafka events the desk publishes.

    DeskOrder       who an order is for (account, strategy, trade), what it is, what it has filled, its
                    commission so far (one `OrderCommission` per order, so the per-order minimum and maximum
                    apply across its fills) and the sequence number of its next status event
    status_event    a paper-broker event other than a fill -> `OrderStatusChanged` (sequence from 0 per order,
                    broker "paper", the order's status as the broker gives it)
    fill_event      an `OrderFilled` with its charges -> `FillExecuted`
    BrokerEvent     an order event from a live broker (the paper broker's event language) with the broker's
                    own identity of the order: its raw state, order id and permanent id

The broker is the paper broker's ("paper") unless the order's account trades elsewhere (`DeskOrder.broker`);
a live broker's events carry its ids into the OrderStatusChanged and FillExecuted events.

An entry order's id is the intent's client order id and is also its trade's id; an exit order's id is the
trade manager's request id ("<trade id>:exit:<n>"); an add-on's (an entry adding units to a running trade, asked
by an operator: desk_manual.py) is the operator's action id, its trade id the trade it adds to (`adds_on`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from processors.charges import FillCharges, OrderCommission
from processors.model import FillExecuted, OrderStatusChanged
from processors.paper import (OrderAccepted, OrderCancelled, OrderFilled, OrderModified, OrderRejected,
                              OrderTriggered, PaperEvent, PaperOrder)

BROKER = "paper"
ENTRY = "entry"
EXIT = "exit"


@dataclass(slots=True, kw_only=True)
class DeskOrder:
    client_order_id: str
    role: str                              # entry or exit
    account_id: str
    strategy: str
    trade_id: str
    symbol: str
    side: str
    order_type: str
    quantity: int
    tick_size: Decimal
    multiplier: int
    placed_ns: int
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    filled: int = 0
    next_sequence: int = 0
    commission: OrderCommission = field(default_factory=OrderCommission)
    # an entry: the risk decision's stop and the intent's reference price; the trade's stop and target are
    # set at its first fill (see desk.py)
    signal_price: Decimal | None = None
    decision_stop: Decimal | None = None
    trade_stop: Decimal | None = None
    trade_target: Decimal | None = None
    intraday: bool = True
    lot_size: int = 1
    signal_type: str = ""
    # an exit: the quantity the trade manager asked for; `released` once what did not fill was given back
    requested: int = 0
    released: bool = False
    broker: str = BROKER                   # where the order is sent: the paper broker, or the account's broker
    route: str = "SMART"                   # the intent's exchange (an exit: its entry's)

    @property
    def adds_on(self) -> bool:
        """An add-on: an entry order of a trade opened by another (its id is not its trade's)."""
        return self.role == ENTRY and self.client_order_id != self.trade_id

    def paper_order(self) -> PaperOrder:
        return PaperOrder(client_order_id=self.client_order_id, symbol=self.symbol, side=self.side,
                          order_type=self.order_type, quantity=self.quantity, tick_size=self.tick_size,
                          limit_price=self.limit_price, stop_price=self.stop_price)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Decimal):
                value = str(value)
            elif isinstance(value, OrderCommission):
                value = [value.filled_quantity, str(value.filled_value), str(value.commission)]
            data[item.name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeskOrder:
        values = dict(data)
        for name in _DECIMALS:
            if values[name] is not None:
                values[name] = Decimal(values[name])
        quantity, value, commission = values["commission"]
        values["commission"] = OrderCommission(quantity, Decimal(value), Decimal(commission))
        return cls(**values)


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerEvent:
    """An order event reported by a live broker, translated into the paper broker's event language (accepted,
    rejected, modified, cancelled, filled), with the broker's own identity of the order."""

    event: PaperEvent
    broker: str
    broker_status: str = ""
    broker_order_id: int | None = None
    broker_perm_id: int | None = None
    charges: FillCharges | None = None
    """An execution's charges as the broker billed them (IBKR's commission report, which includes the
    regulatory fees it passes through), in place of the desk's charges model; None: the model's."""


_DECIMALS = ("tick_size", "limit_price", "stop_price", "signal_price", "decision_stop", "trade_stop", "trade_target")

_KINDS = {OrderAccepted: "ACCEPTED", OrderRejected: "REJECTED", OrderModified: "MODIFIED",
          OrderTriggered: "TRIGGERED", OrderCancelled: "CANCELLED"}


def status_event(order: DeskOrder, event: PaperEvent, ts_init: int,
                 identity: BrokerEvent | None = None) -> OrderStatusChanged:
    """`event` (not a fill) as the order's next `OrderStatusChanged`; takes the order's next sequence number.
    With `identity` (a live broker's event), its raw state and order ids are kept beside ours."""
    sequence = order.next_sequence
    order.next_sequence += 1
    extra: dict[str, Any] = {"quantity": order.quantity, "limit_price": order.limit_price,
                             "stop_price": order.stop_price, "filled_quantity": order.filled}
    if isinstance(event, OrderAccepted):
        extra.update(quantity=event.quantity, limit_price=event.limit_price, stop_price=event.stop_price,
                     parent_order_id=event.parent_order_id, oca_group=event.oca_group)
    elif isinstance(event, OrderRejected):
        extra.update(operation=event.operation.value, reason=event.reason)
    elif isinstance(event, OrderModified):
        extra.update(quantity=event.quantity, limit_price=event.limit_price, stop_price=event.stop_price,
                     reason=event.reason)
    elif isinstance(event, OrderTriggered):
        extra.update(trigger_price=event.price)
    elif isinstance(event, OrderCancelled):
        extra.update(filled_quantity=event.filled_quantity, reason=event.reason)
    status = event.status
    return OrderStatusChanged(
        client_order_id=order.client_order_id, sequence=sequence, account_id=order.account_id,
        strategy=order.strategy, trade_id=order.trade_id, event=_KINDS[type(event)],
        status=None if status is None else status.value, ts_event=event.ts_event, ts_init=ts_init,
        symbol=order.symbol, side=order.side, order_type=order.order_type, broker=order.broker,
        **extra, **_identity(identity))


def _identity(identity: BrokerEvent | None) -> dict[str, Any]:
    if identity is None:
        return {}
    return {"broker_status": identity.broker_status, "broker_order_id": identity.broker_order_id,
            "broker_perm_id": identity.broker_perm_id}


def fill_event(order: DeskOrder, event: OrderFilled, charges: FillCharges, ts_init: int,
               identity: BrokerEvent | None = None) -> FillExecuted:
    return FillExecuted(
        exec_id=event.exec_id, client_order_id=order.client_order_id, account_id=order.account_id,
        strategy=order.strategy, trade_id=order.trade_id, ts_event=event.ts_event, ts_init=ts_init,
        symbol=order.symbol, side=event.side.value, quantity=event.quantity, price=event.price,
        filled_quantity=event.filled_quantity, leaves_quantity=event.leaves_quantity,
        commission=charges.commission, regulatory_fees=charges.regulatory.total, broker=order.broker,
        multiplier=order.multiplier, broker_perm_id=None if identity is None else identity.broker_perm_id)

"""Between the trading desk and a live broker: the desk's orders as the broker interface's commands, and the
broker's reports as the desk's `BrokerEvent`s (`processors.trading.TradingDesk.on_broker_events`).

    bridge = DeskBrokerBridge("ibkr")
    command, refused = bridge.command(order)      # a PlaceOrder, or (None, the desk's rejection of it)
    events = bridge.events(report, ts_event)      # [] for what the desk does not hear about
    events = bridge.events(fill, ts_event, commission)   # an execution with the broker's own commission
    bridge.note(event)                            # an event the desk took from the record (a restart's rebuild)
    recorded_broker_event(record)                 # a published OrderStatusChanged / FillExecuted as a BrokerEvent

The desk speaks the paper broker's event language; a live broker's reports map onto it once per order and
transition: the first Placed (or a fill before it) is the order's acceptance, a fill is an execution with
the order's cumulative and remaining quantity, Cancelled and Failed end it. Pending, Success and Initiated
change nothing the desk does not learn from the fills. `ts_event` is the instant the caller gives the report
(the live runner: the report's own time, never before the last event it processed, so the desk's time never
runs backwards). A report of an order the desk did not send (an order entered in TWS by hand, another
client's) gives no event: the caller reports it.

Execution corrections: IBKR corrects an execution by sending it again with the last part of its id
incremented (0001f4e8.0000000b.01.01 -> ...01.02). A correction is never counted as a second fill: one
with the same quantity and price changes nothing; one that changes them is kept in `corrections` for the
caller to report (the desk's trade is not rewritten behind the operator's back).
"""

from __future__ import annotations

from decimal import Decimal

from connectors.broker import BrokerReport, FillReported, OrderStatusReported, PlaceOrder, Route
from processors.charges import FillCharges
from processors.charges.regulatory import NO_REGULATORY_FEES, RegulatoryFees
from processors.model import FillExecuted, OrderStatusChanged
from processors.paper import OrderAccepted, OrderCancelled, OrderFilled, OrderRejected, OrderStatus, OrderType, Side
from processors.paper.events import Operation
from processors.trading.orders import BrokerEvent, DeskOrder


class DeskBrokerBridge:
    def __init__(self, broker: str) -> None:
        self.broker = broker
        self._orders: dict[str, DeskOrder] = {}
        self._accepted: set[str] = set()
        self._ended: set[str] = set()
        self._executions: dict[str, FillReported] = {}     # by execution id less its correction number
        self.corrections: list[str] = []                    # corrections that change a fill, not applied

    def command(self, order: DeskOrder) -> tuple[PlaceOrder | None, list[BrokerEvent]]:
        """The broker command for `order`, or None and the desk's rejection when it cannot be sent as it is."""
        self._orders[order.client_order_id] = order
        try:
            route = Route(order.route)
        except ValueError:
            reason = f"route {order.route!r} is not one of {', '.join(r.value for r in Route)}"
            return None, [self._rejected(order, order.placed_ns, reason, "")]
        return PlaceOrder(client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
                          order_type=order.order_type, quantity=order.quantity, tick_size=order.tick_size,
                          limit_price=order.limit_price, stop_price=order.stop_price, route=route), []

    def note(self, item: BrokerEvent) -> None:
        """An event the desk took from the record rather than from this bridge (a restarted runner rebuilding
        its state from the published events): the broker's later reports of the order continue from it."""
        event = item.event
        ref = event.client_order_id
        self._accepted.add(ref)
        if isinstance(event, OrderCancelled | OrderRejected) or (isinstance(event, OrderFilled)
                                                                 and event.leaves_quantity == 0):
            self._ended.add(ref)

    def events(self, report: BrokerReport, ts_event: int, commission: Decimal | None = None) -> list[BrokerEvent]:
        """The desk's events for one report of the broker, at `ts_event`; an execution's `commission` (the
        broker's commission report, its regulatory fees included) replaces the desk's charges model."""
        ref = getattr(report, "client_order_id", None)
        order = self._orders.get(ref) if ref is not None else None
        if order is None or (ref in self._ended and not isinstance(report, FillReported)):
            return []
        if isinstance(report, FillReported):
            return self._fill(order, report, ts_event, commission)
        if not isinstance(report, OrderStatusReported):
            return []
        identity = {"broker": self.broker, "broker_status": report.broker_status,
                    "broker_order_id": report.broker_order_id, "broker_perm_id": report.broker_perm_id}
        if report.status in (OrderStatus.PLACED, OrderStatus.PENDING):
            return self._accept(order, ts_event, identity)
        if report.status is OrderStatus.CANCELLED:
            self._ended.add(order.client_order_id)
            event = OrderCancelled(client_order_id=order.client_order_id, ts_event=ts_event,
                                   filled_quantity=report.filled_quantity,
                                   reason=report.reason or f"the broker reports {report.broker_status}")
            return [BrokerEvent(event=event, **identity)]
        if report.status is OrderStatus.FAILED:
            return [self._rejected(order, ts_event, report.reason or f"the broker reports {report.broker_status}",
                                   report.broker_status, report.broker_order_id, report.broker_perm_id)]
        return []

    def _accept(self, order: DeskOrder, ts_event: int, identity: dict) -> list[BrokerEvent]:
        if order.client_order_id in self._accepted:
            return []
        self._accepted.add(order.client_order_id)
        event = OrderAccepted(client_order_id=order.client_order_id, ts_event=ts_event, symbol=order.symbol,
                              side=Side(order.side), order_type=OrderType(order.order_type), quantity=order.quantity,
                              limit_price=order.limit_price, stop_price=order.stop_price, status=OrderStatus.PLACED)
        return [BrokerEvent(event=event, **identity)]

    def _fill(self, order: DeskOrder, report: FillReported, ts_event: int,
              commission: Decimal | None) -> list[BrokerEvent]:
        base = report.exec_id.rsplit(".", 1)[0]
        first = self._executions.get(base)
        if first is not None:
            if (first.quantity, first.price) != (report.quantity, report.price):
                self.corrections.append(
                    f"execution {first.exec_id} of {order.client_order_id} corrected by {report.exec_id}: "
                    f"{first.quantity} at {first.price} -> {report.quantity} at {report.price}; not applied, "
                    f"check the trade against TWS")
            return []
        self._executions[base] = report
        identity = {"broker": self.broker, "broker_status": "Filled" if report.cumulative_quantity >= order.quantity
                    else "PartiallyFilled", "broker_order_id": report.broker_order_id,
                    "broker_perm_id": report.broker_perm_id}
        out = self._accept(order, ts_event, {**identity, "broker_status": "Submitted"})
        if commission is not None:
            identity["charges"] = FillCharges(commission, NO_REGULATORY_FEES)
        leaves = max(order.quantity - report.cumulative_quantity, 0)
        event = OrderFilled(client_order_id=order.client_order_id, exec_id=report.exec_id, ts_event=ts_event,
                            symbol=order.symbol, side=Side(order.side), quantity=report.quantity, price=report.price,
                            filled_quantity=report.cumulative_quantity, leaves_quantity=leaves,
                            status=OrderStatus.SUCCESS if leaves == 0 else OrderStatus.PENDING)
        if leaves == 0:
            self._ended.add(order.client_order_id)
        return out + [BrokerEvent(event=event, **identity)]

    def _rejected(self, order: DeskOrder, ts_event: int, reason: str, broker_status: str,
                  broker_order_id: int | None = None, broker_perm_id: int | None = None) -> BrokerEvent:
        self._ended.add(order.client_order_id)
        event = OrderRejected(client_order_id=order.client_order_id, ts_event=ts_event, operation=Operation.PLACE,
                              reason=reason, status=OrderStatus.FAILED)
        return BrokerEvent(event=event, broker=self.broker, broker_status=broker_status,
                           broker_order_id=broker_order_id, broker_perm_id=broker_perm_id)


def recorded_broker_event(record: OrderStatusChanged | FillExecuted) -> BrokerEvent | None:
    """A live broker's event as the desk published it (an OrderStatusChanged it accepted, rejected or cancelled
    on the broker's word, or a FillExecuted), back as the BrokerEvent that made it; None for a record no
    broker report makes (a paper order's, or a change the desk makes itself)."""
    if record.broker == "paper":
        return None
    if isinstance(record, FillExecuted):
        event = OrderFilled(client_order_id=record.client_order_id, exec_id=record.exec_id, ts_event=record.ts_event,
                            symbol=record.symbol, side=Side(record.side), quantity=record.quantity, price=record.price,
                            filled_quantity=record.filled_quantity, leaves_quantity=record.leaves_quantity,
                            status=OrderStatus.SUCCESS if record.leaves_quantity == 0 else OrderStatus.PENDING)
        charges = FillCharges(record.commission, RegulatoryFees(section_31=record.regulatory_fees))
        return BrokerEvent(event=event, broker=record.broker, broker_status="Filled" if record.leaves_quantity == 0
                           else "PartiallyFilled", broker_perm_id=record.broker_perm_id, charges=charges)
    if record.event == "ACCEPTED":
        event = OrderAccepted(client_order_id=record.client_order_id, ts_event=record.ts_event, symbol=record.symbol,
                              side=Side(record.side), order_type=OrderType(record.order_type), quantity=record.quantity,
                              limit_price=record.limit_price, stop_price=record.stop_price, status=OrderStatus.PLACED)
    elif record.event == "CANCELLED":
        event = OrderCancelled(client_order_id=record.client_order_id, ts_event=record.ts_event,
                               filled_quantity=record.filled_quantity, reason=record.reason)
    elif record.event == "REJECTED":
        event = OrderRejected(client_order_id=record.client_order_id, ts_event=record.ts_event,
                              operation=Operation(record.operation or "place"), reason=record.reason,
                              status=OrderStatus.FAILED)
    else:
        return None
    return BrokerEvent(event=event, broker=record.broker, broker_status=record.broker_status,
                       broker_order_id=record.broker_order_id, broker_perm_id=record.broker_perm_id)

"""The broker interface, broker-neutral: what the trading desk may ask of any broker, and what it hears back.

    broker.place(PlaceOrder(...), ts_event)          market, limit, stop, stop-limit; routed SMART/NYSE/NASDAQ/CBOE
    broker.place_bracket(PlaceBracket(...), ts_event) entry + stop + target, one OCA group
    broker.modify(ModifyOrder(...), ts_event)         quantity, limit price (a target's), stop price (a stop's)
    broker.cancel(client_order_id, ts_event)
    await broker.open_orders()                        the orders still working, as the broker holds them
    await broker.executions_since(ts_event)           the fills from `ts_event` on, each once

Commands return nothing: every outcome arrives as a report, in order, through the `ReportSink` the broker
was built with (the stream of reports):

    OrderStatusReported    an order's status changed: ours (Initiated … Cancelled) and the broker's raw state
    FillReported           an execution, with the broker's execution id (each reported once, ever)
    CommissionReported     the broker's own commission for an execution, joined to it by execution id
    BrokerErrorReported    a refusal or error: the broker's code (None: refused by us before sending) and text
    OrderIdentityConflict  one client order id seen with two broker order identities (reported, not merged)
    ExternalOrderReported  an order that is not ours (entered by hand in TWS, or by another client)
    PositionsReported      the account's positions as the broker holds them, at each reconciliation
    MarginChecked          the broker's margin impact of an order beside our own Reg-T figure
    BrokerConnectionChanged connected, disconnected, reconciled (the broker's state is ours again)

Ids: `client_order_id` is ours and travels with the order (IBKR: `orderRef`); `broker_order_id` and
`broker_perm_id` are the broker's (IBKR: `orderId` per API client, `permId` account-wide), the same fields as
OrderStatusChanged and FillExecuted carry. The statuses are processors.paper's `OrderStatus`.

`PaperBrokerAdapter` puts the paper broker behind this interface, so a desk can be given either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from processors.paper import (BracketOrder, OrderAccepted, OrderCancelled, OrderFilled, OrderModified,
                              OrderRejected, OrderState, OrderStatus, OrderTriggered, OrderType, PaperBroker,
                              PaperEvent, PaperOrder, Side)
from processors.paper.events import Operation


class Route(StrEnum):
    """Where an order is routed: the broker's smart router or one venue."""
    SMART = "SMART"
    NYSE = "NYSE"
    NASDAQ = "NASDAQ"
    CBOE = "CBOE"


# -- commands ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceOrder:
    """An order to place. `limit_price` for LIMIT and STOP_LIMIT, `stop_price` for STOP and STOP_LIMIT; prices
    are moved onto the grid of `tick_size` before they are sent (a buy limit down, a sell limit up)."""
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    tick_size: Decimal
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    route: Route = Route.SMART
    time_in_force: str = "DAY"
    outside_regular_hours: bool = False

    def __post_init__(self) -> None:
        # PaperOrder checks the shared fields' types (TypeError naming the field) and converts the enums.
        paper = self.as_paper()
        object.__setattr__(self, "side", paper.side)
        object.__setattr__(self, "order_type", paper.order_type)
        object.__setattr__(self, "route", Route(self.route))

    def as_paper(self) -> PaperOrder:
        return PaperOrder(client_order_id=self.client_order_id, symbol=self.symbol, side=self.side,
                          order_type=self.order_type, quantity=self.quantity, tick_size=self.tick_size,
                          limit_price=self.limit_price, stop_price=self.stop_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceBracket:
    """An entry with a protective stop and a profit target in one OCA group named by the entry's id; the
    children are `<entry id>-stop` (a STOP) and `<entry id>-target` (a LIMIT), the entry's opposite side."""
    entry: PlaceOrder
    stop_price: Decimal
    target_price: Decimal

    @property
    def stop_order_id(self) -> str:
        return f"{self.entry.client_order_id}-stop"

    @property
    def target_order_id(self) -> str:
        return f"{self.entry.client_order_id}-target"

    @property
    def oca_group(self) -> str:
        return self.entry.client_order_id


@dataclass(frozen=True, slots=True, kw_only=True)
class ModifyOrder:
    """Change a working order: its quantity, its limit price (a limit, a stop-limit, a bracket's target) or its
    stop price (a stop, a stop-limit, a bracket's stop). None leaves a field as it is."""
    client_order_id: str
    quantity: int | None = None
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None


# -- reports ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusReported:
    client_order_id: str
    status: OrderStatus
    broker_status: str              # the broker's own state, raw (IBKR: Submitted, PreSubmitted, Filled, …)
    filled_quantity: int
    quantity: int
    ts_event: int
    ts_init: int
    broker: str
    broker_order_id: int | None = None
    broker_perm_id: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class FillReported:
    """An execution. `client_order_id` is None for an order that is not ours (see ExternalOrderReported)."""
    exec_id: str
    client_order_id: str | None
    symbol: str
    side: Side
    quantity: int
    price: Decimal
    cumulative_quantity: int        # the order's filled quantity after this execution, as the broker says
    ts_event: int
    ts_init: int
    broker: str
    broker_order_id: int | None = None
    broker_perm_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CommissionReported:
    exec_id: str
    client_order_id: str | None
    commission: Decimal
    currency: str
    ts_init: int
    broker: str
    realized_pnl: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerErrorReported:
    """`code` is the broker's (IBKR error code), None when we refused the command before sending it."""
    client_order_id: str | None
    code: int | None
    text: str
    ts_init: int
    broker: str
    operation: str | None = None    # place, modify, cancel; None for an error not caused by a command
    broker_order_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderIdentityConflict:
    """One client order id carried by orders with different broker identities: both are kept and reported."""
    client_order_id: str
    broker_perm_ids: tuple[int, ...]
    ts_init: int
    broker: str


@dataclass(frozen=True, slots=True)
class BrokerPosition:
    """One position at the broker: `quantity` signed (negative: short), `average_cost` per share or contract."""
    symbol: str
    quantity: int
    average_cost: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionsReported:
    """Every position of the account at the broker (stocks, by symbol), re-requested at each reconciliation so
    that the caller can compare them with its own (a position opened by hand in TWS is found here)."""
    positions: tuple[BrokerPosition, ...]
    ts_init: int
    broker: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExternalOrderReported:
    broker_perm_id: int
    broker_order_id: int | None
    broker_client_id: int | None
    broker_ref: str
    symbol: str
    side: Side
    order_type: str
    quantity: int
    broker_status: str
    ts_init: int
    broker: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MarginChecked:
    client_order_id: str
    broker_initial_margin_change: Decimal
    reg_t_initial_margin: Decimal
    difference: Decimal
    large_difference: bool
    ts_init: int
    broker: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BrokerConnectionChanged:
    state: str                      # connected, reconciled, disconnected
    detail: str
    ts_init: int
    broker: str


BrokerReport = (OrderStatusReported | FillReported | CommissionReported | BrokerErrorReported
                | OrderIdentityConflict | ExternalOrderReported | MarginChecked | BrokerConnectionChanged
                | PositionsReported)
ReportSink = Callable[[BrokerReport], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenOrder:
    client_order_id: str
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    filled_quantity: int
    status: OrderStatus
    broker_status: str
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    broker_order_id: int | None = None
    broker_perm_id: int | None = None


class Broker(Protocol):
    """What the desk asks of a broker; outcomes arrive as reports through the broker's ReportSink."""
    name: str

    def place(self, order: PlaceOrder, ts_event: int) -> None: ...

    def place_bracket(self, bracket: PlaceBracket, ts_event: int) -> None: ...

    def modify(self, modification: ModifyOrder, ts_event: int) -> None: ...

    def cancel(self, client_order_id: str, ts_event: int) -> None: ...

    async def open_orders(self) -> list[OpenOrder]: ...

    async def executions_since(self, ts_event: int) -> list[FillReported]: ...


# -- the paper broker behind the interface -----------------------------------------------------------------
class PaperBrokerAdapter:
    """`PaperBroker` as a `Broker`: commands and market data (`on_trade`, `on_bar`) go to the paper broker, and
    its events come out as reports (the paper broker charges no commission: the desk's charges do)."""

    name = "paper"

    def __init__(self, paper: PaperBroker, sink: ReportSink) -> None:
        self.paper = paper
        self.sink = sink
        self._fills: list[FillReported] = []

    def place(self, order: PlaceOrder, ts_event: int) -> None:
        self._report(self.paper.place(order.as_paper(), ts_event))

    def place_bracket(self, bracket: PlaceBracket, ts_event: int) -> None:
        self._report(self.paper.place_bracket(BracketOrder(entry=bracket.entry.as_paper(),
                                                           stop_price=bracket.stop_price,
                                                           target_price=bracket.target_price), ts_event))

    def modify(self, modification: ModifyOrder, ts_event: int) -> None:
        self._report(self.paper.modify(modification.client_order_id, ts_event, quantity=modification.quantity,
                                       limit_price=modification.limit_price, stop_price=modification.stop_price))

    def cancel(self, client_order_id: str, ts_event: int) -> None:
        self._report(self.paper.cancel(client_order_id, ts_event))

    def on_trade(self, symbol: str, price: Decimal, size: int, ts_event: int) -> None:
        self._report(self.paper.on_trade(symbol, price, size, ts_event))

    def on_bar(self, bar: object) -> None:
        self._report(self.paper.on_bar(bar))  # type: ignore[arg-type]

    async def open_orders(self) -> list[OpenOrder]:
        return [_open_order(state) for state in self.paper.orders() if state.is_open]

    async def executions_since(self, ts_event: int) -> list[FillReported]:
        return [fill for fill in self._fills if fill.ts_event >= ts_event]

    def _report(self, events: list[PaperEvent]) -> None:
        for event in events:
            for report in self._translate(event):
                if isinstance(report, FillReported):
                    self._fills.append(report)
                self.sink(report)

    def _translate(self, event: PaperEvent) -> list[BrokerReport]:
        state = self.paper.order(event.client_order_id)
        quantity, filled = (state.quantity, state.filled_quantity) if state else (0, 0)

        def status(value: OrderStatus, reason: str = "") -> OrderStatusReported:
            return OrderStatusReported(client_order_id=event.client_order_id, status=value, broker_status=value.value,
                                       filled_quantity=filled, quantity=quantity, ts_event=event.ts_event,
                                       ts_init=event.ts_event, broker=self.name, reason=reason)

        if isinstance(event, OrderAccepted):
            return [status(event.status)]
        if isinstance(event, OrderRejected):
            if event.operation is Operation.PLACE:
                return [status(OrderStatus.FAILED, event.reason)]
            return [BrokerErrorReported(client_order_id=event.client_order_id, code=None, text=event.reason,
                                        ts_init=event.ts_event, broker=self.name, operation=event.operation.value)]
        if isinstance(event, (OrderModified, OrderTriggered)):
            return [status(event.status, getattr(event, "reason", "triggered"))]
        if isinstance(event, OrderFilled):
            fill = FillReported(exec_id=event.exec_id, client_order_id=event.client_order_id, symbol=event.symbol,
                                side=event.side, quantity=event.quantity, price=event.price,
                                cumulative_quantity=event.filled_quantity, ts_event=event.ts_event,
                                ts_init=event.ts_event, broker=self.name)
            return [fill, status(event.status)]
        if isinstance(event, OrderCancelled):
            return [status(OrderStatus.CANCELLED, event.reason)]
        raise TypeError(f"unknown paper broker event {type(event).__name__}")


def _open_order(state: OrderState) -> OpenOrder:
    return OpenOrder(client_order_id=state.client_order_id, symbol=state.symbol, side=state.side,
                     order_type=state.order_type, quantity=state.quantity, filled_quantity=state.filled_quantity,
                     status=state.status, broker_status=state.status.value, limit_price=state.limit_price,
                     stop_price=state.stop_price)

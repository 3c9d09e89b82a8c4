"""Interactive Brokers order execution: `IbkrBroker`, the `connectors.broker.Broker` interface on ib_insync.

How it behaves where IBKR integrations usually lose money:
- **Identity.** Our client order id travels in `orderRef`; `orderId` and `permId` are recorded as they arrive.
  Everything is keyed by `permId` and execution id, never by `orderId` alone (order ids are per API client and
  can come back after a gateway restart). One `orderRef` seen with a second `permId` is reported as an
  `OrderIdentityConflict`; both orders are kept apart (the second one's reports carry its own permId).
- **Order ids.** Our own high-water mark of used ids is written to the journal (connectors.ibkr.order_journal)
  before an order is sent; the next id is above both it and TWS's `nextValidId`, so a `nextValidId` rolled
  back by the nightly restart never makes us reuse one.
- **Prices** are moved onto the order's tick grid before sending (a buy limit down, a sell limit up, stops to
  the nearest tick); an IBKR price-increment rejection (110) becomes a Failed status and an error report
  saying which price was off the grid.
- **Brackets**: the entry and the stop are sent with transmit=0 and the target with transmit=1, both children
  with `parentId` and one `ocaGroup` (ocaType 3: a partial fill of one reduces the other), so nothing is live
  half-built. Each entry fill resizes the children to the open position (the entry's fills less theirs).
- **Statuses**: IBKR's states map onto Initiated / Placed / Pending / Success / Failed / Cancelled
  (`ibkr_status`), the raw state kept in every report. Executions come from `execDetails` and are joined with
  `commissionReport` by execution id (IBKR's own commissions), each reported once, ever (the journal).
- **Reconnection and restarts**: `run` connects (backing off), then reconciles before sending anything new:
  it re-requests all open orders (manual TWS orders included, reported as external) and the executions
  since the last one seen, matches them by permId / orderRef / execution id, and only then sends what was
  held. An order sent but never acknowledged is found by its `orderRef` and never sent again; one that never
  left our socket is sent with a new id; one that left but cannot be found is reported, not resent.
- **While disconnected** commands are held and sent after reconciliation (`when_disconnected="hold"`) or
  refused with the reason (`"refuse"`).
- **Pacing**: every message on the connection goes through a token bucket (connectors.ibkr.pacing).
- **Margin**: `check_margin` asks TWS for the order's `whatIf` margin impact and reports it beside the risk
  stage's Reg-T figure, flagging a difference above `margin_difference_pct`.

The library's objects stay here: the rest of the platform sees only connectors.broker's commands and reports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import ModuleType
from typing import Any

from connectors.broker import (BrokerConnectionChanged, BrokerErrorReported, BrokerReport, CommissionReported,
                               ExternalOrderReported, FillReported, MarginChecked, ModifyOrder, OpenOrder,
                               OrderIdentityConflict, OrderStatusReported, PlaceBracket, PlaceOrder, ReportSink,
                               Route)
from connectors.ibkr.api import load_library
from connectors.ibkr.feed import Backoff
from connectors.ibkr.order_journal import JournalStore
from connectors.ibkr.pacing import PacedSender, TokenBucket
from processors.instruments.ticks import round_to_tick
from processors.paper import OrderStatus, OrderType, Side
from processors.paper.orders import TERMINAL
from schemas.errors import ConfigError

log = logging.getLogger(__name__)

BROKER = "ibkr"
NS = 1_000_000_000
IB_ORDER_TYPES = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.STOP: "STP",
                  OrderType.STOP_LIMIT: "STP LMT"}
PRICE_INCREMENT = 110
ORDER_ERRORS = {103: "duplicate order id", 104: "cannot modify a filled order", 105: "the modification does not "
                "match the original order", 110: "price off the minimum price variation", 161: "cancel refused",
                201: "order rejected", 203: "the security is not available or allowed for this account",
                10147: "cancel of an unknown order", 10148: "cancel refused: the order is done"}
REJECTING = {103, 110, 201, 203}
INFORMATION = range(2100, 2200)
CANCELLED_NOTICE = 202
CONNECTIVITY = {1100, 1101, 1102}
WHEN_DISCONNECTED = ("hold", "refuse")


def ibkr_status(raw: str, filled: int, waiting_for_parent: bool) -> OrderStatus:
    """IBKR's order state as ours. PreSubmitted is a bracket child waiting for its entry (Initiated) or an
    order IB holds until it triggers (Placed); PendingCancel is still working until IB says Cancelled."""
    if raw == "Filled":
        return OrderStatus.SUCCESS
    if raw in ("Cancelled", "ApiCancelled"):
        return OrderStatus.CANCELLED
    if raw == "Inactive":
        return OrderStatus.FAILED
    if raw in ("PendingSubmit", "ApiPending") or (raw == "PreSubmitted" and waiting_for_parent and not filled):
        return OrderStatus.INITIATED
    return OrderStatus.PENDING if filled else OrderStatus.PLACED


@dataclass(frozen=True, slots=True, kw_only=True)
class IbkrBrokerConfig:
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 18
    account: str = ""
    currency: str = "USD"
    when_disconnected: str = "hold"
    pacing_per_second: float = 40.0
    pacing_burst: int = 5
    oca_type: int = 3
    margin_difference_pct: Decimal = Decimal("10")
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 60.0
    connect_timeout_s: float = 10.0
    request_timeout_s: float = 10.0
    library: str = "ib_insync"

    def __post_init__(self) -> None:
        if self.when_disconnected not in WHEN_DISCONNECTED:
            raise ConfigError(f"IBKR_WHEN_DISCONNECTED must be one of {', '.join(WHEN_DISCONNECTED)}, "
                              f"not {self.when_disconnected!r}")
        if self.oca_type not in (1, 2, 3):
            raise ConfigError("IBKR_OCA_TYPE must be 1 (cancel), 2 (reduce with block) or 3 (reduce)")
        if not 0 < self.reconnect_initial_s <= self.reconnect_max_s:
            raise ConfigError("IBKR_RECONNECT_INITIAL_S must be positive and at most IBKR_RECONNECT_MAX_S")
        TokenBucket(self.pacing_per_second, self.pacing_burst, 0.0)   # the pacing settings' own checks


@dataclass
class Tracked:
    """One of our orders as we know it. `perm_ids[0]` is its identity at IB; later ones are conflicts."""
    command: PlaceOrder
    role: str | None = None                 # entry, stop, target
    parent: str | None = None
    children: tuple[str, ...] = ()
    order_id: int | None = None
    perm_ids: list[int] = field(default_factory=list)
    written: bool = False
    lost: bool = False
    status: OrderStatus = OrderStatus.INITIATED
    broker_status: str = ""
    quantity: int = 0
    filled: int = 0                         # from executions, each counted once
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    last_report: tuple[Any, ...] | None = None

    @property
    def ref(self) -> str:
        return self.command.client_order_id

    @property
    def acknowledged(self) -> bool:
        return bool(self.perm_ids)


class IbkrBroker:
    name = BROKER

    def __init__(self, config: IbkrBrokerConfig, sink: ReportSink, journal: JournalStore,
                 wall_ns: Callable[[], int] = time.time_ns, library: ModuleType | None = None) -> None:
        self.config = config
        self.sink = sink
        self.journal = journal
        self.wall_ns = wall_ns
        self.lib = library or load_library(config.library)
        self.ib = self.lib.IB()
        loop_time = asyncio.get_event_loop().time
        self.pacer = PacedSender(self.ib.client, TokenBucket(config.pacing_per_second, config.pacing_burst,
                                                             loop_time()), self._on_sent, loop_time)
        self.ready = False
        self._state = journal.load()
        self._orders: dict[str, Tracked] = {}
        self._perm_to_ref: dict[int, str] = {}
        self._id_to_ref: dict[int, str] = {}
        self._ib_orders: dict[str, tuple[Any, Any]] = {}
        self._external: set[int] = set()
        self._early_commissions: dict[str, Any] = {}
        self._held: list[tuple[str, Any, int]] = []
        self._resize_pending: set[str] = set()
        self._next_valid_id = 0
        self._disconnected = asyncio.Event()
        self._restore()
        self._hook_wrapper()
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._on_disconnected

    # -- the Broker interface -----------------------------------------------------------------------------
    def place(self, order: PlaceOrder, ts_event: int) -> None:
        if self._refused_or_held("place", order, ts_event, order.client_order_id):
            return
        if (problem := self._taken(order.client_order_id)):
            self._error(order.client_order_id, None, problem, "place")
            return
        tracked = self._track(_on_grid(order))
        self._send_new(tracked, transmit=True)

    def place_bracket(self, bracket: PlaceBracket, ts_event: int) -> None:
        entry_id = bracket.entry.client_order_id
        if self._refused_or_held("place_bracket", bracket, ts_event, entry_id):
            return
        ids = (entry_id, bracket.stop_order_id, bracket.target_order_id)
        if (problem := next((p for i in ids if (p := self._taken(i))), None)):
            for ref in ids:
                self._error(ref, None, problem, "place")
            return
        entry = _on_grid(bracket.entry)
        child = dict(symbol=entry.symbol, side=entry.side.opposite, quantity=entry.quantity,
                     tick_size=entry.tick_size, route=entry.route, time_in_force=entry.time_in_force,
                     outside_regular_hours=entry.outside_regular_hours)
        stop = _on_grid(PlaceOrder(client_order_id=ids[1], order_type=OrderType.STOP,
                                   stop_price=bracket.stop_price, **child))
        target = _on_grid(PlaceOrder(client_order_id=ids[2], order_type=OrderType.LIMIT,
                                     limit_price=bracket.target_price, **child))
        parent = self._track(entry, role="entry", children=ids[1:])
        children = [self._track(stop, role="stop", parent=entry_id), self._track(target, role="target",
                                                                                 parent=entry_id)]
        self._send_new(parent, transmit=False)
        self._send_new(children[0], transmit=False)
        self._send_new(children[1], transmit=True)

    def modify(self, modification: ModifyOrder, ts_event: int) -> None:
        ref = modification.client_order_id
        if self._refused_or_held("modify", modification, ts_event, ref):
            return
        tracked = self._orders.get(ref)
        if tracked is None or tracked.order_id is None:
            self._error(ref, None, f"unknown order {ref!r}: nothing modified", "modify")
            return
        if tracked.status in TERMINAL:
            self._error(ref, None, f"the order is {tracked.status} ({tracked.broker_status}, {tracked.filled} "
                                   f"filled) and can no longer be modified; nothing sent", "modify")
            return
        command = tracked.command
        tick = command.tick_size
        changes: dict[str, Any] = {}
        if modification.quantity is not None:
            changes["totalQuantity"] = modification.quantity
            tracked.quantity = modification.quantity
        if modification.limit_price is not None:
            tracked.limit_price = round_to_tick(modification.limit_price, tick, command.side.value.lower())
            changes["lmtPrice"] = float(tracked.limit_price)
        if modification.stop_price is not None:
            tracked.stop_price = round_to_tick(modification.stop_price, tick)
            changes["auxPrice"] = float(tracked.stop_price)
        self._send_change(tracked, **changes)

    def cancel(self, client_order_id: str, ts_event: int) -> None:
        if self._refused_or_held("cancel", client_order_id, ts_event, client_order_id):
            return
        tracked = self._orders.get(client_order_id)
        if tracked is None or tracked.order_id is None:
            self._error(client_order_id, None, f"unknown order {client_order_id!r}: nothing cancelled", "cancel")
            return
        if tracked.status in TERMINAL:
            self._error(client_order_id, None, f"the order is {tracked.status} ({tracked.broker_status}, "
                                               f"{tracked.filled} filled) and can no longer be cancelled", "cancel")
            return
        self.ib.client.cancelOrder(tracked.order_id, "")

    async def open_orders(self) -> list[OpenOrder]:
        await asyncio.wait_for(self.ib.reqAllOpenOrdersAsync(), self.config.request_timeout_s)
        return [OpenOrder(client_order_id=t.ref, symbol=t.command.symbol, side=t.command.side,
                          order_type=t.command.order_type, quantity=t.quantity, filled_quantity=t.filled,
                          status=t.status, broker_status=t.broker_status, limit_price=t.limit_price,
                          stop_price=t.stop_price, broker_order_id=t.order_id,
                          broker_perm_id=t.perm_ids[0] if t.perm_ids else None)
                for t in self._orders.values() if t.acknowledged and t.status not in TERMINAL]

    async def executions_since(self, ts_event: int) -> list[FillReported]:
        since = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(ts_event // NS))
        fills = await asyncio.wait_for(self.ib.reqExecutionsAsync(self.lib.ExecutionFilter(time=since)),
                                       self.config.request_timeout_s)
        return [self._fill_report(fill.execution, self._ref_of_execution(fill.execution), fill.contract.symbol)
                for fill in fills if _ns(fill.execution.time) >= ts_event]

    async def check_margin(self, order: PlaceOrder, reg_t_initial_margin: Decimal) -> MarginChecked:
        """TWS's initial-margin change for `order` (whatIf: nothing is placed) beside our Reg-T figure."""
        order = _on_grid(order)
        order_id = self._allocate_id(None)
        contract, ib_order = self._ib_order(order, order_id)
        ib_order.whatIf = True
        future = self.ib.wrapper.startReq(order_id, contract)
        self.ib.client.placeOrder(order_id, contract, ib_order)
        state = await asyncio.wait_for(future, self.config.request_timeout_s)
        broker_margin = Decimal(state.initMarginChange)
        difference = broker_margin - reg_t_initial_margin
        threshold = abs(reg_t_initial_margin) * self.config.margin_difference_pct / 100
        report = MarginChecked(client_order_id=order.client_order_id, broker_initial_margin_change=broker_margin,
                               reg_t_initial_margin=reg_t_initial_margin, difference=difference,
                               large_difference=abs(difference) > threshold, ts_init=self.wall_ns(), broker=BROKER)
        self.sink(report)
        return report

    # -- connection ---------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Connect, reconcile, send what was held; again after every disconnection, until `stop` is set."""
        backoff = Backoff(self.config.reconnect_initial_s, self.config.reconnect_max_s)
        address = f"{self.config.host}:{self.config.port}"
        try:
            while not stop.is_set():
                self._disconnected.clear()
                try:
                    # readonly: ib_insync's own start-up sync skips open orders; `_reconcile` asks for all of them
                    await self.ib.connectAsync(self.config.host, self.config.port, self.config.client_id,
                                               timeout=self.config.connect_timeout_s, readonly=True,
                                               account=self.config.account)
                    self._connection("connected", f"TWS/IB Gateway at {address}, nextValidId {self._next_valid_id}")
                    await self._reconcile()
                except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
                    if self.ib.isConnected():
                        self.ib.disconnect()
                    delay = backoff.next_delay()
                    log.warning("IBKR orders: connect to %s failed (%s); retry in %.1f s", address,
                                type(exc).__name__, delay)
                    await _wait(stop, delay)
                    continue
                backoff.reset()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._disconnected.wait())]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            self.ready = False
            if self.ib.isConnected():
                self.ib.disconnect()

    async def _reconcile(self) -> None:
        """Match IB's open orders and executions with ours, then send what waited; nothing new before."""
        await asyncio.wait_for(self.ib.reqAllOpenOrdersAsync(), self.config.request_timeout_s)
        last = self._state["last_execution_ns"]
        since = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(last // NS)) if last else ""
        await asyncio.wait_for(self.ib.reqExecutionsAsync(self.lib.ExecutionFilter(time=since)),
                               self.config.request_timeout_s)
        resend = []
        for tracked in self._orders.values():
            if tracked.order_id is None or tracked.acknowledged or tracked.lost:
                continue
            if not tracked.written:
                resend.append(tracked)
                continue
            tracked.lost = True
            self._error(tracked.ref, None, f"sent as order id {tracked.order_id} before the connection was lost, "
                                           "but IB has no open order or execution with this orderRef; not sent "
                                           "again (check TWS's completed orders)", "place")
        self.ready = True
        for tracked in resend:
            log.info("IBKR orders: %s never left before the disconnection; sending it with a new id", tracked.ref)
            self._send_new(tracked, transmit=tracked.role in (None, "target"))
        for entry in sorted(self._resize_pending):
            self._resize_children(self._orders[entry])
        self._resize_pending.clear()
        held, self._held = self._held, []
        for kind, command, ts_event in held:
            getattr(self, kind)(command, ts_event)
        self._connection("reconciled", f"{len(self._orders)} orders known, {len(held)} held commands sent, "
                                       f"{len(resend)} unsent orders sent")

    def _on_disconnected(self) -> None:
        self.ready = False
        for message in self.pacer.clear():
            fields = message.split("\0")
            if fields[0] in ("3", "4") and (ref := self._id_to_ref.get(int(fields[1] if fields[0] == "3"
                                                                             else fields[2]))):
                tracked = self._orders[ref]
                if fields[0] == "3" and not tracked.acknowledged and not tracked.written:
                    continue                                          # sent after reconnecting
                self._error(ref, None, "not sent before the connection to TWS was lost; ask again",
                            "cancel" if fields[0] == "4" else "modify")
        self._connection("disconnected", "the connection to TWS/IB Gateway was lost; commands are "
                                         + ("held" if self.config.when_disconnected == "hold" else "refused"))
        self._disconnected.set()

    def _connection(self, state: str, detail: str) -> None:
        log.info("IBKR orders: %s (%s)", state, detail)
        self.sink(BrokerConnectionChanged(state=state, detail=detail, ts_init=self.wall_ns(), broker=BROKER))

    def _refused_or_held(self, kind: str, command: Any, ts_event: int, ref: str) -> bool:
        if self.ready:
            return False
        if self.config.when_disconnected == "hold":
            self._held.append((kind, command, ts_event))
            return True
        self._error(ref, None, f"not connected to TWS/IB Gateway at {self.config.host}:{self.config.port}; "
                               f"refused (when_disconnected=refuse): send it again once connected",
                    "place" if kind.startswith("place") else kind)
        return True

    # -- sending ------------------------------------------------------------------------------------------
    def _taken(self, ref: str) -> str | None:
        tracked = self._orders.get(ref)
        if tracked is None:
            return None
        where = f"order id {tracked.order_id}, permId {tracked.perm_ids[0]}" if tracked.acknowledged else (
            f"order id {tracked.order_id}, not acknowledged yet")
        return f"client order id {ref!r} was already sent ({where}); not sent again"

    def _track(self, command: PlaceOrder, **bracket: Any) -> Tracked:
        tracked = Tracked(command=command, quantity=command.quantity, limit_price=command.limit_price,
                          stop_price=command.stop_price, **bracket)
        self._orders[command.client_order_id] = tracked
        return tracked

    def _allocate_id(self, tracked: Tracked | None) -> int:
        """The next order id above every id we used and TWS's nextValidId, written down before it is used."""
        order_id = max(self._state["highest_order_id"] + 1, self._next_valid_id)
        self._state["highest_order_id"] = order_id
        if tracked is not None:
            if tracked.order_id is not None:
                self._id_to_ref.pop(tracked.order_id, None)
            tracked.order_id = order_id
            tracked.written = False
            self._id_to_ref[order_id] = tracked.ref
            self._state["orders"][tracked.ref] = _journal_entry(tracked)
        self.journal.save(self._state)
        return order_id

    def _send_new(self, tracked: Tracked, transmit: bool) -> None:
        order_id = self._allocate_id(tracked)
        contract, order = self._ib_order(tracked.command, order_id)
        order.transmit = transmit
        if tracked.parent is not None:
            order.parentId = self._orders[tracked.parent].order_id
            order.ocaGroup = tracked.parent
            order.ocaType = self.config.oca_type
        self._ib_orders[tracked.ref] = (contract, order)
        self.ib.client.placeOrder(order_id, contract, order)

    def _send_change(self, tracked: Tracked, **changes: Any) -> None:
        contract, order = self._ib_orders.get(tracked.ref) or self._ib_order(tracked.command, tracked.order_id)
        for name, value in changes.items():
            setattr(order, name, value)
        order.transmit = True
        self._ib_orders[tracked.ref] = (contract, order)
        self.ib.client.placeOrder(tracked.order_id, contract, order)

    def _ib_order(self, command: PlaceOrder, order_id: int) -> tuple[Any, Any]:
        contract = self.lib.Stock(command.symbol, command.route.value, self.config.currency)
        order = self.lib.Order(orderId=order_id, clientId=self.config.client_id, action=command.side.value,
                               totalQuantity=command.quantity, orderType=IB_ORDER_TYPES[command.order_type],
                               tif=command.time_in_force, orderRef=command.client_order_id,
                               outsideRth=command.outside_regular_hours, account=self.config.account)
        if command.limit_price is not None:
            order.lmtPrice = float(command.limit_price)
        if command.stop_price is not None:
            order.auxPrice = float(command.stop_price)
        return contract, order

    def _on_sent(self, message: str) -> None:
        fields = message.split("\0", 2)
        if fields[0] == "3" and (ref := self._id_to_ref.get(int(fields[1]))) is not None:
            tracked = self._orders[ref]
            if not tracked.written:
                tracked.written = True
                self._state["orders"][ref] = _journal_entry(tracked)
                self.journal.save(self._state)

    def _resize_children(self, entry: Tracked) -> None:
        """Each child of a bracket covers the open position: the entry's fills less the children's."""
        if not self.ready:
            self._resize_pending.add(entry.ref)
            return
        children = [self._orders[ref] for ref in entry.children]
        open_position = entry.filled - sum(child.filled for child in children)
        for child in children:
            wanted = child.filled + open_position
            if child.status not in TERMINAL and child.order_id is not None and wanted > 0 and wanted != child.quantity:
                log.info("IBKR orders: %s resized %s -> %s (entry %s filled %s)", child.ref, child.quantity, wanted,
                         entry.ref, entry.filled)
                child.quantity = wanted
                self._send_change(child, totalQuantity=wanted)

    # -- what TWS says ------------------------------------------------------------------------------------
    def _hook_wrapper(self) -> None:
        """Raw callbacks, before ib_insync's bookkeeping (which keys orders by client and order id)."""
        wrapper = self.ib.wrapper
        originals = {name: getattr(wrapper, name) for name in
                     ("openOrder", "orderStatus", "execDetails", "commissionReport", "nextValidId")}

        def chained(name: str, ours: Callable[..., None]) -> Callable[..., None]:
            def call(*args: Any) -> None:
                originals[name](*args)
                ours(*args)
            return call

        wrapper.openOrder = chained("openOrder", self._on_open_order)
        wrapper.orderStatus = chained("orderStatus", self._on_order_status)
        wrapper.execDetails = chained("execDetails", self._on_execution)
        wrapper.commissionReport = chained("commissionReport", self._on_commission)
        wrapper.nextValidId = chained("nextValidId", self._on_next_valid_id)

    def _on_next_valid_id(self, order_id: int) -> None:
        self._next_valid_id = order_id

    def _on_open_order(self, order_id: int, contract: Any, order: Any, state: Any) -> None:
        if order.whatIf:
            return
        perm_id = order.permId
        ref = order.orderRef if order.orderRef in self._orders else self._perm_to_ref.get(perm_id)
        if ref is None:
            if perm_id not in self._external:
                self._external.add(perm_id)
                self.sink(ExternalOrderReported(
                    broker_perm_id=perm_id, broker_order_id=order_id or None, broker_client_id=order.clientId,
                    broker_ref=order.orderRef, symbol=contract.symbol, side=Side(order.action),
                    order_type=order.orderType, quantity=int(order.totalQuantity), broker_status=state.status,
                    ts_init=self.wall_ns(), broker=BROKER))
            return
        tracked = self._orders[ref]
        if not self._acknowledge(tracked, perm_id, order_id) or (perm_id and perm_id != tracked.perm_ids[0]):
            self._report_other_identity(tracked, perm_id, order_id, state.status, 0, int(order.totalQuantity))
            return
        if order.totalQuantity:
            tracked.quantity = int(order.totalQuantity)
        self._update_status(tracked, state.status, None)

    def _on_order_status(self, order_id: int, status: str, filled: float, remaining: float, average_price: float,
                         perm_id: int, parent_id: int, last_fill_price: float, client_id: int, why_held: str,
                         market_cap_price: float = 0.0) -> None:
        ref = self._perm_to_ref.get(perm_id)
        if ref is None and client_id == self.config.client_id:
            ref = self._id_to_ref.get(order_id)
        if ref is None:
            return
        tracked = self._orders[ref]
        if perm_id and not self._acknowledge(tracked, perm_id, order_id) or perm_id and perm_id != tracked.perm_ids[0]:
            self._report_other_identity(tracked, perm_id, order_id, status, int(filled), int(filled + remaining))
            return
        if status not in ("Cancelled", "ApiCancelled", "Inactive") and filled + remaining:
            tracked.quantity = int(filled + remaining)
        self._update_status(tracked, status, int(filled))

    def _on_execution(self, request_id: int, contract: Any, execution: Any) -> None:
        exec_id = execution.execId
        if exec_id in self._state["executions"]:
            return
        ref = self._ref_of_execution(execution)
        self._state["executions"][exec_id] = ref or ""
        self._state["last_execution_ns"] = max(self._state["last_execution_ns"], _ns(execution.time))
        tracked = self._orders.get(ref) if ref else None
        if tracked is not None and execution.permId and not tracked.perm_ids:
            self._acknowledge(tracked, execution.permId, execution.orderId)
        self.journal.save(self._state)
        self.sink(self._fill_report(execution, ref, contract.symbol))
        if tracked is not None and tracked.perm_ids and execution.permId == tracked.perm_ids[0]:
            tracked.filled += int(execution.shares)
            if tracked.role == "entry":
                self._resize_children(tracked)
        if exec_id in self._early_commissions:
            self._on_commission(self._early_commissions.pop(exec_id))

    def _on_commission(self, report: Any) -> None:
        exec_id = report.execId
        if exec_id in self._state["commissions"]:
            return
        if exec_id not in self._state["executions"]:
            self._early_commissions[exec_id] = report
            return
        self._state["commissions"].append(exec_id)
        self.journal.save(self._state)
        self.sink(CommissionReported(exec_id=exec_id, client_order_id=self._state["executions"][exec_id] or None,
                                     commission=_decimal(report.commission), currency=report.currency,
                                     realized_pnl=_decimal(report.realizedPNL) if report.realizedPNL else None,
                                     ts_init=self.wall_ns(), broker=BROKER))

    def _on_error(self, request_id: int, code: int, text: str, contract: Any = None) -> None:
        if code in INFORMATION or code in CONNECTIVITY or code == CANCELLED_NOTICE:
            return
        ref = self._id_to_ref.get(request_id)
        if ref is None:
            if request_id > 0 and code in ORDER_ERRORS:
                self._error(None, code, f"{text} (order id {request_id}, not ours)", None)
            return
        tracked = self._orders[ref]
        meaning = ORDER_ERRORS.get(code, "")
        if code == PRICE_INCREMENT:
            prices = ", ".join(f"{name} {value}" for name, value in (("limit", tracked.limit_price),
                                                                     ("stop", tracked.stop_price)) if value)
            text = (f"{prices} is off IBKR's price grid for {tracked.command.symbol} (our tick "
                    f"{tracked.command.tick_size}); set the instrument's tick size: IBKR {code}: {text}")
        elif meaning:
            text = f"{meaning}: IBKR {code}: {text}"
        operation = "place" if not tracked.acknowledged else ("cancel" if code in (161, 10147, 10148) else "modify")
        self._error(ref, code, text, operation, tracked.order_id)
        if code in REJECTING and not tracked.acknowledged:
            tracked.lost = True
            self._update_status(tracked, "Inactive", 0, reason=text)

    # -- bookkeeping --------------------------------------------------------------------------------------
    def _ref_of_execution(self, execution: Any) -> str | None:
        if execution.orderRef in self._orders:
            return execution.orderRef
        return self._perm_to_ref.get(execution.permId)

    def _acknowledge(self, tracked: Tracked, perm_id: int, order_id: int) -> bool:
        """Record a permId for the order; False when it is a second one (a conflict, reported once)."""
        if not perm_id or perm_id in tracked.perm_ids:
            return True
        tracked.perm_ids.append(perm_id)
        self._perm_to_ref[perm_id] = tracked.ref
        if len(tracked.perm_ids) == 1:
            if order_id:
                tracked.order_id = order_id
                self._id_to_ref[order_id] = tracked.ref
            tracked.lost = False
        self._state["orders"][tracked.ref] = _journal_entry(tracked)
        self.journal.save(self._state)
        if len(tracked.perm_ids) > 1:
            log.error("IBKR orders: orderRef %s carried by permIds %s", tracked.ref, tracked.perm_ids)
            self.sink(OrderIdentityConflict(client_order_id=tracked.ref, broker_perm_ids=tuple(tracked.perm_ids),
                                            ts_init=self.wall_ns(), broker=BROKER))
            return False
        return True

    def _update_status(self, tracked: Tracked, raw: str, filled: int | None, reason: str = "") -> None:
        filled_quantity = max(tracked.filled, filled or 0)
        parent = self._orders.get(tracked.parent) if tracked.parent else None
        waiting = parent is not None and parent.filled == 0
        status = ibkr_status(raw, filled_quantity, waiting)
        if tracked.status in TERMINAL and status not in TERMINAL:
            return                                    # a late message about an order already done
        tracked.status, tracked.broker_status = status, raw
        key = (status, raw, filled_quantity, tracked.quantity)
        if key == tracked.last_report:
            return
        tracked.last_report = key
        now = self.wall_ns()
        self.sink(OrderStatusReported(client_order_id=tracked.ref, status=status, broker_status=raw,
                                      filled_quantity=filled_quantity, quantity=tracked.quantity, ts_event=now,
                                      ts_init=now, broker=BROKER, broker_order_id=tracked.order_id,
                                      broker_perm_id=tracked.perm_ids[0] if tracked.perm_ids else None,
                                      reason=reason))

    def _report_other_identity(self, tracked: Tracked, perm_id: int, order_id: int, raw: str, filled: int,
                               quantity: int) -> None:
        now = self.wall_ns()
        self.sink(OrderStatusReported(client_order_id=tracked.ref, status=ibkr_status(raw, filled, False),
                                      broker_status=raw, filled_quantity=filled, quantity=quantity, ts_event=now,
                                      ts_init=now, broker=BROKER, broker_order_id=order_id or None,
                                      broker_perm_id=perm_id, reason="a second broker order with this client "
                                                                     "order id (see OrderIdentityConflict)"))

    def _fill_report(self, execution: Any, ref: str | None, symbol: str) -> FillReported:
        return FillReported(exec_id=execution.execId, client_order_id=ref, symbol=symbol,
                            side=Side.BUY if execution.side == "BOT" else Side.SELL, quantity=int(execution.shares),
                            price=_decimal(execution.price), cumulative_quantity=int(execution.cumQty),
                            ts_event=_ns(execution.time), ts_init=self.wall_ns(), broker=BROKER,
                            broker_order_id=execution.orderId or None, broker_perm_id=execution.permId or None)

    def _error(self, ref: str | None, code: int | None, text: str, operation: str | None,
               order_id: int | None = None) -> None:
        log.warning("IBKR orders: %s %s code=%s %s", operation, ref, code, text)
        self.sink(BrokerErrorReported(client_order_id=ref, code=code, text=text, ts_init=self.wall_ns(),
                                      broker=BROKER, operation=operation, broker_order_id=order_id))

    def _restore(self) -> None:
        for ref, entry in self._state["orders"].items():
            tracked = self._track(_command_from_journal(ref, entry), role=entry["role"], parent=entry["parent"],
                                  children=tuple(entry["children"]))
            tracked.order_id = entry["order_id"]
            tracked.written = True          # sent by an earlier process: it may have reached TWS
            tracked.perm_ids = list(entry["perm_ids"])
            self._id_to_ref[tracked.order_id] = ref
            for perm_id in tracked.perm_ids:
                self._perm_to_ref[perm_id] = ref


def _on_grid(order: PlaceOrder) -> PlaceOrder:
    side = order.side.value.lower()
    limit = None if order.limit_price is None else round_to_tick(order.limit_price, order.tick_size, side)
    stop = None if order.stop_price is None else round_to_tick(order.stop_price, order.tick_size)
    if (limit, stop) != (order.limit_price, order.stop_price):
        log.info("IBKR orders: %s prices moved onto the %s grid: limit %s -> %s, stop %s -> %s",
                 order.client_order_id, order.tick_size, order.limit_price, limit, order.stop_price, stop)
    return replace(order, limit_price=limit, stop_price=stop)


def _journal_entry(tracked: Tracked) -> dict[str, Any]:
    command = tracked.command
    return {"order_id": tracked.order_id, "perm_ids": tracked.perm_ids, "written": tracked.written,
            "role": tracked.role, "parent": tracked.parent, "children": list(tracked.children),
            "symbol": command.symbol, "side": command.side.value, "order_type": command.order_type.value,
            "quantity": command.quantity, "tick_size": str(command.tick_size), "route": command.route.value,
            "limit_price": None if command.limit_price is None else str(command.limit_price),
            "stop_price": None if command.stop_price is None else str(command.stop_price)}


def _command_from_journal(ref: str, entry: dict[str, Any]) -> PlaceOrder:
    def price(name: str) -> Decimal | None:
        return None if entry[name] is None else Decimal(entry[name])
    return PlaceOrder(client_order_id=ref, symbol=entry["symbol"], side=Side(entry["side"]),
                      order_type=OrderType(entry["order_type"]), quantity=entry["quantity"],
                      tick_size=Decimal(entry["tick_size"]), route=Route(entry["route"]),
                      limit_price=price("limit_price"), stop_price=price("stop_price"))


def _decimal(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _ns(moment: Any) -> int:
    return int(moment.timestamp()) * NS + moment.microsecond * 1000


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


__all__ = ["IbkrBroker", "IbkrBrokerConfig", "ibkr_status", "BrokerReport"]

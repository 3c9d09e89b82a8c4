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
- **Statuses and executions** (connectors.ibkr.reports): IBKR's states map onto Initiated / Placed / Pending /
  Success / Failed / Cancelled (`ibkr_status`), the raw state kept in every report. Executions come from
  `execDetails` and are joined with `commissionReport` by execution id, each reported once, ever (the journal).
- **Reconnection and restarts** (connectors.ibkr.reconcile): `run` connects (backing off), then reconciles
  before sending anything new: open orders and executions are re-requested and matched with ours by permId /
  orderRef / execution id, and only then is what was held sent. While disconnected, commands are held
  (`when_disconnected="hold"`) or refused with the reason (`"refuse"`).
- **Pacing**: every message on the connection goes through a token bucket (connectors.ibkr.pacing).
- **Margin**: `check_margin` asks TWS for the order's `whatIf` margin impact and reports it beside the risk
  stage's Reg-T figure, flagging a difference above `margin_difference_pct`.

The modules of the broker:

    orders      IbkrBroker (the Broker interface, sending, bracket resizing) and IbkrBrokerConfig
    reports     TwsReports: TWS's order messages as reports (statuses, executions and commissions, errors)
    reconcile   Reconnection: connecting, reconciling after a reconnection or restart, holding commands
    tracked     Tracked (one order as we know it) and its entry in the journal

The library's objects stay in these modules: the rest of the platform sees only connectors.broker's commands
and reports.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from types import ModuleType
from typing import Any

from connectors.broker import (BrokerReport, FillReported, MarginChecked, ModifyOrder, OpenOrder, PlaceBracket,
                               PlaceOrder, ReportSink)
from connectors.ibkr.api import load_library
from connectors.ibkr.order_journal import JournalStore
from connectors.ibkr.pacing import PacedSender, TokenBucket
from connectors.ibkr.reconcile import Reconnection
from connectors.ibkr.reports import BROKER, NS, TwsReports, epoch_ns, ibkr_status
from connectors.ibkr.tracked import Tracked, journal_entry
from processors.instruments.ticks import round_to_tick
from processors.paper import OrderType
from processors.paper.orders import TERMINAL
from schemas.errors import ConfigError

log = logging.getLogger(__name__)

IB_ORDER_TYPES = {OrderType.MARKET: "MKT", OrderType.LIMIT: "LMT", OrderType.STOP: "STP",
                  OrderType.STOP_LIMIT: "STP LMT"}
WHEN_DISCONNECTED = ("hold", "refuse")


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


class IbkrBroker(Reconnection, TwsReports):
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
        tracked = self._working(ref, "modify", "nothing modified", "modified; nothing sent")
        if tracked is None:
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
        tracked = self._working(client_order_id, "cancel", "nothing cancelled", "cancelled")
        if tracked is None:
            return
        self.ib.client.cancelOrder(tracked.order_id, "")

    def _working(self, ref: str, operation: str, unknown: str, done: str) -> Tracked | None:
        """The order `ref` if it can still be modified or cancelled; else None, the error reported."""
        tracked = self._orders.get(ref)
        if tracked is None or tracked.order_id is None:
            self._error(ref, None, f"unknown order {ref!r}: {unknown}", operation)
            return None
        if tracked.status in TERMINAL:
            self._error(ref, None, f"the order is {tracked.status} ({tracked.broker_status}, {tracked.filled} "
                                   f"filled) and can no longer be {done}", operation)
            return None
        return tracked

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
                for fill in fills if epoch_ns(fill.execution.time) >= ts_event]

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
            self._state["orders"][tracked.ref] = journal_entry(tracked)
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
                self._state["orders"][ref] = journal_entry(tracked)
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

def _on_grid(order: PlaceOrder) -> PlaceOrder:
    side = order.side.value.lower()
    limit = None if order.limit_price is None else round_to_tick(order.limit_price, order.tick_size, side)
    stop = None if order.stop_price is None else round_to_tick(order.stop_price, order.tick_size)
    if (limit, stop) != (order.limit_price, order.stop_price):
        log.info("IBKR orders: %s prices moved onto the %s grid: limit %s -> %s, stop %s -> %s",
                 order.client_order_id, order.tick_size, order.limit_price, limit, order.stop_price, stop)
    return replace(order, limit_price=limit, stop_price=stop)


__all__ = ["IbkrBroker", "IbkrBrokerConfig", "ibkr_status", "BrokerReport"]

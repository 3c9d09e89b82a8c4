"""A live broker for the strategy runner: the broker (connectors.ibkr.orders.IbkrBroker) runs on its own event
loop in its own thread; the runner's thread sends the desk's orders to it and takes its reports back.

    live = LiveBroker(lambda sink: IbkrBroker(config, sink, journal), "ibkr")
    live.start()                               # connects (backing off) and reconciles before sending anything
    live.send(desk.take_outbox(), ts_event)    # -> [BrokerEvent] for orders refused before sending
    live.send(orders, ts_event, margin_of)     # each order's margin impact asked first (IBKR whatIf)
    events = live.events(at_least_ns)          # the reports so far, as the desk's events, in order
    live.close()

The reports are kept in arrival order in a queue: the runner drains it between two batches of prints and
gives the desk each report at the report's own time, never before the last event time the desk took (so
the desk's time never runs backwards). An execution waits for its commission report (IBKR's own charges
replace the desk's model, so the deals report has what IBKR billed) for up to `commission_wait_s`, and
the reports after it wait with it, so the desk hears them in order; past that wait it goes to the desk
with the model's charges, and a warning says so. Reports the desk does not hear about (connection
changes, errors, a manual order in TWS, an identity conflict) are logged here, each with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from decimal import Decimal
from collections.abc import Callable
from typing import Any

from connectors.broker import (BrokerConnectionChanged, BrokerErrorReported, CommissionReported,
                               ExternalOrderReported, FillReported, MarginChecked, OrderIdentityConflict,
                               OrderStatusReported, PositionsReported)
from connectors.desk_broker import DeskBrokerBridge
from processors.trading.orders import BrokerEvent, DeskOrder

log = logging.getLogger(__name__)


class LiveBroker:
    def __init__(self, make_broker: Callable[[Callable[[Any], None]], Any], name: str,
                 commission_wait_s: float = 5.0, monotonic: Callable[[], float] = time.monotonic,
                 ready_wait_s: float = 30.0) -> None:
        self.make_broker = make_broker
        self.name = name
        self.commission_wait_s = commission_wait_s
        self.ready_wait_s = ready_wait_s                    # a margin check waits this long for the connection
        self.monotonic = monotonic
        self._pending: list[tuple[Any, float]] = []        # order reports not yet given, with their arrival
        self._commissions: dict[str, Decimal] = {}         # commission reports by execution id
        self.positions: PositionsReported | None = None    # the last positions report not yet compared
        self.corrections: list[str] = []                   # execution corrections that change a fill (logged)
        self.bridge = DeskBrokerBridge(name)
        self.reports: queue.SimpleQueue = queue.SimpleQueue()
        self.loop = asyncio.new_event_loop()
        self.broker: Any = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"broker-{name}", daemon=True)
        self.sent = 0

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError(f"the {self.name} broker's thread did not start")

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self._stop = asyncio.Event()
        self.broker = self.make_broker(self.reports.put)
        self._ready.set()
        try:
            self.loop.run_until_complete(self.broker.run(self._stop))
        finally:
            self.loop.close()

    def send(self, orders: list[DeskOrder], ts_event: int,
             margin_of: Callable[[DeskOrder], Decimal] | None = None) -> list[BrokerEvent]:
        """The desk's orders to the broker (in its thread); the desk's rejections of those that cannot be sent.
        With `margin_of` (an order's Reg-T initial margin, as the risk stage figures it), the broker is first
        asked for the order's margin impact (`check_margin`: a `MarginChecked` report, a large difference
        logged as a warning); the order is sent after the answer, or after a failed check with a warning."""
        refused: list[BrokerEvent] = []
        for order in orders:
            command, rejected = self.bridge.command(order)
            if command is None:
                log.warning("broker=%s order %s refused before sending: %s", self.name, order.client_order_id,
                            rejected[0].event.reason)
                refused += rejected
                continue
            self.sent += 1
            if margin_of is None:
                self.loop.call_soon_threadsafe(self.broker.place, command, ts_event)
            else:
                asyncio.run_coroutine_threadsafe(self._checked(command, margin_of(order), ts_event), self.loop)
        return refused

    async def _checked(self, command: Any, reg_t: Decimal, ts_event: int) -> None:
        """The margin check, once the broker is connected and reconciled (up to its connection timeout), then
        the order (held by the broker itself while it is disconnected)."""
        waited = 0.0
        while not getattr(self.broker, "ready", True) and waited < self.ready_wait_s:
            await asyncio.sleep(0.05)   # the broker's reconciliation runs on this loop
            waited += 0.05
        try:
            await self.broker.check_margin(command, reg_t)
        except (TimeoutError, ConnectionError) as exc:
            log.warning("broker=%s margin check of %s failed (%s): sent without it", self.name,
                        command.client_order_id, exc or type(exc).__name__)
        self.broker.place(command, ts_event)

    def events(self, at_least_ns: int) -> list[BrokerEvent]:
        """The reports received so far as the desk's events, each at max(its own time, `at_least_ns`)."""
        return self._translate(self._drain(), at_least_ns)

    def wait_events(self, at_least_ns: int, timeout_s: float) -> list[BrokerEvent]:
        """As `events`, after waiting up to `timeout_s` for a first report (none: [])."""
        try:
            first = self.reports.get(timeout=timeout_s)
        except queue.Empty:
            return []
        return self._translate([first, *self._drain()], at_least_ns)

    def _drain(self) -> list[Any]:
        reports = []
        while True:
            try:
                reports.append(self.reports.get_nowait())
            except queue.Empty:
                return reports

    def _translate(self, reports: list[Any], at_least_ns: int) -> list[BrokerEvent]:
        now = self.monotonic()
        for report in reports:
            if isinstance(report, OrderStatusReported | FillReported | PositionsReported):
                self._pending.append((report, now))     # in order: positions after the executions before them
            elif isinstance(report, CommissionReported):
                self._commissions[report.exec_id] = report.commission
                _log_report(self.name, report)
            else:
                _log_report(self.name, report)
        out: list[BrokerEvent] = []
        while self._pending:
            report, since = self._pending[0]
            commission = None
            if isinstance(report, FillReported):
                commission = self._commissions.pop(report.exec_id, None)
                if commission is None and report.client_order_id is not None:
                    if now - since < self.commission_wait_s:
                        break               # wait for IBKR's commission (and keep the later reports behind it)
                    log.warning("broker=%s no commission report for execution %s within %.1f s: the desk's "
                                "charges model prices it", self.name, report.exec_id, self.commission_wait_s)
            self._pending.pop(0)
            if isinstance(report, PositionsReported):
                self.positions = report
                continue
            at_least_ns = max(report.ts_event, at_least_ns)
            events = self.bridge.events(report, at_least_ns, commission)
            if not events and report.client_order_id is None:
                log.warning("broker=%s an execution of an order that is not ours: %s", self.name, report)
            out += events
        for correction in self.bridge.corrections:
            log.error("broker=%s %s", self.name, correction)
        self.corrections += self.bridge.corrections
        self.bridge.corrections = []
        return out

    def close(self, timeout_s: float = 30) -> None:
        if self._stop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout_s)


def _log_report(name: str, report: Any) -> None:
    if isinstance(report, BrokerConnectionChanged):
        log.info("broker=%s connection %s: %s", name, report.state, report.detail)
    elif isinstance(report, BrokerErrorReported):
        log.warning("broker=%s error %s on %s (%s): %s", name, report.code, report.client_order_id,
                    report.operation, report.text)
    elif isinstance(report, ExternalOrderReported | OrderIdentityConflict):
        log.warning("broker=%s %s: %s", name, type(report).__name__, report)
    elif isinstance(report, MarginChecked):
        (log.warning if report.large_difference else log.info)(
            "broker=%s margin of %s: %s says %s initial margin, our Reg-T figure %s (difference %s%s)", name,
            report.client_order_id, name, report.broker_initial_margin_change, report.reg_t_initial_margin,
            report.difference, ", large" if report.large_difference else "")
    elif isinstance(report, CommissionReported):
        log.info("broker=%s commission %s %s on execution %s", name, report.commission, report.currency,
                 report.exec_id)
    else:
        log.info("broker=%s %s", name, report)

"""Connecting, reconnecting and restarting the IBKR order broker: the `Reconnection` part of `IbkrBroker`.

- **Reconnection and restarts**: `run` connects (backing off), then reconciles before sending anything new:
  it re-requests all open orders (manual TWS orders included, reported as external), the executions
  since the last one seen and the account's positions (`PositionsReported`, for the caller to compare with
  its own: a position opened by hand is found there), matches them by permId / orderRef / execution id (connectors.ibkr.reports), and
  only then sends what was held. An order sent but never acknowledged is found by its `orderRef` and never
  sent again; one that never left our socket is sent with a new id; one that left but cannot be found is
  reported, not resent. Bracket children whose resizing waited for the connection are resized.
- **Restarts**: `_restore` rebuilds the orders an earlier process sent from the journal
  (connectors.ibkr.tracked), each taken as possibly sent, before the first connection.
- **While disconnected** commands are held and sent after reconciliation (`when_disconnected="hold"`) or
  refused with the reason (`"refuse"`); a cancel or modify still queued by the pacer when the connection
  drops is reported as not sent.

`Reconnection` is a mixin of `IbkrBroker` (connectors.ibkr.orders): it works on the state the broker's
constructor sets up, and sends through the broker's own `_send_new` and `_resize_children`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from connectors.broker import BrokerConnectionChanged, BrokerPosition, PositionsReported, ReportSink
from connectors.ibkr.feed import Backoff
from connectors.ibkr.pacing import PacedSender
from connectors.ibkr.reports import BROKER, NS, exact_decimal
from connectors.ibkr.tracked import Tracked, command_from_journal

log = logging.getLogger("connectors.ibkr.orders")   # one logger for the whole order broker


class Reconnection:
    """The connection's life and the reconciliation after it; mixed into `IbkrBroker`, whose constructor sets
    these attributes."""
    config: Any
    sink: ReportSink
    wall_ns: Callable[[], int]
    lib: Any
    ib: Any
    pacer: PacedSender
    ready: bool
    _state: dict[str, Any]
    _orders: dict[str, Tracked]
    _perm_to_ref: dict[int, str]
    _id_to_ref: dict[int, str]
    _held: list[tuple[str, Any, int]]
    _resize_pending: set[str]
    _next_valid_id: int
    _disconnected: asyncio.Event

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
        positions = await asyncio.wait_for(self.ib.reqPositionsAsync(), self.config.request_timeout_s)
        self.sink(PositionsReported(positions=tuple(_positions(positions, self.config.account)),
                                    ts_init=self.wall_ns(), broker=BROKER))
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

    def _restore(self) -> None:
        for ref, entry in self._state["orders"].items():
            tracked = self._track(command_from_journal(ref, entry), role=entry["role"], parent=entry["parent"],
                                  children=tuple(entry["children"]))
            tracked.order_id = entry["order_id"]
            tracked.written = True          # sent by an earlier process: it may have reached TWS
            tracked.perm_ids = list(entry["perm_ids"])
            self._id_to_ref[tracked.order_id] = ref
            for perm_id in tracked.perm_ids:
                self._perm_to_ref[perm_id] = ref


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except asyncio.TimeoutError:
        pass


def _positions(positions: list[Any], account: str) -> list[BrokerPosition]:
    """IB's positions of `account` (all when empty) as ours: stocks by symbol, whole shares, exact cost."""
    out = []
    for position in positions:
        if account and position.account != account:
            continue
        contract = position.contract
        if contract.secType != "STK" or not position.position:
            continue
        out.append(BrokerPosition(contract.symbol, int(position.position), exact_decimal(position.avgCost)))
    return sorted(out, key=lambda p: p.symbol)

"""What TWS says about our orders, turned into connectors.broker reports: the `TwsReports` part of `IbkrBroker`.

- **Statuses**: IBKR's states map onto Initiated / Placed / Pending / Success / Failed / Cancelled
  (`ibkr_status`), the raw state kept in every report; a report that changes nothing is not repeated.
- **Executions** come from `execDetails` and are joined with `commissionReport` by execution id (IBKR's own
  commissions; a commission that arrives before its execution waits for it), each reported once, ever (the
  journal). An entry's fills resize its bracket's children (`IbkrBroker._resize_children`).
- **Identity**: TWS's messages are matched to our orders by `orderRef` or permId (an order status from our own
  client id by its order id too). PermIds are written to the journal as they arrive; a second one for the same
  `orderRef` is reported as an `OrderIdentityConflict`, and that order's statuses carry its own permId. An
  open order that is not ours is reported once as an `ExternalOrderReported`.
- **Errors**: IBKR's order error codes become `BrokerErrorReported` saying what was wrong (a price off the
  grid names the prices and the tick); a rejection of an order IB never acknowledged makes it Failed.

`TwsReports` is a mixin of `IbkrBroker` (connectors.ibkr.orders): it works on the state the broker's constructor
sets up, and its callbacks are chained onto ib_insync's wrapper by `_hook_wrapper`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from connectors.broker import (BrokerErrorReported, CommissionReported, ExternalOrderReported, FillReported,
                               OrderIdentityConflict, OrderStatusReported, ReportSink)
from connectors.ibkr.order_journal import JournalStore
from connectors.ibkr.tracked import Tracked, journal_entry
from processors.paper import OrderStatus, Side
from processors.paper.orders import TERMINAL

log = logging.getLogger("connectors.ibkr.orders")   # one logger for the whole order broker

BROKER = "ibkr"
NS = 1_000_000_000
PRICE_INCREMENT = 110
ORDER_ERRORS = {103: "duplicate order id", 104: "cannot modify a filled order", 105: "the modification does not "
                "match the original order", 110: "price off the minimum price variation", 161: "cancel refused",
                201: "order rejected", 203: "the security is not available or allowed for this account",
                10147: "cancel of an unknown order", 10148: "cancel refused: the order is done"}
REJECTING = {103, 110, 201, 203}
INFORMATION = range(2100, 2200)
CANCELLED_NOTICE = 202
CONNECTIVITY = {1100, 1101, 1102}


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


class TwsReports:
    """TWS's order messages as reports; mixed into `IbkrBroker`, whose constructor sets these attributes."""
    config: Any
    sink: ReportSink
    journal: JournalStore
    wall_ns: Callable[[], int]
    ib: Any
    _state: dict[str, Any]
    _orders: dict[str, Tracked]
    _perm_to_ref: dict[int, str]
    _id_to_ref: dict[int, str]
    _external: set[int]
    _early_commissions: dict[str, Any]
    _next_valid_id: int

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
        self._state["last_execution_ns"] = max(self._state["last_execution_ns"], epoch_ns(execution.time))
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
                                     commission=exact_decimal(report.commission), currency=report.currency,
                                     realized_pnl=exact_decimal(report.realizedPNL) if report.realizedPNL else None,
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
        self._state["orders"][tracked.ref] = journal_entry(tracked)
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
                            price=exact_decimal(execution.price), cumulative_quantity=int(execution.cumQty),
                            ts_event=epoch_ns(execution.time), ts_init=self.wall_ns(), broker=BROKER,
                            broker_order_id=execution.orderId or None, broker_perm_id=execution.permId or None)

    def _error(self, ref: str | None, code: int | None, text: str, operation: str | None,
               order_id: int | None = None) -> None:
        log.warning("IBKR orders: %s %s code=%s %s", operation, ref, code, text)
        self.sink(BrokerErrorReported(client_order_id=ref, code=code, text=text, ts_init=self.wall_ns(),
                                      broker=BROKER, operation=operation, broker_order_id=order_id))


def exact_decimal(value: float) -> Decimal:
    """IBKR's float as the Decimal it prints as (187.5 -> Decimal("187.5"), not the binary fraction)."""
    return Decimal(repr(float(value)))


def epoch_ns(moment: Any) -> int:
    """An execution's time (a datetime) as integer nanoseconds since the Unix epoch."""
    return int(moment.timestamp()) * NS + moment.microsecond * 1000

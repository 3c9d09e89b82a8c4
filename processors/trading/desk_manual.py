"""The trading desk's manual actions (`TradingDesk` mixes it in): an operator's request to close a running trade,
move its stop or its target, or change its quantity (`TradeActionRequested`), decided as a strategy's intent is
and then applied by the trade manager. Pure, like the rest of the desk: the request carries its event time.

    desk.on_trade_action(action, ts_init)   -> [sweeps due before it ..., RiskDecisionMade, order events ...]

Every request gets one `RiskDecisionMade` whose intent_id is the request's action_id (a request seen before
returns [] and changes nothing), its first check `operator` saying who asked what and why; its quantity is what an
exit orders (0 for a move or a refusal), its requested_quantity what the exit asks for (a refused quantity change:
the open quantity asked for). What is decided:

    CLOSE            an exit of every open unit that no pending exit covers, reason MANUAL (the deals comment
                     "manual"), decided by processors.risk.decide like the trade manager's exits: never blocked by
                     the entry limits or the kill switch. Accepted, it is a MARKET order (id = the trade
                     manager's request id "<trade>:exit:<n>") filled by the next print; refused, the units are free
    CHANGE_QUANTITY  to fewer units: a partial exit of the difference, as CLOSE; to as many: refused; to more: an
                     add-on (below)
    MOVE_STOP        on the tick grid, below the latest price for a long (above for a short) and on the stop's side
                     of the target; when it widens the trade's risk (open units x |average entry - stop| x
                     multiplier, zero once the stop is past the entry) the new risk must stay within the per-trade
                     budget (min(max_loss_per_trade, equity x max_loss_per_trade_pct %)) and the account's open risk
                     after it within max_open_risk, each refusal with its figure and limit; a tighter stop always
                     passes. Accepted, the trade manager's stop is moved (a TradeUpdated STOP_MOVED)
    MOVE_TARGET      on the tick grid, above the latest price for a long (below for a short) and beyond the stop.
                     Accepted, the target is moved (TARGET_MOVED)

An add-on (CHANGE_QUANTITY to more units) is an entry of the difference, decided by processors.risk.decide as a
strategy's entry is (processors/risk/addon.py): every limit, the buying power, max_position_pct,
max_capital_utilized_pct, the open risk with the trade's current stop as its stop, the regime's checks (the legacy
day-trade count) and the kill switch, which refuses it; the checks may cap it (RESIZE). Its decision's action is
"entry", its requested_quantity the units asked for, its quantity the units ordered. Accepted, it is a MARKET
order whose client order id is the action id (its trade id the trade's), filled by the next print; its fills add to
the trade in the trade manager (the average entry exact, the deals row's entry quantity grown, a TradeUpdated
ADDED), and the exits, the stop, the target and risk reduction then act on the larger trade. While it works, the
risk decisions count its rest with its trade (at its signal price and the trade's stop as it stands, so a stop
moved meanwhile is counted), and it is refused when the trade has exits pending or another entry order working.
Its fills take the trade's stop and target as they stand when they fill. A CLOSE or a CHANGE_QUANTITY to fewer
units cancels a working add-on first at the paper broker (the latest request says what the trade should hold). An
exit a sweep places while the add-on works (a stop, a target, risk reduction, the kill switch, the time close)
fills after it at the paper broker (time priority), so it acts on the units there were, and the next sweep on the
rest. A fill that comes after the trade closed (a live broker's, which the desk cannot cancel) never reopens the
closed trade: it opens a trade of its own, id = the add-on's id, at the closed trade's last stop (one tick beyond
the fill if the fill is through it) and its strategy's target, so the units are managed like any trade's. A
snapshot keeps the working add-on as an order of the desk; replayed, the same events give the same ids and
decisions.

A request for a trade the desk does not hold running (unknown, of another account, not filled yet, closed), or
with a figure missing, is refused with the reason. The latest price is the account book's (the last print, else
the last fill); without one a move is refused, since its side cannot be checked. A moved stop or target applies to
the prints after the move (processors/trades/manual.py).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from processors.model import TradeActionRequested
from processors.model import plain_decimal as canonical
from processors.paper import OrderType
from processors.pnl import Direction
from processors.risk import (Action, Check, CheckOutcome, ExitReason, Outcome, RiskDecision, RiskIntent,
                             StopPrice, decide)
from processors.risk.decision import reasons_of
from processors.risk.event import decision_event
from processors.risk.sizing import risk_budget
from processors.trades import ExitCancelled, TradeStatus, TradeView
from processors.trading.errors import TradingDeskError, check_ts
from processors.trading.orders import ENTRY, EXIT, DeskOrder

DeskEvent = Any
ZERO = Decimal(0)
LABELS = {"CLOSE": "exit", "MOVE_STOP": "move_stop", "MOVE_TARGET": "move_target",
          "CHANGE_QUANTITY": "change_quantity"}


class ManualActionsMixin:
    """`on_trade_action` of `TradingDesk` (module docstring)."""

    def on_trade_action(self, action: TradeActionRequested, ts_init: int) -> list[DeskEvent]:
        if not isinstance(action, TradeActionRequested):
            raise TradingDeskError("action", f"must be a TradeActionRequested, got {type(action).__name__}")
        check_ts(ts_init, "ts_init")
        check_ts(action.ts_event, "action.ts_event")
        if action.action_id in self._seen:
            return []
        self._seen.add(action.action_id)
        if isinstance(action.price, Decimal):   # as decoded (8 places) or as built: the same words and figures
            action = replace(action, price=canonical(action.price))
        ts = action.ts_event
        out = self._begin(ts, ts_init, inclusive=False)
        out += _Manual(self, action, ts_init).decide()
        self._sync_kill_switches(ts)
        return out


class _Manual:
    """One request's decision and what it does; `desk` is the TradingDesk."""

    def __init__(self, desk: Any, action: TradeActionRequested, ts_init: int) -> None:
        self.desk, self.action, self.ts_init, self.ts = desk, action, ts_init, action.ts_event
        self.trade: TradeView | None = None
        self.label = LABELS.get(action.action, "change_quantity")
        words = f"{action.action} of trade {action.trade_id!r} asked by {action.operator or 'an operator'}"
        self.operator = Check("operator", None, None, CheckOutcome.PASSED,
                              words + (f": {action.reason.strip()}" if action.reason.strip() else ""))

    def decide(self) -> list[DeskEvent]:
        refusal = self._trade_refusal()
        if refusal is not None:
            return [self._refused(*refusal)]
        assert self.trade is not None
        kind, trade = self.action.action, self.trade
        if kind == "CLOSE":
            return self._exit(trade.open_quantity - trade.pending_exit_quantity)
        if kind == "CHANGE_QUANTITY":
            return self._change_quantity()
        if kind in ("MOVE_STOP", "MOVE_TARGET"):
            return self._move()
        return [self._refused("action", f"must be one of {', '.join(LABELS)}, got {kind!r}")]

    # == checks ====================================================================================
    def _trade_refusal(self) -> tuple[str, str] | None:
        action, manager = self.action, self.desk.trade_manager
        try:
            trade = manager.trade(action.trade_id)
        except ValueError:
            return "trade", f"trade {action.trade_id!r} is not running on this desk (unknown, or its entry has not " \
                            "filled yet)"
        self.trade = trade
        if trade.account_id != action.account_id:
            return "trade", f"trade {action.trade_id!r} is of account {trade.account_id!r}, not {action.account_id!r}"
        if trade.status is not TradeStatus.RUNNING:
            return "trade", f"trade {action.trade_id!r} is {trade.status.value}: only a running trade changes by hand"
        return None

    @property
    def _long(self) -> bool:
        assert self.trade is not None
        return self.trade.direction is Direction.LONG

    def _last_price(self) -> Decimal | None:
        assert self.trade is not None
        return self.desk.book(self.trade.account_id).last_price(self.trade.symbol)

    # == exits =====================================================================================
    def _change_quantity(self) -> list[DeskEvent]:
        trade, wanted = self.trade, self.action.quantity
        assert trade is not None
        if not isinstance(wanted, int) or isinstance(wanted, bool) or wanted < 1:
            return [self._refused("quantity", f"the new open quantity must be a whole number of at least 1 (CLOSE "
                                              f"closes it all), got {wanted!r}")]
        if wanted == trade.open_quantity:
            return [self._refused("quantity", f"the trade has {wanted} open units already: nothing to change")]
        if wanted > trade.open_quantity:
            return self._add_on(wanted - trade.open_quantity)
        return self._exit(trade.open_quantity - wanted)

    def _add_on(self, units: int) -> list[DeskEvent]:
        """An entry of `units` more to the running trade (module docstring): decided, then a MARKET order."""
        desk, trade, ts, action_id = self.desk, self.trade, self.ts, self.action.action_id
        assert trade is not None
        self.label = "entry"
        working = desk._add_ons.get(trade.trade_id) or (trade.trade_id if trade.trade_id in desk._working else None)
        if working is not None:
            return [self._refused("working_entry", f"entry order {working} of the trade still works: an add-on waits "
                                                   "until it is done")]
        if trade.pending_exit_quantity:
            return [self._refused("pending_exits", f"{trade.pending_exit_quantity} of the {trade.open_quantity} open "
                                                   "units are being closed by pending exits: an add-on waits until "
                                                   "they are done")]
        entry = desk.order(trade.trade_id)
        book = desk._prepare(trade.account_id, ts)
        record = desk.trade_manager.open_trade_record(trade.account_id, trade.trade_id)
        assert record is not None   # a running trade has its record
        price = self._last_price() or trade.average_entry_price
        side = "BUY" if self._long else "SELL"
        intent = RiskIntent(intent_id=action_id, account_id=trade.account_id, strategy=trade.strategy,
                            symbol=trade.symbol, side=side, action=Action.ENTRY, signal_price=price,
                            tick_size=entry.tick_size, ts_event=ts,
                            stop=StopPrice(trade.stop_price, f"trade {trade.trade_id}'s stop"), quantity=units,
                            lot_size=entry.lot_size, multiplier=entry.multiplier, intraday=trade.intraday,
                            adds_to=record)
        decision = decide(intent, desk.config.accounts[trade.account_id], book.snapshot_at(ts), desk.config.days, ts)
        if decision.tripped_kill_switch and decision.kill_switch is not None:
            book.set_kill_switch(decision.kill_switch)
        decision = replace(decision, checks=(self.operator, *decision.checks))
        out: list[DeskEvent] = [decision_event(decision, self.ts_init)]
        if not decision.accepted:
            return out
        order = DeskOrder(client_order_id=action_id, role=ENTRY, account_id=trade.account_id, strategy=trade.strategy,
                          trade_id=trade.trade_id, symbol=trade.symbol, side=side, order_type=OrderType.MARKET.value,
                          quantity=decision.quantity, tick_size=entry.tick_size, multiplier=entry.multiplier,
                          placed_ns=ts, signal_price=price, decision_stop=trade.stop_price, intraday=entry.intraday,
                          lot_size=entry.lot_size, signal_type=entry.signal_type, route=entry.route)
        desk._working[order.client_order_id] = None
        desk._track_working(order)
        return out + desk._place(order, ts, self.ts_init)

    def _exit(self, quantity: int) -> list[DeskEvent]:
        """A manual exit of `quantity` units: the trade manager's request, the risk decision, the order."""
        desk, trade, ts = self.desk, self.trade, self.ts
        assert trade is not None
        self.label = "exit"
        return desk._cancel_add_on(trade.trade_id, ts, self.ts_init) + self._exit_free(quantity)

    def _exit_free(self, quantity: int) -> list[DeskEvent]:
        desk, trade, ts = self.desk, self.trade, self.ts
        assert trade is not None
        free = trade.open_quantity - trade.pending_exit_quantity
        if free <= 0:
            return [self._refused("pending_exits", f"every one of the {trade.open_quantity} open units is being closed "
                                                   "already by pending exits")]
        if quantity > free:
            return [self._refused("pending_exits", f"closing {quantity} of the {trade.open_quantity} open units "
                                                   f"leaves too few: {trade.pending_exit_quantity} are being closed "
                                                   f"already by pending exits, {free} are free",
                                  value=Decimal(quantity), limit=Decimal(free))]
        detail = self.operator.detail
        out, request = self._exits_and(desk.trade_manager.request_manual_exit(trade.trade_id, quantity, ts, detail))
        if request is None:
            return out + [self._refused("pending_exits", "a sweep due before the request asked for every open unit")]
        entry = desk.order(trade.trade_id)
        book = desk._prepare(trade.account_id, ts)
        price = self._last_price() or trade.average_entry_price
        intent = RiskIntent(intent_id=self.action.action_id, account_id=trade.account_id, strategy=trade.strategy,
                            symbol=trade.symbol, side=request.side, action=Action.EXIT, signal_price=price,
                            tick_size=entry.tick_size, ts_event=ts, quantity=request.quantity,
                            multiplier=entry.multiplier, exit_reason=ExitReason.MANUAL)
        decision = decide(intent, desk.config.accounts[trade.account_id], book.snapshot_at(ts), desk.config.days, ts)
        decision = replace(decision, checks=(self.operator, *decision.checks))
        out.append(decision_event(decision, self.ts_init))
        if not decision.accepted:
            cancelled = ExitCancelled(trade_id=trade.trade_id, request_id=request.request_id, ts_event=ts,
                                      reason="; ".join(decision.reasons))
            return out + desk._exits(desk.trade_manager.on_exit_cancelled(cancelled), self.ts_init)
        order = DeskOrder(client_order_id=request.request_id, role=EXIT, account_id=trade.account_id,
                          strategy=trade.strategy, trade_id=trade.trade_id, symbol=trade.symbol, side=request.side,
                          order_type=OrderType.MARKET.value, quantity=decision.quantity, tick_size=entry.tick_size,
                          multiplier=entry.multiplier, placed_ns=ts, requested=request.quantity, route=entry.route)
        return out + desk._place(order, ts, self.ts_init)

    def _exits_and(self, result: tuple[list, Any]) -> tuple[list[DeskEvent], Any]:
        requests, made = result
        return self.desk._exits(requests, self.ts_init), made

    # == moves =====================================================================================
    def _move(self) -> list[DeskEvent]:
        trade, price, stop = self.trade, self.action.price, self.action.action == "MOVE_STOP"
        assert trade is not None
        what = "stop" if stop else "target"
        if not isinstance(price, Decimal) or not price.is_finite() or price <= 0:
            return [self._refused("price", f"the new {what} must be a price above zero, got {price!r}")]
        tick = self.desk.order(trade.trade_id).tick_size
        if price % tick != 0:
            return [self._refused("price", f"the new {what} {price} is not on the tick grid of {tick}")]
        last = self._last_price()
        if last is None:
            return [self._refused("price", f"no price of {trade.symbol} has been seen yet: the side of the new "
                                           f"{what} cannot be checked")]
        checks = [self._side_check(what, price, last)]
        other = trade.target_price if stop else trade.stop_price
        if other is not None:
            checks.append(self._order_check(what, price, other))
        figures: dict[str, Any] = {}
        if stop:
            risk_checks, figures = self._risk_checks(price)
            checks += risk_checks
        return self._moved(what, price, last, tuple(checks), figures)

    def _side_check(self, what: str, price: Decimal, last: Decimal) -> Check:
        below = self._long == (what == "stop")       # a long's stop and a short's target are below the price
        right = price < last if below else price > last
        words = "below" if below else "above"
        assert self.trade is not None
        return Check("price_side", price, last, CheckOutcome.PASSED if right else CheckOutcome.FAILED,
                     f"a {self.trade.direction.value}'s {what} must be {words} the latest price {last}, got {price}")

    def _order_check(self, what: str, price: Decimal, other: Decimal) -> Check:
        stop, target = (price, other) if what == "stop" else (other, price)
        right = target > stop if self._long else target < stop
        assert self.trade is not None
        words = "above" if self._long else "below"
        return Check("stop_target", price, other, CheckOutcome.PASSED if right else CheckOutcome.FAILED,
                     f"a {self.trade.direction.value}'s target must be {words} its stop: stop {stop}, target {target}")

    def _risk_checks(self, stop: Decimal) -> tuple[list[Check], dict[str, Any]]:
        """The per-trade budget and the account's open risk with the trade's risk at the new stop."""
        desk, trade, ts = self.desk, self.trade, self.ts
        assert trade is not None
        snapshot = desk._prepare(trade.account_id, ts).snapshot_at(ts)
        limits = desk.config.accounts[trade.account_id].limits
        record = next(t for t in snapshot.open_trades if t.trade_id == trade.trade_id)
        per_unit = record.entry_price - stop if self._long else stop - record.entry_price
        new_risk = max(per_unit, ZERO) * record.quantity * record.multiplier
        after = snapshot.open_risk - record.risk + new_risk
        budget, _ = risk_budget(limits, snapshot.equity)
        figures = {"equity": snapshot.equity, "stop_price": stop, "trade_risk": new_risk, "open_risk_after": after,
                   "risk_budget": budget}
        words = (f"the trade's risk at stop {stop}: {record.quantity} units x {max(per_unit, ZERO)} x "
                 f"{record.multiplier} = {new_risk} (at stop {trade.stop_price}: {record.risk})")
        if new_risk <= record.risk:
            return [Check("risk_budget", new_risk, budget, CheckOutcome.PASSED, f"{words}: not wider"),
                    Check("max_open_risk", after, limits.max_open_risk, CheckOutcome.PASSED,
                          f"open risk {snapshot.open_risk} -> {after}: not wider")], figures
        return [Check("risk_budget", new_risk, budget,
                      CheckOutcome.PASSED if new_risk <= budget else CheckOutcome.FAILED,
                      f"{words}; the per-trade budget is min(max_loss_per_trade {limits.max_loss_per_trade}, equity "
                      f"{snapshot.equity} x {limits.max_loss_per_trade_pct} %) = {budget}"),
                Check("max_open_risk", after, limits.max_open_risk,
                      CheckOutcome.PASSED if after <= limits.max_open_risk else CheckOutcome.FAILED,
                      f"open risk {snapshot.open_risk} - {record.risk} + {new_risk} = {after}, limit "
                      f"max_open_risk {limits.max_open_risk}")], figures

    def _moved(self, what: str, price: Decimal, last: Decimal, checks: tuple[Check, ...],
               figures: dict[str, Any]) -> list[DeskEvent]:
        desk, trade = self.desk, self.trade
        assert trade is not None
        checks = (self.operator, *checks)
        failed = any(check.failed for check in checks)
        decision = self._decision(Outcome.REJECT if failed else Outcome.ACCEPT, checks, last, **figures)
        out = [decision]
        if not failed:
            move = desk.trade_manager.move_stop if what == "stop" else desk.trade_manager.move_target
            out += desk._exits(move(trade.trade_id, price, self.ts), self.ts_init)
        return out

    # == decisions =================================================================================
    def _refused(self, name: str, detail: str, value: Decimal | None = None,
                 limit: Decimal | None = None) -> DeskEvent:
        checks = (self.operator, Check(name, value, limit, CheckOutcome.FAILED, detail))
        price = self.action.price if isinstance(self.action.price, Decimal) else ZERO
        return self._decision(Outcome.REJECT, checks, price if self.trade is None else (self._last_price() or price))

    def _decision(self, outcome: Outcome, checks: tuple[Check, ...], price: Decimal, **figures: Any) -> DeskEvent:
        action, trade = self.action, self.trade
        account = action.account_id if trade is None else trade.account_id
        side = "" if trade is None else ("SELL" if trade.direction is Direction.LONG else "BUY")
        switch = self.desk.book(account).kill_switch if account in self.desk.config.accounts else None
        decision = RiskDecision(
            intent_id=action.action_id, account_id=account, strategy="" if trade is None else trade.strategy,
            symbol="" if trade is None else trade.symbol, side=side, action=Action.EXIT, ts_event=self.ts,
            regime=None, outcome=outcome, quantity=0, requested_quantity=action.quantity, checks=checks,
            reasons=reasons_of(checks), equity=figures.pop("equity", None), signal_price=price,
            kill_switch=switch, **figures)
        return replace(decision_event(decision, self.ts_init), action=self.label)

"""The trading desk's risk side (`TradingDesk` mixes it in): an entry intent's risk decision against the account
book, the book prepared for a decision (the trade manager's open trades, the working entries counted as open
trades, the kill switch), and the refusals of intents the desk cannot trade (module docstring of desk.py).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from processors.model import OrderIntentCreated
from processors.paper import OrderType
from processors.risk import (Action, Check, CheckOutcome, OpenTrade, Outcome, RiskConfigError, RiskDecision,
                             RiskIntent, decide, reject_unknown_account)
from processors.risk.running import OpenTradeIndex
from processors.risk.state import OpenTrades
from processors.trading.book import AccountBook
from processors.trading.orders import ENTRY, DeskOrder

UNASSIGNED = "(unassigned)"
NO_TRADES = OpenTrades()
ORDER_TYPES = frozenset(kind.value for kind in OrderType)
PRICE_QUANTUM = Decimal("0.00000001")


class RiskSideMixin:
    """`_entry_decision`, `_prepare`, `_track_working` and `_sync_kill_switches` of `TradingDesk`."""

    def _entry_decision(self, intent: OrderIntentCreated, ts: int) -> tuple[RiskDecision, Any]:
        settings = self.config.strategies.get(intent.strategy)
        if settings is None:
            return _refused(intent, UNASSIGNED, ts, "strategy", f"strategy {intent.strategy!r} is not on this desk "
                                                                "(no account trades it)"), None
        if intent.order_type not in ORDER_TYPES:
            return _refused(intent, settings.account_id, ts, "order_type",
                            f"the paper broker takes {', '.join(sorted(ORDER_TYPES))} orders, not "
                            f"{intent.order_type!r}"), None
        quantity = intent.quantity if settings.cap_at_intent_quantity and intent.quantity > 0 else None
        try:
            risk_intent = RiskIntent.of_order_intent(intent, account_id=settings.account_id, action=Action.ENTRY,
                                                     stop=settings.stop, quantity=quantity,
                                                     lot_size=settings.lot_size, intraday=settings.intraday)
        except RiskConfigError as error:
            return _refused(intent, settings.account_id, ts, "intent", str(error)), None
        account = self.config.accounts.get(settings.account_id)
        if account is None:
            return reject_unknown_account(risk_intent, ts), None
        book = self._prepare(settings.account_id, ts)
        decision = decide(risk_intent, account, book.snapshot_at(ts), self.config.days, ts)
        if decision.tripped_kill_switch and decision.kill_switch is not None:
            book.set_kill_switch(decision.kill_switch)
        return decision, settings

    def _prepare(self, account_id: str, ts: int) -> AccountBook:
        """The account's book with the trade manager's open trades, the working entries and the kill switch. Both
        sets are kept as they change (the manager's `open_trades`, `_track_working`), so this costs nothing per
        open trade: an entry still working after a partial fill is the one record looked at again."""
        self._sync_kill_switches(ts, account_id)
        book = self._books[account_id]
        running = self._manager.open_trades(account_id)
        partial = self._partly_filled.get(account_id)
        if partial:
            running = self._with_rest(account_id, running, partial)
        waiting = self._waiting.get(account_id)
        book.set_trades(running, NO_TRADES if waiting is None else waiting.frozen())
        return book

    def _with_rest(self, account_id: str, running: OpenTrades, partial: dict[str, None]) -> OpenTrades:
        """A running trade whose entry order still works counts what is left to fill too; a working add-on's rest
        joins its trade at the add-on's signal price (`with_add_on_rest`)."""
        changed: dict[str, OpenTrade] = {}
        for order_id in partial:
            entry = self._orders[order_id]
            trade = self._manager.open_trade_record(account_id, entry.trade_id)
            rest = entry.quantity - entry.filled
            if trade is None:
                continue
            if entry.adds_on:
                if rest:
                    changed[trade.trade_id] = with_add_on_rest(trade, rest, entry.signal_price)
            elif rest or entry.multiplier != trade.multiplier:
                changed[trade.trade_id] = replace(trade, quantity=trade.quantity + rest, multiplier=entry.multiplier)
        if not changed:
            return running
        return OpenTrades(changed.get(t.trade_id, t) for t in running)

    def _track_working(self, order: DeskOrder) -> None:
        """Keep the account's working entries as the risk decision counts them, after `order` was placed, filled
        or finished: one that has not filled is an open trade of its own (`_waiting`); one partly filled adds its
        rest to its running trade (`_partly_filled`), as a working add-on does from its placing (also kept by its
        trade in `_add_ons`)."""
        if order.role != ENTRY:
            return
        working = order.client_order_id in self._working
        if order.adds_on:
            partial = self._partly_filled.setdefault(order.account_id, {})
            if working:
                partial[order.client_order_id] = None
                self._add_ons[order.trade_id] = order.client_order_id
            else:
                partial.pop(order.client_order_id, None)
                if self._add_ons.get(order.trade_id) == order.client_order_id:
                    del self._add_ons[order.trade_id]
            return
        waiting = self._waiting.get(order.account_id)
        if working and order.filled == 0:
            if waiting is None:
                waiting = self._waiting[order.account_id] = OpenTradeIndex()
            waiting.put(OpenTrade(trade_id=order.trade_id, symbol=order.symbol, side=order.side,
                                  quantity=order.quantity, entry_price=order.signal_price,
                                  stop_price=order.decision_stop, opened_ns=order.placed_ns,
                                  multiplier=order.multiplier))
        elif waiting is not None:
            waiting.discard(order.trade_id)
        partial = self._partly_filled.setdefault(order.account_id, {})
        if working and order.filled > 0:
            partial[order.client_order_id] = None
        else:
            partial.pop(order.client_order_id, None)

    def _sync_kill_switches(self, ts: int, only: str | None = None) -> None:
        for account_id, book in self._books.items():
            if only is not None and account_id != only:
                continue
            switch = self._manager.kill_switch(account_id)
            if switch is not None and switch.tripped and not book.kill_switch.tripped:
                book.set_kill_switch(book.kill_switch.trip(switch.reason, ts))


def with_add_on_rest(trade: OpenTrade, rest: int, price: Decimal) -> OpenTrade:
    """The trade's record grown by a working add-on's `rest` units entering at `price`: its entry price the
    average of both, on the 1e-8 grid away from the stop when the division does not end sooner (so the risk counted
    is never less than the two parts')."""
    quantity = trade.quantity + rest
    entry = (trade.quantity * trade.entry_price + rest * price) / quantity
    if entry.as_tuple().exponent < -8:
        entry = entry.quantize(PRICE_QUANTUM, ROUND_CEILING if trade.side == "BUY" else ROUND_FLOOR)
    return replace(trade, quantity=quantity, entry_price=entry)


def _refused(intent: OrderIntentCreated, account_id: str, ts: int, check: str, detail: str) -> RiskDecision:
    checks = (Check(check, None, None, CheckOutcome.FAILED, detail),)
    return RiskDecision(
        intent_id=intent.client_order_id, account_id=account_id, strategy=intent.strategy, symbol=intent.symbol,
        side=intent.side, action=Action.ENTRY, ts_event=ts, regime=None, outcome=Outcome.REJECT, quantity=0,
        requested_quantity=intent.quantity, checks=checks, reasons=(f"{check}: {detail}",), equity=None,
        signal_price=intent.reference_price)

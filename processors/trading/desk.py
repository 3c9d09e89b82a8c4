"""`TradingDesk`: order intents and market data in; risk decisions, order events and fills out. Pure.

    desk = TradingDesk(DeskConfig(...))
    desk.on_intent(intent, ts_init)     -> [RiskDecisionMade, OrderStatusChanged(ACCEPTED)]   (or [] if seen)
    desk.on_trade(tick)                 -> exits due, fills (FillExecuted), order changes, exits they caused
    desk.on_bar(bar)                    -> the same from a bar (bars-only mode)
    desk.advance_to(ts)                 -> the watermark: the exits of the sweeps due at or before ts
    desk.on_exit_signal(strategy, symbol, ts)   an exit rule of the strategy fired
    desk.reset_kill_switch(account_id, reason, ts)
    desk.on_trade_action(action, ts_init)   an operator's close, stop, target or quantity (desk_manual.py)
    desk.take_outbox()                  -> the orders for a live broker (an account whose broker is not "paper")
    desk.on_broker_events(events, ts_init)  the live broker's reports of them (`BrokerEvent`), as the paper's
    TradingDesk.restore(config, desk.snapshot())      # restore + continue = one uninterrupted run

The backtest, the live stage and the audit replay all call this, so they make the same decisions, orders,
fills and trades from the same inputs: nothing reads a clock, every time comes with the input (int ns UTC),
ids derive from the inputs (entry order and trade id = the intent's client order id; exit order id = the
trade manager's request id; exec ids from the paper broker), and the state is a plain snapshot.

How one input is handled, which is also the order of the events it returns:

 1. The trade manager's sweeps due before the input's event time run (`advance_to(ts - 1)`; at or before
    it for `advance_to(ts)`). Each exit they ask for, in the manager's order, becomes: an exit
    `RiskIntent` (action exit, its reason and quantity; the signal price is the price that triggered it, or
    the last price) -> `decide` against the account book (an exit is never blocked by entry limits) ->
    `RiskDecisionMade` -> a MARKET order placed at the sweep instant, id = the request id ->
    `OrderStatusChanged` (ACCEPTED, or REJECTED). A refused exit is given back to the trade manager
    (`ExitCancelled`): the shares may be asked for again at a later sweep.
 2. The day roll: at the first input of a later New York date every account book starts the day
    (book.py) and the trade manager's day P&L starts from the same equity (`start_day`).
 3. The input itself:
      on_intent   the entry's `RiskDecisionMade`, then (accepted) the entry order's `OrderStatusChanged`
      on_trade    the paper broker's events for the print, in its order: a fill -> `FillExecuted` (with its
                  charges), the book and the trade manager take it (an entry fill opens or adds to the trade,
                  an exit fill reduces it); any other change -> `OrderStatusChanged`; an exit order done
                  with less than asked gives the rest back. Then the price reaches the books and the
                  trade manager (whose sweep acts on it from the next sweep instant).
      on_bar      as on_trade; the trade manager is given the bar's open, high, low and close at its end
      on_exit_signal   the exits the signal asks for, as in 1
 4. The kill switch: if the trade manager's sweep latched it, the account book takes it (so entries are
    refused); the manager asks to close every open trade at each sweep until an operator resets it.

An exit order placed at sweep instant S reaches the prints after S: with prints, the first print after the
sweep fills it (the print whose arrival ran the sweep, in step 1, since the order is placed before the
print reaches the broker); with bars, the bar that starts at or after S fills it at its open.

Choices, with the reason:

- The trade is opened in the trade manager at its first entry fill, not at submission (`EntrySubmitted` is
  not sent): the manager fixes a trade's stop and target when it first hears of it and refuses a first fill
  beyond them, which a market entry (or a limit entry on a gap) can make. At the first fill the trade's stop
  is the decision's stop, or, if the fill is at or through it, one tick beyond the fill price (the next sweep
  then closes it as a stop-loss if the price stays there); the target (TM-IProfit) is measured from the first
  fill's price. Until its first fill a working entry is Waiting (`trade_status`).
- The risk decision counts a working entry as an open trade (its quantity, the signal price, the decided
  stop) and a trade opened today, and a partly filled one's unfilled rest with its trade: an entry at the
  broker may still fill, so two intents in a row cannot both use the same risk room.
- The kill switch has two sources: a decision that finds the day's loss past RM-Max-sp% latches it in the
  book at once (entries refused); the trade manager's sweep latches its own and closes the trades, and the
  book takes that too. A decision's latch reaches the trade manager at its next sweep through the same loss
  figure (both measure equity - start-of-day equity, net of charges, at the last prints). A reset resets both.
- A trade closed while an entry order of it still works (a partly filled limit entry stopped out, or an add-on
  an operator's close or fewer units overtakes: desk_manual.py): what is left of that order is cancelled at the
  paper broker, so a closed trade is never reopened by a late fill.
- Intents are idempotent by client order id: an id seen before (accepted or rejected) returns [] and
  changes nothing, not even the sweeps.
- An intent the desk cannot trade is answered, never raised: an unknown strategy (account "(unassigned)"),
  an account the desk does not hold (`reject_unknown_account`), an order type the paper broker does not
  know, or an intent the risk package cannot read; each a rejected `RiskDecisionMade` with the reason.

Beside it: desk_risk.py (the risk side: decisions, the book prepared for them), desk_fills.py (a fill booked and
given to the trade manager, and what it finishes), desk_live.py (a live broker's
outbox and reports), desk_operator.py (an operator's changes: account settings, the kill switch tripped
or reset, the calendar amended), desk_manual.py (an operator's manual actions on a running trade, decided as
intents are), overnight.py (the overnight coverage check), desk_state.py (the snapshot).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from processors.calendar import NS
from processors.deals import DealRow
from processors.model import (Bar, FillExecuted, OrderIntentCreated, OrderStatusChanged,
                              OvernightCoverageChecked, RiskDecisionMade, TradeTick)
from processors.model import plain_decimal as canonical
from processors.paper import OrderFilled, OrderStatus, OrderType, PaperBroker, PaperEvent
from processors.risk import Action, RiskIntent, decide
from processors.risk.account import et_date
from processors.risk.event import decision_event
from processors.risk.running import OpenTradeIndex
from processors.trades import ExitCancelled, ExitRequested, TradeManager, TradeSelector, TradeStatus
from processors.trading.book import AccountBook
from processors.trading.config import DeskConfig
from processors.trading.desk_fills import FillsMixin
from processors.trading.desk_live import LiveOrdersMixin
from processors.trading.desk_manual import ManualActionsMixin
from processors.trading.desk_operator import OperatorMixin
from processors.trading.desk_risk import RiskSideMixin
from processors.trading.desk_state import SNAPSHOT_FORMAT, restore_into, snapshot_of
from processors.trading.errors import TradingDeskError, check_ts
from processors.trading.orders import BROKER, ENTRY, EXIT, BrokerEvent, DeskOrder, status_event
from processors.trading.overnight import overnight_checks

DeskEvent = RiskDecisionMade | OrderStatusChanged | FillExecuted | OvernightCoverageChecked
BUY = "BUY"
TERMINAL = frozenset({OrderStatus.SUCCESS, OrderStatus.FAILED, OrderStatus.CANCELLED})


class TradingDesk(LiveOrdersMixin, RiskSideMixin, OperatorMixin, ManualActionsMixin, FillsMixin):
    """The risk decision, the paper broker, the charges, the account books and the trade manager, joined."""

    def __init__(self, config: DeskConfig) -> None:
        if not isinstance(config, DeskConfig):
            raise TradingDeskError("config", f"must be a DeskConfig, got {type(config).__name__}")
        self.config = config
        self._books = {a: AccountBook(account, config.days, config.settlement_holidays)
                       for a, account in config.accounts.items()}
        self._broker = PaperBroker(config.fill_model)
        self._manager = TradeManager(config.trade_manager)
        self._orders: dict[str, DeskOrder] = {}
        self._working: dict[str, None] = {}       # entry orders at the broker that may still fill, in order placed
        self._seen: set[str] = set()
        # not in the snapshot, derived from the orders and _working (`_track_working`): per account, the entries
        # working with nothing filled as open-trade records, and those partly filled
        self._waiting: dict[str, OpenTradeIndex] = {}
        self._partly_filled: dict[str, dict[str, None]] = {}
        self._add_ons: dict[str, str] = {}        # trade id -> its add-on order still working (desk_manual.py)
        self._checked_day: dt.date | None = None   # the last trading day whose overnight check ran
        self._outbox: list[DeskOrder] = []          # orders for a live broker, not yet taken (`take_outbox`)
        self._broker_execs: set[str] = set()        # a live broker's execution ids applied (each applied once)

    # == inputs ====================================================================================
    def on_intent(self, intent: OrderIntentCreated, ts_init: int) -> list[DeskEvent]:
        """An entry intent of a strategy (module docstring, step 3)."""
        if not isinstance(intent, OrderIntentCreated):
            raise TradingDeskError("intent", f"must be an OrderIntentCreated, got {type(intent).__name__}")
        check_ts(ts_init, "ts_init")
        if intent.client_order_id in self._seen:
            return []
        self._seen.add(intent.client_order_id)
        intent = replace(intent, reference_price=canonical(intent.reference_price),
                         tick_size=canonical(intent.tick_size),
                         limit_price=canonical(intent.limit_price), stop_price=canonical(intent.stop_price))
        ts = intent.ts_event
        out = self._begin(ts, ts_init, inclusive=False)
        decision, settings = self._entry_decision(intent, ts)
        out.append(decision_event(decision, ts_init))
        if decision.accepted and settings is not None:
            order = DeskOrder(
                client_order_id=intent.client_order_id, role=ENTRY, account_id=settings.account_id,
                strategy=intent.strategy, trade_id=intent.client_order_id, symbol=intent.symbol, side=intent.side,
                order_type=intent.order_type, quantity=decision.quantity, tick_size=intent.tick_size,
                multiplier=intent.multiplier, placed_ns=ts, limit_price=intent.limit_price,
                stop_price=intent.stop_price, signal_price=intent.reference_price, decision_stop=decision.stop_price,
                intraday=settings.intraday, lot_size=settings.lot_size,
                signal_type=settings.signal_type or ("long" if intent.side == BUY else "short"),
                route=intent.exchange)
            self._working[order.client_order_id] = None
            self._track_working(order)
            out += self._place(order, ts, ts_init)
        self._sync_kill_switches(ts)
        return out

    def on_trade(self, tick: TradeTick) -> list[DeskEvent]:
        """A print: fills at the paper broker, then the price for the books and the trade manager."""
        if not isinstance(tick, TradeTick):
            raise TradingDeskError("tick", f"must be a TradeTick, got {type(tick).__name__}")
        price = canonical(tick.price)
        if price is not tick.price:
            tick = replace(tick, price=price)
        ts, ts_init = tick.ts_event, tick.ts_init
        out = self._begin(ts, ts_init, inclusive=False)
        out += self._paper(self._broker.on_trade_tick(tick), ts_init)
        for book in self._books.values():
            book.on_price(tick.symbol, tick.price, ts)
        out += self._exits(self._manager.on_price(tick.symbol, tick.price, ts), ts_init)
        self._sync_kill_switches(ts)
        return out

    def on_bar(self, bar: Bar) -> list[DeskEvent]:
        """A closed bar (bars-only mode), known at its end."""
        if not isinstance(bar, Bar):
            raise TradingDeskError("bar", f"must be a Bar, got {type(bar).__name__}")
        prices = (canonical(bar.open), canonical(bar.high), canonical(bar.low), canonical(bar.close))
        if prices[0] is not bar.open or prices[1] is not bar.high or prices[2] is not bar.low \
                or prices[3] is not bar.close:
            bar = replace(bar, open=prices[0], high=prices[1], low=prices[2], close=prices[3])
        ts, ts_init = bar.end, bar.ts_init
        out = self._begin(ts, ts_init, inclusive=False)
        out += self._paper(self._broker.on_bar(bar), ts_init)
        for book in self._books.values():
            book.on_price(bar.symbol, bar.close, ts)
        out += self._exits(self._manager.on_prices(bar.symbol, (bar.open, bar.high, bar.low, bar.close), ts), ts_init)
        self._sync_kill_switches(ts)
        return out

    def advance_to(self, ts_event: int) -> list[DeskEvent]:
        """The watermark: every input at or before `ts_event` has been given; the sweeps due until then run."""
        check_ts(ts_event, "advance_to.ts_event")
        out = self._begin(ts_event, ts_event, inclusive=True)
        self._sync_kill_switches(ts_event)
        return out

    def on_exit_signal(self, strategy: str, symbol: str, ts_event: int, detail: str = "") -> list[DeskEvent]:
        """An exit rule of `strategy` fired for `symbol`: its running trades there are closed (exit rule)."""
        check_ts(ts_event, "exit_signal.ts_event")
        out = self._begin(ts_event, ts_event, inclusive=False)
        requests = self._manager.on_exit_signal(TradeSelector(strategy=strategy, symbol=symbol), ts_event, detail)
        out += self._exits(requests, ts_event)
        self._sync_kill_switches(ts_event)
        return out

    # == reading ===================================================================================
    def book(self, account_id: str) -> AccountBook:
        return self._books[account_id]

    @property
    def trade_manager(self) -> TradeManager:
        return self._manager

    @property
    def broker(self) -> PaperBroker:
        return self._broker

    def order(self, client_order_id: str) -> DeskOrder | None:
        return self._orders.get(client_order_id)

    def trade_status(self, trade_id: str) -> TradeStatus | None:
        """Waiting (entry working, nothing filled), Running or Closed (the trade manager's), None if unknown."""
        if trade_id in self._working and self._orders[trade_id].filled == 0:
            return TradeStatus.WAITING
        try:
            return self._manager.trade(trade_id).status
        except ValueError:
            return None

    def deal_rows(self) -> list[DealRow]:
        """The deals report's rows (processors.deals), from the trade manager."""
        return self._manager.deal_rows()

    # == snapshot ==================================================================================
    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON-able data: books, broker, trade manager, orders, seen intent ids."""
        return snapshot_of(self)

    @classmethod
    def restore(cls, config: DeskConfig, data: dict[str, Any]) -> TradingDesk:
        """A desk in the state `snapshot()` gave, with the same `config`; fed what followed, it answers as the
        desk that wrote the snapshot."""
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise TradingDeskError("snapshot.format", f"must be {SNAPSHOT_FORMAT}")
        desk = cls(config)
        restore_into(desk, data)
        return desk

    # == steps =====================================================================================
    def _begin(self, ts: int, ts_init: int, *, inclusive: bool) -> list[DeskEvent]:
        """Steps 1 and 2: the sweeps due before `ts` (at or before it if `inclusive`), the day's overnight check
        if its instant has passed, then the day roll."""
        out = self._exits(self._manager.advance_to(ts if inclusive else ts - 1), ts_init)
        out += self._overnight_check(ts, ts_init, inclusive=inclusive)
        return out + self._roll(ts, ts_init)

    def _overnight_check(self, ts: int, ts_init: int, *, inclusive: bool) -> list[DeskEvent]:
        """Once per trading day, at `overnight_check_s` before its close (its first input after that instant
        runs it, on the books as they stood then): for every account holding positions, whether they would be
        covered overnight (processors.risk.margin.overnight_coverage); the uncovered ones are flagged."""
        day = et_date(ts)
        if self._checked_day is not None and day <= self._checked_day:
            return []
        session = self.config.trade_manager.calendar.day(day)
        if session is None:
            return []
        instant = session.close - self.config.overnight_check_s * NS
        if ts < instant or (ts == instant and not inclusive):
            return []
        self._checked_day = day
        return overnight_checks(self.config, day, instant, ts_init, self._prepare)

    def _roll(self, ts: int, ts_init: int) -> list[DeskEvent]:
        out: list[DeskEvent] = []
        for account_id, book in self._books.items():
            equity = book.roll_to(ts)
            if equity is not None:
                out += self._exits(self._manager.start_day(account_id, equity, ts), ts_init)
        return out

    def _exits(self, requests: list[ExitRequested], ts_init: int) -> list[DeskEvent]:
        out: list[DeskEvent] = []
        for request in requests:
            out += self._exit(request, ts_init)
        return out

    def _exit(self, request: ExitRequested, ts_init: int) -> list[DeskEvent]:
        ts = request.ts_event
        out = self._roll(ts, ts_init)
        entry = self._orders[request.trade_id]
        book = self._prepare(request.account_id, ts)
        price = request.trigger_price or book.last_price(request.symbol) or entry.signal_price
        intent = RiskIntent(intent_id=request.request_id, account_id=request.account_id, strategy=request.strategy,
                            symbol=request.symbol, side=request.side, action=Action.EXIT, signal_price=price,
                            tick_size=entry.tick_size, ts_event=ts, quantity=request.quantity,
                            multiplier=entry.multiplier, exit_reason=request.reason)
        decision = decide(intent, self.config.accounts[request.account_id], book.snapshot_at(ts), self.config.days,
                          ts)
        out.append(decision_event(decision, ts_init))
        if not decision.accepted:
            cancelled = ExitCancelled(trade_id=request.trade_id, request_id=request.request_id, ts_event=ts,
                                      reason="; ".join(decision.reasons))
            return out + self._exits(self._manager.on_exit_cancelled(cancelled), ts_init)
        order = DeskOrder(client_order_id=request.request_id, role=EXIT, account_id=request.account_id,
                          strategy=request.strategy, trade_id=request.trade_id, symbol=request.symbol,
                          side=request.side, order_type=OrderType.MARKET.value, quantity=decision.quantity,
                          tick_size=entry.tick_size, multiplier=entry.multiplier, placed_ns=ts,
                          requested=request.quantity, route=entry.route)
        return out + self._place(order, ts, ts_init)

    def _place(self, order: DeskOrder, ts: int, ts_init: int) -> list[DeskEvent]:
        self._orders[order.client_order_id] = order
        broker = self.config.accounts[order.account_id].broker
        if broker != BROKER:                    # a live broker: sent by the caller, its reports come back later
            order.broker = broker
            self._outbox.append(order)
            return []
        return self._paper(self._broker.place(order.paper_order(), ts), ts_init)

    def _paper(self, events: list[PaperEvent], ts_init: int, identity: BrokerEvent | None = None) -> list[DeskEvent]:
        out: list[DeskEvent] = []
        for event in events:
            order = self._orders[event.client_order_id]
            if isinstance(event, OrderFilled):
                out += self._filled(order, event, ts_init, identity)
            else:
                out.append(status_event(order, event, ts_init, identity))
            if event.status in TERMINAL:
                self._working.pop(order.client_order_id, None)
                self._track_working(order)
                out += self._release(order, event.ts_event, ts_init)
        return out

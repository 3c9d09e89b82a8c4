"""`TradeManager`: the trades after their entry, as a pure state machine driven by event time.

Every input is an event with its own event time `ts_event` (integer ns UTC); nothing reads a clock. Each
`on_*` method first runs the sweeps that are due before the event, then applies the event, and returns the
exit requests made (in order), so the same events in the same order give the same requests, live, in a
replay or in a backtest.

The sweep
    The sweeps run at the instants that are multiples of `sweep_interval_s` (5 s by default) since the Unix
    epoch, UTC: 14:30:00, 14:30:05, ... whatever the first event's time. The sweep at instant S sees the
    events with `ts_event <= S`: an event at S itself is applied before S's sweep, which runs when the first
    event after S arrives (or at `advance_to(S)`, the watermark: "no more events at or before S"). A price
    between two sweeps is acted upon at the next sweep instant, never at its own time. An event older than
    the last sweep is applied and acts from the next sweep.

    For each symbol the sweep sees the latest trade price and the lowest and highest since the previous
    sweep: a stop touched between two sweeps is hit even if the price came back (as a stop order resting at
    the broker would have been). A trade opened since the previous sweep sees only the prints after its
    open (none yet: it is not checked in this sweep). For a running trade, in this order:
      1. stop-loss (TM-Isp): the interval's low (a long) or high (a short) at or through the current stop;
      2. profit target (TM-IProfit): the high (long) or low (short) at or through the target; when both were
         crossed in one interval the order in which they happened is unknown and the stop wins (the
         conservative choice, as backtests do for a bar that spans both);
      3. risk reduction (RR-Trigger): each level reached, in order and once per trade, requests its Qty-Sell
         and moves the stop (settings.py); a moved stop at or through the latest price is hit at once;
      4. the kill switch: an account whose day's loss reached RM-Max-sp% latches its switch, and every open
         share of its trades is asked to close (KILL_SWITCH) at every sweep while it stays latched;
      5. the time close: from a strategy's or account's close instant of the ET trading day on (timeclose.py),
         its intraday trades (and positional ones if so configured) are closed (TIME_CLOSE).
    Exit signals (`on_exit_signal`, reason EXIT_RULE) are applied at their own event time, not at a sweep.

    An event is checked before the sweeps due before it run: a refused event (TradeError) changes nothing,
    and no request is lost. So an event that names a request (an exit fill, a cancel) must come after the
    call that returned that request, as it does in any real sequence of events.

Exit requests
    A request asks for the trade's open shares that no pending request covers: a trade is never asked twice
    for the same shares, whatever the reason. Request ids are "<trade id>:exit:<n>", n counting the trade's
    requests from 1, so a replay or a restored manager asks with the same ids. A request stays pending until
    its fills sum to it, the trade closes, or `on_exit_cancelled` frees what it did not fill (those shares
    may be asked for again at the next sweep; a risk-reduction level is not triggered again).

Progressive P&L and the kill switch
    The account's P&L is that of processors.pnl (exact Decimal, charges as given on each fill: compute them
    with processors.charges.charge_fill). The day's P&L is the account's total (realised + unrealised at the
    latest prices - charges) less its total when the day began (`start_day`, or zero). When the day's loss
    reaches `start_of_day_equity x max_drawdown_pct / 100` (processors.risk.limits.evaluate_drawdown's rule)
    at a sweep, the account's `processors.risk.KillSwitch` trips and latches; only `reset_kill_switch` with a
    reason resets it, and if the loss is still past the limit the next sweep trips it again.

Scale: the sweep visits only the symbols that had a price or a fill since the previous one, compares two
integers per trade (trade.py) and does Decimal work only for the trades whose prices crossed something. A
sweep with nothing new since the previous one changes nothing, so during a long gap only the time-close
instants are swept. The sweep is in sweep.py, the reading of trades and accounts in reading.py, the account
figures and the snapshot in manager_state.py, an operator's exit, stop and target by hand in manual.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from processors.calendar import NS, MarketCalendar, TradingDay
from processors.pnl import Fill
from processors.risk.intent import ExitReason
from processors.trades.errors import TradeError
from processors.trades.events import (EntryFilled, EntrySubmitted, ExitCancelled, ExitFilled,
                                      ExitRequested, TradeSelector, TradeStatus, TradeView)
from processors.trades.fields import decimal_field, int_field, text_field
from processors.risk.running import OpenTradeIndex
from processors.trades.settings import RiskReductionLevel, TimeClose, TradeManagerConfig
from processors.trades.manager_state import AccountFigures, restore_into, snapshot_of
from processors.trades.manual import ManualMixin
from processors.trades.reading import ReadingMixin
from processors.trades.sweep import Price, SweepMixin, in_order
from processors.trades.trade import TradeState, check_same_trade, issued_ids, open_trade, trim_pending

ZERO = Decimal(0)
CENT = Decimal("0.01")

Selector = TradeSelector | Callable[[TradeView], bool]


class TradeManager(SweepMixin, ReadingMixin, ManualMixin):
    """Opens trades from entry fills, sweeps them on event time and asks for their exits (module docstring)."""

    def __init__(self, config: TradeManagerConfig) -> None:
        if not isinstance(config, TradeManagerConfig):
            raise TradeError("config", f"must be a TradeManagerConfig, got {type(config).__name__}")
        self.config = config
        self._interval_ns = config.sweep_interval_s * NS
        rules: list[TimeClose] = [s.time_close for s in config.strategies.values() if s.time_close is not None]
        rules += [a.time_close for a in config.accounts.values() if a.time_close is not None]
        self._time_close_rules = tuple(dict.fromkeys(rules))
        self._trades: dict[str, TradeState] = {}
        self._by_symbol: dict[str, dict[str, TradeState]] = {}
        self._by_account: dict[str, dict[str, TradeState]] = {}
        self._by_strategy: dict[str, dict[str, TradeState]] = {}
        self._open: dict[str, OpenTradeIndex] = {}  # account -> its running trades as the risk decision counts them
        self._prices: dict[str, Price] = {}
        self._fill_marks: dict[str, Decimal] = {}
        self._accounts: dict[str, AccountFigures] = {
            account_id: AccountFigures(start_of_day_equity=settings.start_of_day_equity)
            for account_id, settings in config.accounts.items()}
        self._swept_ns: int | None = None
        self._dirty = False
        self._touched: set[str] = set()
        self._fresh: dict[str, list[TradeState]] = {}
        self._ordinal = 0
        self._memo: dict[int, Decimal] = {}     # the Decimal prices of one sweep's lows and highs
        self._units: dict[Decimal, int] = {}    # checked prices and their 1e-8 counts (`_price_units`)
        # (calendar, the ET date's first and last-plus-one ns, its trading day) of the last sweep's date
        self._looked_up_day: tuple[MarketCalendar, int, int, TradingDay | None] | None = None

    # == inputs ====================================================================================
    def on_entry_submitted(self, event: EntrySubmitted) -> list[ExitRequested]:
        """A trade waits for its entry fills (status Waiting)."""
        if not isinstance(event, EntrySubmitted):
            raise TradeError("entry", f"must be an EntrySubmitted, got {type(event).__name__}")
        if event.trade_id in self._trades:
            raise TradeError("entry.trade_id", f"trade {event.trade_id!r} is known already")
        requests = self._catch_up(event.ts_event, inclusive=False)
        self._new_trade(event)
        return requests

    def on_entry_fill(self, event: EntryFilled) -> list[ExitRequested]:
        """An entry fill: opens the trade (Running) or adds to it; the average entry price is exact (pnl.py)."""
        if not isinstance(event, EntryFilled):
            raise TradeError("entry", f"must be an EntryFilled, got {type(event).__name__}")
        trade = self._trades.get(event.trade_id)
        if trade is None or trade.status is TradeStatus.WAITING:
            problem = event.side_problem()
            if problem is not None:
                raise TradeError(problem[0], f"trade {event.trade_id!r}: {problem[1]}")
        if trade is not None:
            check_same_trade(trade, event)
        requests = self._catch_up(event.ts_event, inclusive=False)
        if trade is None:
            trade = self._new_trade(event)
        if trade.status is TradeStatus.WAITING:
            trade.opened_ns = event.ts_event
            trade.fresh = True
            self._fresh.setdefault(trade.symbol, []).append(trade)
        trade.add_entry(Fill(event.ts_event, event.quantity, event.price, event.charges))
        self._by_symbol.setdefault(trade.symbol, {})[trade.trade_id] = trade
        self._by_account.setdefault(trade.account_id, {})[trade.trade_id] = trade
        self._by_strategy.setdefault(trade.strategy, {})[trade.trade_id] = trade
        account = self._account(trade.account_id)
        account.exit_minus_entry -= trade.sign * event.quantity * event.price * trade.multiplier
        account.charges += event.charges
        account.net_open[trade.symbol] = (account.net_open.get(trade.symbol, 0)
                                          + trade.sign * event.quantity * trade.multiplier)
        self._fill_marks[trade.symbol] = event.price
        trade.refresh_thresholds(self._levels(trade))
        self._changed(trade)
        self._touch(trade.symbol)
        return requests

    def on_exit_fill(self, event: ExitFilled) -> list[ExitRequested]:
        """An exit fill reduces the trade's open quantity and closes it at zero, recording why (the request's
        reason, or the fill's own: MANUAL by default)."""
        if not isinstance(event, ExitFilled):
            raise TradeError("exit", f"must be an ExitFilled, got {type(event).__name__}")
        trade = self._known(event.trade_id, "exit.trade_id")
        if trade.status is not TradeStatus.RUNNING:
            raise TradeError("exit.trade_id", f"trade {trade.trade_id!r} is {trade.status.value}: nothing is open")
        if event.quantity > trade.open_quantity:
            raise TradeError("exit.quantity", f"{event.quantity} exceeds the {trade.open_quantity} open shares of "
                                              f"trade {trade.trade_id!r}")
        if event.request_id is not None:
            pending = trade.pending.get(event.request_id)
            if pending is None:
                raise TradeError("exit.request_id", f"{event.request_id!r} is not a pending exit request of trade "
                                                    f"{trade.trade_id!r}")
            if event.quantity > pending.quantity:
                raise TradeError("exit.quantity", f"{event.quantity} exceeds the {pending.quantity} shares still "
                                                  f"pending on request {event.request_id!r}")
            if event.reason is not None and event.reason is not pending.reason:
                raise TradeError("exit.reason", f"request {event.request_id!r} was made for {pending.reason.value}, "
                                                f"not {event.reason.value}")
            reason = pending.reason
        else:
            reason = event.reason or ExitReason.MANUAL
        requests = self._catch_up(event.ts_event, inclusive=False)
        if event.request_id is not None:
            pending = trade.pending[event.request_id]
            pending.quantity -= event.quantity
            if pending.quantity == 0:
                del trade.pending[event.request_id]
        before = trade.realised_pnl
        trade.add_exit(Fill(event.ts_event, event.quantity, event.price, event.charges), reason)
        trim_pending(trade)
        account = self._account(trade.account_id)
        account.exit_minus_entry += trade.sign * event.quantity * event.price * trade.multiplier
        account.charges += event.charges
        account.net_open[trade.symbol] -= trade.sign * event.quantity * trade.multiplier
        self._fill_marks[trade.symbol] = event.price
        account.realised += trade.realised_pnl - before
        if trade.status is TradeStatus.CLOSED:
            for index, key in ((self._by_symbol, trade.symbol), (self._by_account, trade.account_id),
                               (self._by_strategy, trade.strategy)):
                del index[key][trade.trade_id]
                if not index[key]:
                    del index[key]
        trade.refresh_thresholds(self._levels(trade))
        self._changed(trade)
        self._touch(trade.symbol)
        return requests

    def on_exit_cancelled(self, event: ExitCancelled) -> list[ExitRequested]:
        """An exit request will not fill further: the shares it did not fill may be asked for again."""
        if not isinstance(event, ExitCancelled):
            raise TradeError("exit_cancelled", f"must be an ExitCancelled, got {type(event).__name__}")
        trade = self._known(event.trade_id, "exit_cancelled.trade_id")
        if event.request_id not in trade.pending and event.request_id not in issued_ids(trade):
            raise TradeError("exit_cancelled.request_id", f"{event.request_id!r} was never requested for trade "
                                                          f"{trade.trade_id!r}")
        requests = self._catch_up(event.ts_event, inclusive=False)
        if trade.pending.pop(event.request_id, None) is not None:
            trade.refresh_thresholds(self._levels(trade))
            self._touch(trade.symbol)
        return requests

    def on_price(self, symbol: str, price: Decimal, ts_event: int) -> list[ExitRequested]:
        """A trade print of `symbol` at `price` (the sweeps compare against it from the next sweep instant)."""
        return self.on_prices(symbol, (price,), ts_event)

    def on_prices(self, symbol: str, prices: Iterable[Decimal], ts_event: int) -> list[ExitRequested]:
        """Prints of `symbol` at one instant, in order (a bar's open, high, low and close at its end): the same as
        `on_price` for each, checked and caught up once."""
        text_field(symbol, "price.symbol")
        checked = [self._price_units(price) for price in prices]
        int_field(ts_event, "price.ts_event")
        requests = self._catch_up(ts_event, inclusive=False)
        traded = symbol in self._by_symbol
        fresh = self._fresh.get(symbol, ())
        for price, units in checked:
            current = self._prices.get(symbol)
            if current is None or not traded:
                self._prices[symbol] = Price(price, units, units, units)
            else:
                current.last, current.last_e8 = price, units
                current.low_e8 = min(current.low_e8, units)
                current.high_e8 = max(current.high_e8, units)
            for trade in fresh:
                trade.fresh_low_e8 = units if trade.fresh_low_e8 is None else min(trade.fresh_low_e8, units)
                trade.fresh_high_e8 = units if trade.fresh_high_e8 is None else max(trade.fresh_high_e8, units)
        if traded and checked:
            self._touch(symbol)
        return requests

    def on_exit_signal(self, selector: Selector, ts_event: int, detail: str = "") -> list[ExitRequested]:
        """An exit rule fired (evaluated by the caller): close the selected running trades (EXIT_RULE) at
        `ts_event`. `selector` is a TradeSelector, or a predicate over a TradeView (keep it pure, so a replay
        selects the same trades)."""
        if not isinstance(selector, TradeSelector) and not callable(selector):
            raise TradeError("selector", f"must be a TradeSelector or a callable, got {selector!r}")
        int_field(ts_event, "exit_signal.ts_event")
        requests = self._catch_up(ts_event, inclusive=False)
        made: list[tuple[int, int, ExitRequested]] = []
        for trade in self._selected(selector):
            if trade.available > 0:
                self._request(trade, trade.available, ExitReason.EXIT_RULE, self._latest(trade.symbol), ts_event,
                              detail or "an exit rule fired", made)
        return requests + in_order(made)

    def start_day(self, account_id: str, start_of_day_equity: Decimal, ts_event: int) -> list[ExitRequested]:
        """A new trading day for the account: its day P&L counts from now, measured on `start_of_day_equity`.
        The kill switch is not reset by it."""
        text_field(account_id, "start_day.account_id")
        equity = decimal_field(start_of_day_equity, "start_day.start_of_day_equity", above=0)
        int_field(ts_event, "start_day.ts_event")
        requests = self._catch_up(ts_event, inclusive=False)
        account = self._account(account_id)
        account.start_of_day_equity = equity
        account.baseline = self._total_pnl(account)
        self._dirty = True
        return requests

    def reset_kill_switch(self, account_id: str, reason: str, ts_event: int) -> list[ExitRequested]:
        """An operator resets the account's latched kill switch, with a reason (RiskConfigError without one,
        or when it is not tripped). Exit requests already made stay pending."""
        int_field(ts_event, "reset.ts_event")
        account = self._accounts.get(account_id)
        if account is None:
            raise TradeError("reset.account_id", f"account {account_id!r} is not known")
        account.kill_switch.reset(reason, ts_event)          # raises, changing nothing, if it cannot be reset
        requests = self._catch_up(ts_event, inclusive=False)
        account.kill_switch = account.kill_switch.reset(reason, ts_event)
        self._dirty = True
        return requests

    def trip_kill_switch(self, account_id: str, reason: str, ts_event: int) -> list[ExitRequested]:
        """An operator trips the account's kill switch by hand, with a reason: it latches as a loss would have
        latched it, and the next sweep asks to close every open trade of the account."""
        int_field(ts_event, "trip.ts_event")
        text_field(reason, "trip.reason")
        requests = self._catch_up(ts_event, inclusive=False)
        account = self._account(account_id)
        if not account.kill_switch.tripped:
            account.kill_switch = account.kill_switch.trip(f"tripped by hand: {reason.strip()}", ts_event)
        self._dirty = True
        return requests

    def advance_to(self, ts_event: int) -> list[ExitRequested]:
        """The watermark: every event at or before `ts_event` has been given; run the sweeps due until then."""
        int_field(ts_event, "advance_to.ts_event")
        return self._catch_up(ts_event, inclusive=True)

    # == snapshot ==================================================================================
    def snapshot(self) -> dict[str, Any]:
        """The whole state as plain JSON-able data (str, int, bool, None, lists, dicts); Decimals as strings."""
        return snapshot_of(self)

    @classmethod
    def restore(cls, config: TradeManagerConfig, data: dict[str, Any]) -> TradeManager:
        """A manager in the state `snapshot()` gave, with `config` (the same config the snapshot was made with)."""
        manager = cls(config)
        restore_into(manager, data)
        return manager

    # == helpers ===================================================================================
    def _new_trade(self, event: EntrySubmitted | EntryFilled) -> TradeState:
        self._ordinal += 1
        trade = TradeState(
            trade_id=event.trade_id, ordinal=self._ordinal, account_id=event.account_id, strategy=event.strategy,
            symbol=event.symbol, direction=event.direction, intraday=event.intraday, lot_size=event.lot_size,
            signal_type=event.signal_type, initial_stop=event.stop_price, stop=event.stop_price,
            target=event.target_price, opened_ns=event.ts_event, multiplier=event.multiplier)
        self._trades[trade.trade_id] = trade
        self._account(trade.account_id)
        return trade

    def _changed(self, trade: TradeState) -> None:
        """Keep the account's open-trade records (`open_trades`) current after the trade's fills, quantity or stop
        changed: every change of those goes through here."""
        index = self._open.get(trade.account_id)
        if index is None:
            index = self._open[trade.account_id] = OpenTradeIndex()
        if trade.status is TradeStatus.RUNNING:
            index.put(open_trade(trade))
        else:
            index.discard(trade.trade_id)

    def _account(self, account_id: str) -> AccountFigures:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = AccountFigures()
        return account

    def _known(self, trade_id: object, name: str) -> TradeState:
        trade = self._trades.get(trade_id) if isinstance(trade_id, str) else None
        if trade is None:
            raise TradeError(name, f"trade {trade_id!r} is not known")
        return trade

    def _levels(self, trade: TradeState) -> tuple[RiskReductionLevel, ...]:
        return self.config.strategy(trade.strategy).risk_reduction

    def _touch(self, symbol: str) -> None:
        self._touched.add(symbol)
        self._dirty = True

    def _latest(self, symbol: str) -> Decimal | None:
        price = self._prices.get(symbol)
        return None if price is None else price.last

    def _mark(self, symbol: str) -> Decimal:
        price = self._prices.get(symbol)
        return self._fill_marks[symbol] if price is None else price.last

    def _total_pnl(self, account: AccountFigures) -> Decimal:
        total = account.exit_minus_entry - account.charges
        for symbol, quantity in account.net_open.items():
            if quantity:
                total += quantity * self._mark(symbol)
        return total

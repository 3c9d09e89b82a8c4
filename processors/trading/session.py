"""One account's strategies and its trading desk, stepped by market data in one fixed order: the path the
backtest, the live runner and the audit replay share, so they take the same decisions, orders, fills and
trades from the same data.

    session = TradingSession(pipelines, desk)        # pipelines: {strategy name: StrategyPipeline}
    step = session.on_trade(tick, ts_init)           # Step(decisions, desk events, trade events)
    step = session.on_bar(bar, ts_init)              # bars-only history (warm-up, or a backtest over bars)
    session.on_settings_change(change)               # a new version of the universal settings, when it was made
    step = session.on_broker_events(events, ts_init) # a live broker's reports of the orders the desk placed
    step = session.on_trade_action(action, ts_init)  # an operator's manual action on a running trade

For one print:
 1. every strategy takes it, in name order (`StrategyPipeline.on_trade`): its signals, suppressed signals
    and order intents of the evaluation instants the print passed (all before the print's time);
 2. the desk takes their signals in time order (then strategy, then id): an entry signal's order intent
    `on_intent` (risk decision, entry order), an exit signal (a rule of the strategy said close)
    `on_exit_signal` for its symbol;
 3. the desk takes the print (`on_trade`): fills of the working orders, the trade manager's sweeps;
 4. the trades those desk events changed become `TradeUpdated` events (trade_events.py).
A market entry decided at an instant is thus filled by the first print after it, live as in a backtest.

Without a desk (a strategy with no `risk:` section) only step 1 runs. `ts_init` stamps the desk's events
(when they were built): the wall clock live, the event time in a backtest; it is metadata, never compared.

With `settings` (a `processors.settings.CalendarInForce` whose calendar the pipelines and the desk were built
with), a SettingsChanged event amends that calendar for the days it governs, and the desk's business days
follow: the caller gives it at the instant the change was made (its `ts_init`), live and in a replay alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from processors.model import AccountChanged, Bar, FillExecuted, OrderIntentCreated, OrderStatusChanged, \
    OvernightCoverageChecked, RiskDecisionMade, SettingsChanged, SignalGenerated, TradeActionRequested, TradeTick, \
    TradeUpdated
from processors.risk.account_file import read_account
from processors.settings import CalendarInForce
from processors.strategies.pipeline import Decisions, StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.errors import TradingDeskError
from processors.trading.orders import BrokerEvent
from processors.trading.trade_events import TradeFeed

TradingEvent = RiskDecisionMade | OrderStatusChanged | FillExecuted | TradeUpdated | OvernightCoverageChecked


@dataclass(slots=True)
class Step:
    decisions: Decisions = field(default_factory=Decisions)
    trading: list[TradingEvent] = field(default_factory=list)
    refused: str | None = None
    """Why the desk did not take the print (a price that is not positive, a negative size): the strategies'
    sanity checks refuse it too, and the bars stage dead-letters the record."""

    def extend(self, other: Step) -> None:
        self.decisions.extend(other.decisions)
        self.trading += other.trading


class TradingSession:
    def __init__(self, pipelines: Mapping[str, StrategyPipeline], desk: TradingDesk | None = None,
                 trades: TradeFeed | None = None, settings: CalendarInForce | None = None) -> None:
        self.pipelines = dict(sorted(pipelines.items()))
        self.desk = desk
        self.trades = trades or TradeFeed()
        self.settings = settings

    def on_settings_change(self, change: SettingsChanged) -> None:
        """A new version of the universal settings: the shared calendar amended from the first date it governs.
        SettingsError (nothing changed) when it cannot follow the versions so far; TradingDeskError when this
        session was built without the calendar in force."""
        if self.settings is None:
            raise TradingDeskError("settings", "this session was built without a CalendarInForce")
        self.settings.apply(change)
        for pipeline in self.pipelines.values():
            pipeline.on_calendar_amended()
        if self.desk is not None:
            self.desk.on_calendar_amended()

    def on_trade(self, tick: TradeTick, ts_init: int) -> Step:
        decisions = Decisions()
        for pipeline in self.pipelines.values():
            decisions.extend(pipeline.on_trade(tick))
        step = Step(decisions)
        if self.desk is not None:
            self._signals(decisions, ts_init, step)
            if not tick.price > 0 or tick.size < 0:
                step.refused = f"{tick.symbol} print at {tick.ts_event}: price {tick.price}, size {tick.size}"
            else:
                self._desk(self.desk.on_trade(tick), ts_init, step)
        return step

    def on_bar(self, bar: Bar, ts_init: int) -> Step:
        decisions = Decisions()
        for pipeline in self.pipelines.values():
            decisions.extend(pipeline.on_bar(bar))
        step = Step(decisions)
        if self.desk is not None:
            self._signals(decisions, ts_init, step)
            self._desk(self.desk.on_bar(bar), ts_init, step)
        return step

    def on_decisions(self, decisions: Decisions, ts_init: int) -> Step:
        """Decisions made elsewhere (the vectorised backtest) given to the desk as step 2 does."""
        step = Step()
        if self.desk is not None:
            self._signals(decisions, ts_init, step)
        return step

    def on_market_bar(self, bar: Bar, ts_init: int) -> Step:
        """A bar for the desk only (the strategies already took it: the vectorised backtest)."""
        step = Step()
        if self.desk is not None:
            self._desk(self.desk.on_bar(bar), ts_init, step)
        return step

    def on_broker_events(self, events: list[BrokerEvent], ts_init: int) -> Step:
        """A live broker's reports of the desk's orders (`TradingDesk.on_broker_events`) and the trades they
        changed."""
        step = Step()
        if self.desk is None:
            raise TradingDeskError("broker_event", "no desk here placed orders")
        self._desk(self.desk.on_broker_events(events, ts_init), ts_init, step)
        return step

    def on_account_change(self, change: AccountChanged, ts_init: int) -> Step:
        """An operator's change of the desk's account at its event time: new settings, or the kill switch
        reset. A change the desk cannot apply (settings that do not validate, a reset of a switch that is not
        tripped, another account) raises a TradestreamError naming why: the caller dead-letters it."""
        step = Step()
        if self.desk is None:
            raise TradingDeskError("account", f"no desk here trades account {change.account_id!r}")
        if change.kind == "KILL_SWITCH_RESET":
            events = self.desk.reset_kill_switch(change.account_id, change.reason, change.ts_event)
        elif change.kind == "KILL_SWITCH_TRIPPED":
            events = self.desk.trip_kill_switch(change.account_id, change.reason, change.ts_event)
        elif change.kind == "SETTINGS_CHANGED":
            try:
                data = json.loads(change.settings)
            except ValueError as exc:
                raise TradingDeskError("settings", f"is not JSON: {exc}") from None
            account = read_account(data)
            if account.account_id != change.account_id:
                raise TradingDeskError("settings.account_id", f"is {account.account_id!r}, the event is for "
                                                              f"{change.account_id!r}")
            events = self.desk.change_account(account, change.ts_event)
        else:
            raise TradingDeskError("kind", f"must be SETTINGS_CHANGED, KILL_SWITCH_TRIPPED or KILL_SWITCH_RESET, "
                                           f"got {change.kind!r}")
        self._desk(events, ts_init, step)
        return step

    def on_trade_action(self, action: TradeActionRequested, ts_init: int) -> Step:
        """An operator's manual action on a running trade of the desk's account at its event time
        (`TradingDesk.on_trade_action`): its risk decision, the exit order of a close, and the trade's change."""
        step = Step()
        if self.desk is None:
            raise TradingDeskError("action", f"no desk here trades account {action.account_id!r}")
        events = self.desk.on_trade_action(action, ts_init)
        moved = action.action in ("MOVE_STOP", "MOVE_TARGET") and any(
            isinstance(e, RiskDecisionMade) and e.intent_id == action.action_id and e.outcome != "REJECT"
            for e in events)
        if events:
            step.trading += events
            step.trading += self.trades.changes(self.desk.trade_manager, events, ts_init,
                                                {action.trade_id: action.ts_event} if moved else None)
        return step

    def finish(self) -> Step:
        decisions = Decisions()
        for pipeline in self.pipelines.values():
            decisions.extend(pipeline.finish())
        return Step(decisions)

    def _signals(self, decisions: Decisions, ts_init: int, step: Step) -> None:
        assert self.desk is not None
        intents: dict[str, OrderIntentCreated] = {intent.signal_id: intent for intent in decisions.intents}
        for signal in sorted(decisions.signals, key=signal_order):
            if signal.action == "EXIT":
                events = self.desk.on_exit_signal(signal.strategy, signal.symbol, signal.ts_event, signal.reason)
            else:
                intent = intents.get(signal.signal_id)
                if intent is None:  # no order could be built: the suppressed signal says why
                    continue
                events = self.desk.on_intent(intent, ts_init)
            self._desk(events, ts_init, step)

    def _desk(self, events: list, ts_init: int, step: Step) -> None:
        if not events:
            return
        assert self.desk is not None
        step.trading += events
        step.trading += self.trades.changes(self.desk.trade_manager, events, ts_init)


def signal_order(signal: SignalGenerated) -> tuple[int, str, int, str]:
    """Signals of one step in time order; at one instant by strategy, an exit before an entry, then by id."""
    return signal.ts_event, signal.strategy, 0 if signal.action == "EXIT" else 1, signal.signal_id

"""One strategy's whole decision path, in-process: trades -> bars -> indicators -> rules -> signals
-> order intents. The live runner, the backtest and the audit replay all drive this object, so
they take the same decisions on the same trades (tests prove it).

The strategy computes its own bars and indicators for its symbols and timeframe with the same
processors as the bars and indicators stages (`BarAggregator`, `IndicatorSet`), instead of merging
the bars and indicators topics with the trades topic: the order in which a bar becomes known
relative to the trades around it is then fixed by the data, not by stage latencies. A trade is
given to the engine first (an evaluation instant it passes sees only what was known before it),
then the bars it closed and their indicator snapshots.

Without trades (a backtest over bars), `on_bar` takes finer bars: they set the price at their end,
are resampled into the strategy's timeframe when it closes, and feed the indicators. A strategy bar
whose last finer bar is missing is closed late, when the symbol's next bar (of another bucket) has
already set the price: it joins the bar history and the indicators, but leaves the newer price as
it is (`MarketState`).

Daily (`1d`) strategies: a daily bar is one regular session, [09:30, close) ET with the close at
16:00 or 13:00 on early-close days, whatever `extended_hours` says; prints and finer bars outside
the regular session set the price but join no daily bar. A daily bar that lacks its last finer bar
is closed by the symbol's next bar before that bar reaches the engine (the session is over), not
late as intraday bars are. The strategy is evaluated once per session, at its close,
on everything up to the close (`processors.strategies.clock.SessionCloseClock`); from trades, the
daily bars of every symbol are closed (the bars' watermark moved to the trade's time) before the
first trade after a close lets the engine evaluate it.

`finish()` ends the data: the open bars are closed into the state, and no instant is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from processors.bars import BarAggregator, Timeframe
from processors.calendar import MarketCalendar, Session, parse_sessions
from processors.indicators import IndicatorParams, IndicatorSet
from processors.instruments.options import OptionChain
from processors.model import Bar, OrderIntentCreated, SignalGenerated, SignalSuppressed, TradeTick
from processors.orders.intents import IntentError, build_intent
from processors.strategies.clock import strategy_clock
from processors.strategies.engine import StrategyEngine
from processors.strategies.market import MarketState, et_date

Decision = SignalGenerated | SignalSuppressed | OrderIntentCreated


@dataclass(slots=True)
class Decisions:
    signals: list[SignalGenerated] = field(default_factory=list)
    suppressed: list[SignalSuppressed] = field(default_factory=list)
    intents: list[OrderIntentCreated] = field(default_factory=list)

    def extend(self, other: Decisions) -> None:
        self.signals += other.signals
        self.suppressed += other.suppressed
        self.intents += other.intents

    def __len__(self) -> int:
        return len(self.signals) + len(self.suppressed) + len(self.intents)


class StrategyPipeline:
    def __init__(self, config: Any, calendar: MarketCalendar, limiter: Any, in_schedule: Callable[[int], bool],
                 lateness_ns: int = 0, params: IndicatorParams = IndicatorParams(),
                 option_chain: Callable[[str], OptionChain | None] = lambda symbol: None) -> None:
        self.config = config
        self.calendar = calendar
        self.timeframe = config.timeframe
        self.tf_ns = Timeframe.parse(config.timeframe).length_ns  # None: daily, one bar per regular session
        self.daily = self.tf_ns is None
        sessions = parse_sessions("extended" if config.extended_hours and not self.daily else "regular")
        self.aggregator = BarAggregator(config.timeframe, sessions, calendar, lateness_ns)
        self.params = params
        self.indicators = {symbol: IndicatorSet(symbol, config.timeframe, params) for symbol in config.symbols}
        self.market = MarketState(is_regular=lambda ts: calendar.session_at(ts) is Session.REGULAR)
        self.engine = StrategyEngine(config, limiter, in_schedule, self.market,
                                     strategy_clock(config, calendar, lateness_ns))
        self.option_chain = option_chain
        self.symbols = frozenset(config.symbols)
        self._symbol_list = sorted(self.symbols)
        self._resampler: dict[str, list[Bar]] = {}
        self.rejected = 0
        self.holidays = calendar.holidays()  # option expiries and futures rolls skip them

    def on_calendar_amended(self) -> None:
        """The calendar was amended in place for days ahead (`processors.settings.CalendarInForce`): the holidays
        and, for the daily timeframe, the session closes evaluated follow it (past closes keep their slots)."""
        self.holidays = self.calendar.holidays()
        if self.daily:
            self.engine.clock = strategy_clock(self.config, self.calendar, self.engine.clock.lateness_ns)

    # -- trades (live, replay, backtest with ticks) -------------------------------------------------
    def on_trade(self, tick: TradeTick) -> Decisions:
        if tick.symbol not in self.symbols:
            return Decisions()
        decisions = Decisions()
        if self.daily:  # the daily bars that end before this trade join the state before a close is evaluated
            self.aggregator.advance(tick.ts_event, tick.ts_init, self._symbol_list)
            decisions.extend(self._drain())
        decisions.extend(self._decide(self.engine.on_event(tick)))
        self.aggregator.handle_tick(tick)
        decisions.extend(self._drain())
        return decisions

    def _drain(self) -> Decisions:
        """The bars the aggregator closed, through the engine and the indicators; rejections counted."""
        bars, rejected = self.aggregator.drain()
        self.rejected += len(rejected)
        decisions = Decisions()
        for bar in bars:
            decisions.extend(self._closed_bar(bar))
        return decisions

    def run_trades(self, ticks: Iterable[TradeTick]) -> Decisions:
        decisions = Decisions()
        for tick in ticks:
            decisions.extend(self.on_trade(tick))
        return decisions

    # -- bars (backtest over bars) ------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> Decisions:
        """A bar of the strategy's timeframe, or a finer one (which also sets the price at its end)."""
        if bar.symbol not in self.symbols:
            return Decisions()
        if bar.timeframe == self.timeframe:
            return self._closed_bar(bar)
        pending = self._resampler.setdefault(bar.symbol, [])
        bucket = self._bucket(bar)
        decisions = Decisions()
        if pending and self.daily and self._bucket(pending[0]) != bucket:
            # the session is over, so its daily bar is complete: it joins the state before this bar can
            # let the engine evaluate the session's close
            decisions.extend(self._closed_bar(self._merge(pending)))
            pending.clear()
        decisions.extend(self._decide(self.engine.on_event(bar)))
        if pending and self._bucket(pending[0]) != bucket:
            decisions.extend(self._closed_bar(self._merge(pending)))
            pending.clear()
        if bucket is None:  # outside the regular session: in no daily bar
            return decisions
        pending.append(bar)
        if bar.end == bucket[1]:
            decisions.extend(self._closed_bar(self._merge(pending)))
            pending.clear()
        return decisions

    def _bucket(self, bar: Bar) -> tuple[int, int] | None:
        """[start, end) of the strategy bar containing `bar`: aligned to its session's open, cut at its
        close; for a daily strategy, its regular session (None outside one)."""
        session, window_start, window_end, _ = self.calendar.locate(bar.start)
        if self.tf_ns is None:
            return (window_start, window_end) if session is Session.REGULAR else None
        if window_end == 0:
            window_start, window_end = bar.start // self.tf_ns * self.tf_ns, 2 ** 62
        start = window_start + (bar.start - window_start) // self.tf_ns * self.tf_ns
        return start, min(start + self.tf_ns, window_end)

    def _merge(self, bars: list[Bar]) -> Bar:
        bucket = self._bucket(bars[0])
        assert bucket is not None  # only bars with a bucket are pending
        start, end = bucket
        volume = sum(b.volume for b in bars)
        notional = sum(b.vwap * b.volume for b in bars)
        first, last = bars[0], bars[-1]
        session = "regular" if self.daily else first.session
        return Bar(first.symbol, self.timeframe, session, start, end, first.open, max(b.high for b in bars),
                   min(b.low for b in bars), last.close, volume, (notional / volume) if volume else last.close,
                   sum(b.trades for b in bars), last.ts_init)

    # -- shared ------------------------------------------------------------------------------------
    def _closed_bar(self, bar: Bar) -> Decisions:
        decisions = self._decide(self.engine.on_event(bar))
        snapshot = self.indicators[bar.symbol].handle_bar(bar)
        if snapshot is not None:
            decisions.extend(self._decide(self.engine.on_event(snapshot)))
        return decisions

    def _decide(self, outputs: list[SignalGenerated | SignalSuppressed]) -> Decisions:
        decisions = Decisions()
        for output in outputs:
            if isinstance(output, SignalSuppressed):
                decisions.suppressed.append(output)
                continue
            decisions.signals.append(output)
            try:
                decisions.intents.append(build_intent(output, self.config, et_date(output.ts_event),
                                                      self.option_chain, self.holidays))
            except (IntentError, ValueError) as exc:
                decisions.suppressed.append(SignalSuppressed(
                    signal_id=output.signal_id, strategy=output.strategy, symbol=output.symbol, side=output.side,
                    ts_event=output.ts_event, ts_init=output.ts_init, price=output.price, rule=output.reason,
                    suppression=f"no order intent: {exc}", rule_values=output.rule_values, action=output.action))
        return decisions

    def finish(self) -> Decisions:
        """End of data (backtest): close the open bars (the aggregator's, the resampler's pending ones)
        into the market state and the indicators, so the final state is complete. No instant is
        evaluated, so the decisions returned are always empty: the end of data is not an event, and an
        instant is evaluated only when data at or after it arrives. (Fed to the engine as events, the
        bars closed here, which end after the data, would evaluate one more instant when the last
        strategy bar lacks its last finer bar, and none when it is complete.) Call it once, at the end."""
        self.aggregator.flush()
        bars, _ = self.aggregator.drain()
        for bar in bars:
            self._closed_bar_unevaluated(bar)
        for pending in self._resampler.values():
            if pending:
                self._closed_bar_unevaluated(self._merge(pending))
                pending.clear()
        return Decisions()

    def _closed_bar_unevaluated(self, bar: Bar) -> None:
        self.market.on_bar(bar)
        snapshot = self.indicators[bar.symbol].handle_bar(bar)
        if snapshot is not None:
            self.market.on_snapshot(snapshot)

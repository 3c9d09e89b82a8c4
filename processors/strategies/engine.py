"""Runs one scanner/strategy over a time-ordered stream of market events and emits its signals.

The same object serves the live stage, the backtest and the audit replay: it is fed events in
event-time order (`event_order_key` defines the order: a bar or indicator snapshot counts at its
bar's end, before trades at that same instant) and never reads a clock.

Evaluation instants come from the strategy's clock (`processors.strategies.clock`). On intraday
timeframes they are the multiples of the scanner's interval (epoch-aligned, so 5-minute instants
fall on :00, :05 … ET), and an instant E is evaluated when the first event at or after E arrives,
on the state built from the events before E. On the 1d timeframe they are the regular-session
closes, and the close E is evaluated when the first event after E arrives, on the state built from
the events up to and including E (the daily bar ending at E among them). Instants with no event in
between would see the same state and are not evaluated again. An instant outside the scanner's days
and hours is skipped.

Positions: the strategy is flat, long or short in its signal symbol (the primary, or the first
symbol of a rules scanner). Flat: the buy condition fires an ENTRY BUY (direction long or both),
the sell condition an ENTRY SELL (short or both). Long: an exit rule or the sell condition fires an
EXIT SELL; short: an exit rule or the buy condition fires an EXIT BUY.
- Correlation strategy: buy = price(P) > swing_high(P, TF) and price(C) < swing_low(C, TF);
  sell = price(P) < swing_low(P, TF) and price(C) > swing_high(C, TF); custom entry rules are
  ANDed to both.
- Rules strategy: the entry rules ANDed are the entry condition, for the configured direction
  ("both" enters long: one rule set cannot say which side to take).
The conditions are compiled once, with the configuration (`ScannerConfig.rules`, built by
`processors.scanner.config.rules`); the engine only evaluates them.
Entries are withheld (SignalSuppressed, with the figures) when a price the rule reads is staler
than `max_staleness_seconds`, when the signal symbol's price deviates from its reference (previous
close or settlement) by more than `max_deviation_pct`, or when the per-day/per-symbol signal limits
are used up. Exits are only withheld for stale data: a limit never traps a position.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from processors.indicators.indicator_set import IndicatorSnapshot
from processors.model import Bar, SignalGenerated, SignalSuppressed, TradeTick
from processors.rules import Rule, RuleEvaluator, RuleResult
from processors.scanner import ScannerConfig
from processors.strategies.clock import EvaluationClock, IntervalClock
from processors.strategies.market import MarketState

NS = 1_000_000_000
FLAT, LONG, SHORT = "flat", "long", "short"
MarketEvent = TradeTick | Bar | IndicatorSnapshot


def event_time(event: MarketEvent) -> int:
    return event.ts_event if isinstance(event, TradeTick) else event.end


def event_order_key(event: MarketEvent) -> tuple[int, int, str]:
    """Total order of events: time, then bars, snapshots, trades at the same instant, then symbol."""
    if isinstance(event, TradeTick):
        return (event.ts_event, 2, event.symbol)
    return (event.end, 0 if isinstance(event, Bar) else 1, event.symbol)


def signal_id(strategy: str, symbol: str, side: str, action: str, ts_event: int) -> str:
    digest = hashlib.sha256(f"{strategy}|{symbol}|{side}|{action}|{ts_event}".encode()).hexdigest()
    return f"sig-{digest[:24]}"


@dataclass(frozen=True, slots=True)
class Condition:
    """A named, compiled condition the engine evaluates at every instant."""

    rule: Rule
    evaluator: RuleEvaluator

    @classmethod
    def of(cls, rule: Rule | None) -> Condition | None:
        """The condition of a compiled rule, with an evaluator of its own (None for None)."""
        return None if rule is None else cls(rule, RuleEvaluator(rule))


class StrategyEngine:
    """`config.rules` holds the conditions, compiled when the configuration was validated: the engine
    gives each its own evaluator and never compiles a rule."""

    def __init__(self, config: ScannerConfig, limiter: Any, in_schedule: Callable[[int], bool],
                 market: MarketState | None = None, clock: EvaluationClock | None = None) -> None:
        self.config = config
        self.name = config.name
        self.limiter = limiter
        self.in_schedule = in_schedule
        self.market = market or MarketState()
        self.clock = clock or IntervalClock(int(config.interval.total_seconds() * NS))
        self.symbol = config.primary or config.symbols[0]
        self.buy = Condition.of(config.rules.buy)
        self.sell = Condition.of(config.rules.sell)
        self.exits = [Condition(rule, RuleEvaluator(rule)) for rule in config.rules.exit]
        self.position = FLAT
        self._next_slot: int | None = None
        self._last_ts_init = 0

    # -- feeding -----------------------------------------------------------------------------------
    def on_event(self, event: MarketEvent) -> list[SignalGenerated | SignalSuppressed]:
        """Evaluate the instant(s) this event's time passes, then apply the event."""
        slot = self.clock.slot(event_time(event))
        out: list[SignalGenerated | SignalSuppressed] = []
        if self._next_slot is None:
            self._next_slot = slot + 1
        elif slot >= self._next_slot:
            next_due = self.clock.instant(self._next_slot)
            instant = next_due if self._scheduled(next_due) else self.clock.instant(slot)
            if self._scheduled(instant):
                out = self.evaluate(instant)
            self._next_slot = slot + 1
        if isinstance(event, TradeTick):
            self.market.on_trade(event)
        elif isinstance(event, Bar):
            self.market.on_bar(event)
        else:
            self.market.on_snapshot(event)
        self._last_ts_init = max(self._last_ts_init, event.ts_init)
        return out

    def run(self, events: Iterable[MarketEvent]) -> list[SignalGenerated | SignalSuppressed]:
        out: list[SignalGenerated | SignalSuppressed] = []
        for event in events:
            out.extend(self.on_event(event))
        return out

    def _scheduled(self, instant: int) -> bool:
        return self.in_schedule(self.clock.scheduled_at(instant))

    # -- evaluating --------------------------------------------------------------------------------
    def _evaluate(self, condition: Condition | None) -> RuleResult | None:
        if condition is None:
            return None
        rule = condition.rule
        values = {req: self.market.value(req[0], req[1], req[2], rule.period(req)) for req in rule.requirements}
        return condition.evaluator.evaluate(values)

    def evaluate(self, instant: int) -> list[SignalGenerated | SignalSuppressed]:
        # Every condition is evaluated at every instant, so crossings see each instant.
        buy, sell = self._evaluate(self.buy), self._evaluate(self.sell)
        exits = [(c, self._evaluate(c)) for c in self.exits]
        direction = self.config.direction
        if self.position == FLAT:
            if buy is not None and buy.fired and direction in ("long", "both"):
                return [self._emit("BUY", "ENTRY", self.buy, buy, instant)]
            if sell is not None and sell.fired and direction in ("short", "both"):
                return [self._emit("SELL", "ENTRY", self.sell, sell, instant)]
            return []
        closing = "SELL" if self.position == LONG else "BUY"
        opposite = (self.sell, sell) if self.position == LONG else (self.buy, buy)
        for condition, result in [*exits, opposite]:
            if condition is not None and result is not None and result.fired:
                return [self._emit(closing, "EXIT", condition, result, instant)]
        return []

    def _emit(self, side: str, action: str, condition: Condition, result: RuleResult,
              instant: int) -> SignalGenerated | SignalSuppressed:
        price = self.market.price(self.symbol)
        identifier = signal_id(self.name, self.symbol, side, action, instant)
        values = {k: v for k, v in result.values.items() if v is not None}
        suppression = self._suppression(condition.rule, price, instant, action)
        if suppression is None and action == "ENTRY":
            allowed, why = self.limiter.allow(self.symbol, instant)
            suppression = None if allowed else why
        if suppression is not None or price is None:
            return SignalSuppressed(signal_id=identifier, strategy=self.name, symbol=self.symbol, side=side,
                                    ts_event=instant, ts_init=self._last_ts_init, price=price,
                                    rule=condition.rule.text, suppression=suppression or "no price yet",
                                    rule_values=values, action=action)
        if action == "ENTRY":
            self.position = LONG if side == "BUY" else SHORT
        else:
            self.position = FLAT
        return SignalGenerated(signal_id=identifier, strategy=self.name, symbol=self.symbol, side=side,
                               ts_event=instant, ts_init=self._last_ts_init, price=price,
                               reason=condition.rule.text, rule_values=values, action=action)

    def _suppression(self, rule: Rule, price: Decimal | None, instant: int, action: str) -> str | None:
        return sanity_suppression(self.config.sanity, rule, price, self.market.reference(self.symbol), instant,
                                  action, self.market.last_update_ns)


def sanity_suppression(sanity: Any, rule: Rule, price: Decimal | None, reference: Decimal | None,
                       instant: int, action: str, updated_at: Callable[[str], int | None]) -> str | None:
    """Why a signal at `instant` is suppressed by the sanity checks (`sanity`: the scanner's settings), or
    None: a price the rule reads older than the staleness limit (`updated_at`: symbol -> last update ns),
    or an entry price deviating from the reference (previous close or settlement) beyond the limit."""
    max_age = int(sanity.max_staleness_seconds) * NS
    for kind, symbol, _ in sorted(rule.requirements):
        if kind != "price":
            continue
        updated = updated_at(symbol)
        if updated is not None and instant - updated > max_age:
            return (f"data stale: last {symbol} price is {(instant - updated) / NS:.0f} s old "
                    f"(limit {sanity.max_staleness_seconds} s)")
    if action != "ENTRY" or price is None:
        return None
    if reference is None or reference == 0:
        return None
    deviation = abs(price - reference) / reference * 100
    if deviation > Decimal(sanity.max_deviation_pct):
        return (f"last trade {price} deviates {deviation:.2f}% from the reference {reference} "
                f"(limit {sanity.max_deviation_pct}%)")
    return None

"""The sequential part of the vectorised backtest: the rules evaluated over the whole series, then a
Python loop over only the instants where a rule that can act in the current position fired."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np

from processors.instruments.options import OptionChain
from processors.model import SignalGenerated, SignalSuppressed
from processors.orders.intents import IntentError, build_intent
from processors.rules import Rule, SeriesResult, evaluate_series
from processors.strategies.engine import FLAT, LONG, SHORT, Condition, StrategyEngine, sanity_suppression, signal_id
from processors.strategies.market import et_date
from processors.strategies.pipeline import Decisions
from processors.strategies.vectorized.columns import Columns


def evaluate_condition(condition: Condition, columns: Columns, size: int) -> SeriesResult:
    rule: Rule = condition.rule
    values = {req: columns.get(req[0], req[1], req[2], rule.period(req)) for req in rule.requirements}
    return evaluate_series(rule, values, length=size)


class Decider:
    """`StrategyEngine.evaluate` and `_emit`, and `StrategyPipeline._decide`, over the evaluated
    instants where a rule that can act in the current position fired."""

    def __init__(self, config: Any, engine: StrategyEngine, limiter: Any, columns: Columns,
                 results: dict[int, SeriesResult], option_chain: Callable[[str], OptionChain | None],
                 decisions: Decisions, holidays: frozenset = frozenset()) -> None:
        self.config = config
        self.engine = engine
        self.limiter = limiter
        self.stream = columns.stream
        self.evaluations = columns.evaluations
        self.results = results
        self.option_chain = option_chain
        self.holidays = holidays
        self.decisions = decisions
        self.columns = columns
        self.price = self.columns.prices(engine.symbol)
        self.position = FLAT

    def fired(self, condition: Condition | None) -> np.ndarray:
        if condition is None:
            return np.zeros(self.evaluations.size, dtype=bool)
        return self.results[id(condition)].fired

    def run(self) -> None:
        engine, direction = self.engine, self.config.direction
        buy, sell = self.fired(engine.buy), self.fired(engine.sell)
        exits = np.zeros(self.evaluations.size, dtype=bool)
        for condition in engine.exits:
            exits |= self.fired(condition)
        # the instants where something can happen, per position
        entries = np.zeros(self.evaluations.size, dtype=bool)
        if direction in ("long", "both"):
            entries |= buy
        if direction in ("short", "both"):
            entries |= sell
        wanted = {FLAT: np.flatnonzero(entries), LONG: np.flatnonzero(exits | sell),
                  SHORT: np.flatnonzero(exits | buy)}
        index = -1
        while True:
            candidates = wanted[self.position]
            at = int(np.searchsorted(candidates, index, side="right"))
            if at == len(candidates):
                return
            index = int(candidates[at])
            self.evaluate(index)

    def evaluate(self, index: int) -> None:
        engine, direction = self.engine, self.config.direction
        if self.position == FLAT:
            if engine.buy is not None and self.fired(engine.buy)[index] and direction in ("long", "both"):
                self.emit("BUY", "ENTRY", engine.buy, index)
            elif engine.sell is not None and self.fired(engine.sell)[index] and direction in ("short", "both"):
                self.emit("SELL", "ENTRY", engine.sell, index)
            return
        closing = "SELL" if self.position == LONG else "BUY"
        opposite = engine.sell if self.position == LONG else engine.buy
        for condition in [*engine.exits, opposite]:
            if condition is not None and self.fired(condition)[index]:
                self.emit(closing, "EXIT", condition, index)
                return

    def _price_at(self, index: int) -> tuple[Decimal | None, int | None, Decimal | None]:
        """The signal symbol's price, its time and its reference price, as known at evaluation `index`."""
        if self.price is None:
            return None, None, None
        last = int(self.price.series.asof[index])
        if last < 0:
            return None, None, None
        table = self.stream.table
        reference_row = int(self.price.reference_row[last])
        reference = None if reference_row < 0 else table.close_decimal(reference_row)
        return table.close_decimal(int(self.price.close_row[last])), int(self.price.updated[last]), reference

    def _updated_at(self, symbol: str, index: int) -> int | None:
        series = self.columns.prices(symbol)
        if series is None:
            return None
        last = int(series.series.asof[index])
        return None if last < 0 else int(series.updated[last])

    def emit(self, side: str, action: str, condition: Condition, index: int) -> None:
        engine, config = self.engine, self.config
        instant = int(self.evaluations.instant[index])
        ts_init = int(self.evaluations.ts_init[index])
        price, _, reference = self._price_at(index)
        identifier = signal_id(engine.name, engine.symbol, side, action, instant)
        values = {k: v for k, v in self.results[id(condition)].values_at(index).items() if v is not None}
        suppression = self._suppression(condition.rule, price, reference, instant, index, action)
        if suppression is None and action == "ENTRY":
            allowed, why = self.limiter.allow(engine.symbol, instant)
            suppression = None if allowed else why
        if suppression is not None or price is None:
            self.decisions.suppressed.append(SignalSuppressed(
                signal_id=identifier, strategy=engine.name, symbol=engine.symbol, side=side, ts_event=instant,
                ts_init=ts_init, price=price, rule=condition.rule.text, suppression=suppression or "no price yet",
                rule_values=values, action=action))
            return
        self.position = (LONG if side == "BUY" else SHORT) if action == "ENTRY" else FLAT
        signal = SignalGenerated(signal_id=identifier, strategy=engine.name, symbol=engine.symbol, side=side,
                                 ts_event=instant, ts_init=ts_init, price=price, reason=condition.rule.text,
                                 rule_values=values, action=action)
        self.decisions.signals.append(signal)
        try:
            self.decisions.intents.append(build_intent(signal, config, et_date(instant), self.option_chain,
                                                       self.holidays))
        except (IntentError, ValueError) as exc:
            self.decisions.suppressed.append(SignalSuppressed(
                signal_id=signal.signal_id, strategy=signal.strategy, symbol=signal.symbol, side=signal.side,
                ts_event=signal.ts_event, ts_init=signal.ts_init, price=signal.price, rule=signal.reason,
                suppression=f"no order intent: {exc}", rule_values=signal.rule_values, action=signal.action))

    def _suppression(self, rule: Rule, price: Decimal | None, reference: Decimal | None, instant: int, index: int,
                     action: str) -> str | None:
        return sanity_suppression(self.config.sanity, rule, price, reference, instant, action,
                                  lambda symbol: self._updated_at(symbol, index))

"""A strategy following its changes: each change's effect checked against an independent run, a pipeline of the
configuration in force built at the start and allowed to decide only from the change on (what a runner started
with that history computes), fed the same prints."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from processors.calendar import build_nyse_calendar
from processors.model import StrategyChanged
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.strategies.history import StrategyHistory
from processors.strategies.in_force import RecentPrints, StrategyInForce
from processors.strategies.pipeline import Decisions, StrategyPipeline

ROOT = Path(__file__).resolve().parents[3]
CALENDAR = build_nyse_calendar(dt.date(2026, 11, 9), dt.date(2026, 11, 25))


def config(**changes: object) -> ScannerConfig:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    return ScannerConfig.from_mapping(data | {"name": "correlation", "max_signals_per_day": 50, "max_signals_per_symbol": 50} | changes)


def build(config: ScannerConfig, gate) -> StrategyPipeline:  # noqa: ANN001
    return StrategyPipeline(config, CALENDAR, SignalLimiter.from_config(config),
                            lambda ts: gate(ts) and in_schedule(config, ts))


def change(kind: str, ts: int, version: int = 0, body: ScannerConfig | None = None) -> StrategyChanged:
    return StrategyChanged(strategy="correlation", kind=kind, ts_event=ts, ts_init=ts, operator="ana",
                           version=version, config="" if body is None else json.dumps(body.to_mapping()))


def followed(ticks: list, given: ScannerConfig | None, changes: list[StrategyChanged], capacity: int = 10**6
             ) -> tuple[Decisions, Decisions]:
    """The decisions of a StrategyInForce given `changes` at their instants: (from prints before the first change,
    from prints at or after the last)."""
    history = StrategyHistory({"correlation": given} if given else {})
    recent = RecentPrints(capacity)
    strategy = StrategyInForce("correlation", history, build, recent)
    before, after, pending = Decisions(), Decisions(), list(changes)
    for tick in ticks:
        while pending and pending[0].ts_event <= tick.ts_event:
            strategy.on_change(history.apply(pending.pop(0)))
        (after if not pending else before if len(pending) == len(changes) else Decisions()).extend(
            strategy.on_trade(tick))
        recent.add(tick)
    return before, after


def independent(ticks: list, config: ScannerConfig, since: int | None, until: int | None) -> Decisions:
    """A pipeline built at the start deciding only about instants from `since`, its decisions from the prints in
    [since, until)."""
    pipeline = build(config, lambda instant: since is None or instant >= since)
    out = Decisions()
    for tick in ticks:
        decisions = pipeline.on_trade(tick)
        if (since is None or tick.ts_event >= since) and (until is None or tick.ts_event < until):
            out.extend(decisions)
    return out


def instants(ticks: list, hours: int) -> int:
    """An instant `hours` after the first print."""
    return ticks[0].ts_event + hours * 3_600 * 10**9 + 7


def test_disabled_it_decides_nothing_and_enabled_it_decides_as_a_strategy_started_then(ticks: list) -> None:
    off, on = instants(ticks, 26), instants(ticks, 49)       # the 17th, then the 18th
    before, after = followed(ticks, config(), [change("DISABLED", off), change("ENABLED", on)])
    assert before == independent(ticks, config(), None, off) and len(before.signals) >= 2
    assert after == independent(ticks, config(), on, None) and len(after.signals) >= 2
    assert all(s.ts_event >= on for s in after.signals)


def test_a_replacement_decides_from_its_instant_as_its_configuration_started_then(ticks: list) -> None:
    made = instants(ticks, 26)
    replaced = config(direction="short")
    before, after = followed(ticks, config(), [change("REPLACED", made, 2, replaced)])
    assert before == independent(ticks, config(), None, made)
    assert after == independent(ticks, replaced, made, None) and after.signals
    assert {s.side for s in after.signals if s.action == "ENTRY"} == {"SELL"}
    assert after != independent(ticks, config(), made, None), "the replacement changes the decisions"


def test_a_creation_starts_it_and_a_deletion_stops_it(ticks: list) -> None:
    made, gone = instants(ticks, 26), instants(ticks, 49)
    before, _ = followed(ticks, None, [change("CREATED", made, 1, config())])
    assert len(before) == 0
    _, created = followed(ticks, None, [change("CREATED", made, 1, config())])
    assert created == independent(ticks, config(), made, None) and created.signals
    _, deleted = followed(ticks, config(), [change("DELETED", gone)])
    assert len(deleted) == 0


def test_a_configuration_refused_here_does_not_run(ticks: list) -> None:
    history = StrategyHistory({"correlation": config()})
    strategy = StrategyInForce("correlation", history, build, RecentPrints(), accepts=lambda c: c.direction == "long")
    assert strategy.on_change(history.apply(change("REPLACED", 1, 2, config(direction="short")))).startswith("stopped")
    assert strategy.pipeline is None
    assert sum(len(strategy.on_trade(t)) for t in ticks) == 0
    assert strategy.on_change(history.apply(change("ENABLED", 2))) == "not run here"


def test_the_kept_prints_are_the_newest() -> None:
    recent = RecentPrints(2)
    for tick in ("a", "b", "c"):
        recent.add(tick)  # type: ignore[arg-type]
    assert list(recent) == ["b", "c"] and recent.dropped == 1
    with pytest.raises(ValueError, match="capacity"):
        RecentPrints(-1)

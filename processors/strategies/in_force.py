"""One strategy as a trading session steps it, its configuration following the operators' changes
(`processors.strategies.history`) at the instants they were made.

    recent = RecentPrints()                                      # the prints evaluated so far (bounded)
    strategy = StrategyInForce("breakout", history, build, recent)   # build(config, gate) -> StrategyPipeline
    session = TradingSession({"breakout": strategy}, desk)       # it steps like a StrategyPipeline
    version = history.apply(change); strategy.on_change(version)     # at the change's instant, in event order
    recent.add(tick)                                             # after each print is evaluated

What each change does, from its instant on:
    DISABLED, DELETED   the strategy makes no decision about an instant at or after the change, nor about an earlier
                        instant not yet evaluated; its open trades stay with the desk's trade manager (stops,
                        targets, time exits still act). A disabled strategy keeps taking the prints (its bars and
                        indicators stay current); a deleted one is dropped.
    ENABLED             it evaluates again from the first instant at or after the change, flat (as a strategy
                        starts); its signal counts of the day are kept.
    CREATED, REPLACED   the new configuration starts as the runner starts a strategy: a new pipeline rebuilt from
                        the prints the runner has evaluated (`RecentPrints`, the same prints in the same order as
                        a start at the runner's start time would read), so its bars and indicators are warm at the
                        change; it evaluates from the first instant at or after the change, flat, with the day's
                        signal counts carried over when its limits allow them.
A decision is thus never about an instant before the change that allowed it, whatever print prompts it.

The gate: every pipeline is built with `gate` ANDed into its schedule (`StrategyEngine` skips an instant its
schedule refuses: no decision, no position change), so nothing here reaches into the engine's evaluation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator

from processors.model import Bar, TradeTick
from processors.scanner import ScannerConfig
from processors.strategies.engine import FLAT
from processors.strategies.history import StrategyHistory, StrategyVersion
from processors.strategies.pipeline import Decisions, StrategyPipeline

NEVER = -(2 ** 63)
WARMUP_PRINTS = 2_000_000
"""How many of the latest prints a runner keeps to warm a strategy that starts mid-run (about 300 MB; the
correlation example evaluates them at some 15 µs each, 30 s once at a change): indicators whose look-back reaches
further back than that are warmed on what is kept."""

Build = Callable[[ScannerConfig, Callable[[int], bool]], StrategyPipeline]
"""Makes a strategy's pipeline for a configuration, given the gate to AND into its schedule."""


class RecentPrints:
    """The latest prints evaluated, oldest first, at most `capacity`: the warm-up of a strategy that starts."""

    def __init__(self, capacity: int = WARMUP_PRINTS) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must not be negative, got {capacity}")
        self._prints: deque[TradeTick] = deque(maxlen=capacity)
        self.dropped = 0
        """Prints no longer kept: a warm-up then starts after the oldest kept."""

    def add(self, tick: TradeTick) -> None:
        if self._prints.maxlen is not None and len(self._prints) == self._prints.maxlen:
            self.dropped += 1
        self._prints.append(tick)

    def __iter__(self) -> Iterator[TradeTick]:
        return iter(self._prints)

    def __len__(self) -> int:
        return len(self._prints)


class StrategyInForce:
    """Steps like a `StrategyPipeline` (on_trade, on_bar, finish, on_calendar_amended); the pipeline of the
    configuration in force, gated by whether the strategy runs. `accepts` says whether a configuration may run
    here (a runner trading an account runs only strategies that trade in it); one it refuses does not run."""

    def __init__(self, name: str, history: StrategyHistory, build: Build, recent: RecentPrints,
                 accepts: Callable[[ScannerConfig], bool] = lambda config: True) -> None:
        self.name = name
        self.history = history
        self.build = build
        self.recent = recent
        self.accepts = accepts
        self.since = NEVER
        """The first instant the pipeline in force may decide about."""
        self.running = False
        self.pipeline: StrategyPipeline | None = None
        latest = history.latest(name)
        if latest is not None and latest.config is not None and accepts(latest.config):
            self.pipeline = build(latest.config, self.allows)
            self.running = latest.enabled
            self.since = latest.effective_ns

    def allows(self, instant: int) -> bool:
        """The gate: True when the strategy runs and `instant` is not before the change that let it run."""
        return self.running and instant >= self.since

    @property
    def config(self) -> ScannerConfig | None:
        return None if self.pipeline is None else self.pipeline.config

    def on_change(self, version: StrategyVersion) -> str:
        """Follow the strategy's new version (just applied to the history); what it did, for the log."""
        if version.config is None:
            self.pipeline, self.running = None, False
            return "stopped (deleted)"
        if version.kind in ("CREATED", "REPLACED"):
            return self._start(version)
        if self.pipeline is None:
            return "not run here"
        if not version.enabled:
            self.running = False
            return "stopped (disabled)"
        if self.running:
            return "runs already"
        self.pipeline.engine.position = FLAT
        self.running, self.since = True, version.effective_ns
        return "started (enabled)"

    def _start(self, version: StrategyVersion) -> str:
        assert version.config is not None
        if not self.accepts(version.config):
            self.pipeline, self.running = None, False
            return "stopped (its configuration does not run here)"
        before = self.pipeline
        self.running = False            # the warm-up decides nothing
        pipeline = self.build(version.config, self.allows)
        for tick in self.recent:
            pipeline.on_trade(tick)
        if before is not None:
            try:
                pipeline.engine.limiter.load_state(before.engine.limiter.to_state())
            except ValueError:          # counts the new limits do not allow: the day's counts start again
                pass
        self.pipeline, self.running, self.since = pipeline, True, version.effective_ns
        return f"started (version {version.config_version}, warmed on {len(self.recent)} prints)"

    # -- stepping, as a StrategyPipeline -----------------------------------------------------------------
    def on_trade(self, tick: TradeTick) -> Decisions:
        return Decisions() if self.pipeline is None else self.pipeline.on_trade(tick)

    def on_bar(self, bar: Bar) -> Decisions:
        return Decisions() if self.pipeline is None else self.pipeline.on_bar(bar)

    def finish(self) -> Decisions:
        return Decisions() if self.pipeline is None else self.pipeline.finish()

    def on_calendar_amended(self) -> None:
        if self.pipeline is not None:
            self.pipeline.on_calendar_amended()

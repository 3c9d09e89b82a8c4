"""`tradestream audit replay`: the chain re-run on the recorded input of a range and compared, output by
output, with what its topics recorded over that range.

    replay = AuditReplay(kafka, codec, start_ns, end_ns, configs, accounts, bars=..., event_time=...)
    outcome = replay.run()            # outcome.stages: one processors.audit.StageComparison per output topic

- bars: the recorded prints through the bars stage's processor (`streams.audit_bars`), against the bars topic,
  matched by (symbol, timeframe, start); indicators: those bars through the indicators stage's calculators,
  against the indicators topic, matched the same way;
- signals, suppressed signals, order intents, and with an account its risk decisions, order events, fills,
  trade updates and overnight checks: `streams.strategy_runner.StrategyRunner` with no publisher (one per
  account given, with that account's strategies, and one for the strategies trading in none), which reads the
  settings and accounts topics so that each instant has the versions then in force, against the decision and
  trading topics, matched by `decision_id`.

A replay has no broker connector and no producer: the runners are built with `publisher=None` and no live
broker (a live account's broker events are read from its record, `streams.live_account`); nothing here
writes to Kafka. Its consumers are assigned partitions and never commit.

The record is read from a `streams.audit_record.RecordSource`: the topics (`KafkaRecords`, the default) or the
compliance archive (`streams.audit_archive.ArchiveRecords`, which opens no Kafka connection: the runners read it
through a stand-in for their consumer). Both give each topic's records from the same first record on, so the
replays of one range from either reproduce the same outputs, as far as the archive holds the range: when a partition
read is archived only to an instant before the range's end (the archiver's last pass got there), the outputs that
settle from that instant on are left out of the comparison on both sides, and `AuditOutcome.source_stops` names
every such partition. An output settled just before that instant but recorded after it (within the live chain's
latency) is missing from the archive, and shows as a difference.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings
from processors.archive.reading import PartitionReach
from processors.audit.compare import StageComparison, bar_key, compare_stage
from processors.event_time import EventTimeBounds
from processors.risk import Account
from processors.scanner import ScannerConfig
from schemas.errors import ConfigError
from streams.audit_bars import replay_bars, replay_indicators
from streams.audit_record import KafkaRecords, Recorded, RecordSource, read_recorded
from streams.settings import BarsStageSettings
from streams.strategy_resume import OUTPUT_TOPICS, TRADING_TOPICS, decision_id
from streams.strategy_runner import StrategyRunner

MS = 1_000_000
STAGES = ("bars", "indicators", *OUTPUT_TOPICS, *TRADING_TOPICS.values())
"""The stages compared, in the chain's order; each named after the topic its outputs are recorded on."""


@dataclass(slots=True)
class AuditOutcome:
    stages: list[StageComparison] = field(default_factory=list)
    input_records: int = 0     # prints read by the bars stage's replay
    prints: int = 0            # prints in them
    undecodable_inputs: int = 0  # input records that do not decode (the stages dead-letter them, as live)
    trades_evaluated: int = 0  # prints the strategy runners evaluated (each runner counts its own)
    replay_s: float = 0.0      # wall time of the re-run and the comparison
    bars_s: float = 0.0        # ... of which the bars and indicators stages' replay and comparison
    strategies_s: float = 0.0  # ... and the strategy runners'
    source_stops: list[PartitionReach] = field(default_factory=list)
    """The partitions read whose record the source (the archive) does not hold up to the range's end."""
    compared_to_ns: int = 0
    """The outputs compared are those settled before this instant: the range's end, or the earliest instant a
    partition of `source_stops` is held to (an output settles at its event time; a bar, or its indicators,
    no earlier than its end plus the stage's lateness)."""

    @property
    def differences(self) -> int:
        return sum(len(s.differences) for s in self.stages)


def runner_groups(configs: list[ScannerConfig], accounts: list[Account]
                  ) -> list[tuple[list[ScannerConfig], Account | None]]:
    """The strategies each runner replays: an account's with that account (those whose `risk:` section names
    it), and the others together with no account. ConfigError for two strategies of one name, two accounts of
    one id, or an account none of the strategies trades in."""
    names = [c.name for c in configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"two strategies named {sorted({n for n in names if names.count(n) > 1})}: each --config "
                          "must be a different strategy")
    ids = [a.account_id for a in accounts]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"two account files for {sorted({i for i in ids if ids.count(i) > 1})}")
    groups: list[tuple[list[ScannerConfig], Account | None]] = []
    for account in accounts:
        mine = [c for c in configs if c.risk is not None and c.risk.account == account.account_id]
        if not mine:
            raise ConfigError(f"account {account.account_id!r}: none of the strategies given trades in it (their "
                              "risk: sections name " + (", ".join(sorted({c.risk.account for c in configs if c.risk}))
                                                        or "no account") + ")")
        groups.append((mine, account))
    taken = {c.name for group, _ in groups for c in group}
    rest = [c for c in configs if c.name not in taken]
    if rest:
        groups.append((rest, None))
    return groups


class AuditReplay:
    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, start_ns: int, end_ns: int,
                 configs: list[ScannerConfig], accounts: list[Account], bars: BarsStageSettings,
                 event_time: EventTimeBounds, lateness_ms: int = 0,
                 clock: Callable[[], float] = time.perf_counter, source: RecordSource | None = None) -> None:
        if end_ns <= start_ns:
            raise ConfigError("the range is empty: --to must be after --from")
        self.kafka, self.codec = kafka, codec
        self.start_ns, self.end_ns = start_ns, end_ns
        self.bars, self.event_time = bars, event_time
        self.clock = clock
        self.source = source if source is not None else KafkaRecords(kafka)
        self.strategies = {c.name for c in configs}
        self.accounts = {a.account_id for a in accounts}
        self.runners = [StrategyRunner(kafka, codec, group, start_ns, end_ns=end_ns, publisher=None,
                                       lateness_ms=lateness_ms, event_time=event_time,
                                       inputs=self.source.runner_inputs,
                                       **({"account": account} if account is not None else {}))
                        for group, account in runner_groups(configs, accounts)]
        """The strategy runners, without publisher or broker (a test asserts it)."""

    def run(self) -> AuditOutcome:
        began = self.clock()
        outcome = AuditOutcome(compared_to_ns=self.end_ns)
        bars = replay_bars(self.source, self.kafka.topic, self.codec, self.bars, self.event_time, self.start_ns,
                           self.end_ns)
        outcome.input_records, outcome.prints = bars.records, bars.prints
        outcome.undecodable_inputs = bars.undecodable
        # Each stage: (name, recorded, replayed, key, when it settles); compared once everything is read, up to
        # where the source holds the record.
        stages: list[tuple[str, Recorded, list, Callable[[Any], object], Callable[[Any], int]]] = []
        lateness_ns = self.bars.lateness_ns

        def settled(bar: Any) -> int:   # a bar (and its indicators) closes no earlier
            return bar.end + lateness_ns

        recorded = read_recorded(self.source, self.codec, self.kafka.topic("bars"), self.start_ns, self.end_ns,
                                 keep=lambda _: True, when=lambda bar: bar.start)
        in_range = [bar for bar in bars.bars if bar.start >= self.start_ns]
        stages.append(("bars", recorded, in_range, bar_key, settled))
        # The indicators take every bar the replay made (a bar just before the range is their warm-up).
        recorded = read_recorded(self.source, self.codec, self.kafka.topic("indicators"), self.start_ns, self.end_ns,
                                 keep=lambda _: True, when=lambda snapshot: snapshot.start)
        snapshots = [s for s in replay_indicators(bars.bars) if s.start >= self.start_ns]
        stages.append(("indicators", recorded, snapshots, bar_key, settled))
        outcome.bars_s = self.clock() - began
        replayed: dict[str, list] = {name: [] for name in STAGES[2:]}
        runners_began = self.clock()
        for runner in self.runners:
            report = runner.run(threading.Event(), until_caught_up=True)
            outcome.trades_evaluated += report.trades
            replayed["signals"] += runner.decisions.signals
            replayed["signals.suppressed"] += runner.decisions.suppressed
            replayed["orders.intents"] += runner.decisions.intents
            for event in runner.trading:
                replayed[TRADING_TOPICS[type(event).__name__]].append(event)
        outcome.strategies_s = self.clock() - runners_began
        for name in OUTPUT_TOPICS:
            recorded = read_recorded(self.source, self.codec, self.kafka.topic(name), self.start_ns, self.end_ns,
                                     keep=lambda e: e.strategy in self.strategies)
            stages.append((name, recorded, replayed[name], decision_id, _ts_event))
        for name in TRADING_TOPICS.values():
            recorded = read_recorded(self.source, self.codec, self.kafka.topic(name), self.start_ns, self.end_ns,
                                     keep=lambda e: e.account_id in self.accounts)
            stages.append((name, recorded, replayed[name], decision_id, _ts_event))
        outcome.source_stops = self.source.stops_before(self.end_ns)
        if outcome.source_stops:
            outcome.compared_to_ns = min(reach.archived_to_ms for reach in outcome.source_stops) * MS
        cut = outcome.compared_to_ns
        for name, recorded, ours, key, when in stages:
            if cut < self.end_ns:
                recorded.events = [e for e in recorded.events if when(e) < cut]
                ours = [e for e in ours if when(e) < cut]
            outcome.stages.append(compare_stage(name, recorded.events, ours, key, recorded.unreadable))
        outcome.replay_s = self.clock() - began
        return outcome


def _ts_event(event: Any) -> int:
    return event.ts_event

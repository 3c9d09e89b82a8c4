"""`FaultSuite`: one platform run, a phase of ground-truth prints per fault, and the bookkeeping of the
table (see `test_faults.py` for what each column means).

A phase: the fault is injected (an `Injection` publishes the phase's first half of prints while the
fault is on and returns when the fault has ended); the second half is published; the suite then
waits, up to a deadline, until the platform has caught up; finally it notes which unexpected rows
PostgreSQL shows for the first time. Losses are counted once, at the end (a row that arrives late is
slow, not lost).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import psycopg
from confluent_kafka.schema_registry import SchemaRegistryClient

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import read_tail
from connectors.kafka.publisher import EventPublisher
from processors.model import TradeTick
from tradestream.config import Settings

from .fault_records import ExpectedLetters, Location, dead_letters_at, stray_dead_letters
from .fault_report import Outcome, duplicates_by_phase
from .fault_truth import GroundTruth, Phase, TickKey, read_stored
from .platform_run import PlatformRun

POLL_S = 0.5


@dataclass(slots=True)
class Injected:
    """What an injection hands back: when its fault ended, and what else "caught up" requires."""

    ended: float                                      # time.monotonic() when the fault ended
    check: Callable[[], bool] = lambda: True          # the fault's own condition (a restart, a report)
    letters: ExpectedLetters | None = None            # dead letters its bad record must become
    tolerated: frozenset[TickKey] = frozenset()       # stored prints that are neither expected nor extra
    detail: str = ""


Injection = Callable[["FaultSuite", Sequence[TradeTick]], Injected]


def until(condition: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `condition` until true (True) or `timeout_s` passed (False): a deadline that does not fail
    the test, so the table can say "not recovered" and go on with the next fault."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(POLL_S)
    return True


@dataclass
class FaultSuite:
    """The run under test, the suite's own publisher, and the rows of the table so far."""

    settings: Settings
    platform: PlatformRun
    truth: GroundTruth
    strategy_stage: str
    recovery_timeout_s: float
    outcomes: list[Outcome] = field(default_factory=list)
    phase_starts_ms: list[int] = field(default_factory=list)
    bad_records: list[Location] = field(default_factory=list)
    tolerated: frozenset[TickKey] = frozenset()
    _extras_seen: set[tuple] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.kafka = self.settings.kafka(self.platform.prefix)
        self.codec = AvroCodec(self.kafka.registry_config())
        self.registry = SchemaRegistryClient(self.kafka.registry_config())
        self.publisher = EventPublisher(self.kafka, self.codec, client_id=f"faults-{self.platform.prefix}")
        self.feed = KafkaFeedSink(self.publisher)
        self.trades_topic = self.kafka.topic("ticks.trades")

    # -- publishing ---------------------------------------------------------------------------------------
    def publish(self, ticks: Sequence[TradeTick], flush: bool = True) -> None:
        """Publish prints; with `flush`, wait until every print published so far is delivered."""
        for tick in ticks:
            self.feed.on_trade(tick)
        if flush:
            assert self.publisher.flush(120) == 0 and self.publisher.failed == 0, "the suite's prints not delivered"

    # -- the phases -----------------------------------------------------------------------------------------
    def run_phase(self, name: str, inject: Injection, timeout_s: float | None = None) -> Outcome:
        phase = self.truth.phases[len(self.outcomes)]
        self.phase_starts_ms.append(time.time_ns() // 1_000_000)
        during, after = phase.halves()
        restarts_before = self._restarts()
        injected = inject(self, during)
        if injected.letters is not None:
            self.bad_records.append(injected.letters.location)
        self.tolerated |= injected.tolerated
        self.publish(after)
        recovered = until(lambda: self.caught_up(phase, injected), timeout_s or self.recovery_timeout_s)
        outcome = Outcome(name, time.monotonic() - injected.ended if recovered else None, detail=injected.detail)
        if injected.letters is not None:
            outcome.note(self._letters_detail(injected.letters.location))
        restarted = {process: count - restarts_before.get(process, 0) for process, count in self._restarts().items()}
        if any(restarted.values()):
            outcome.note("restarted: " + ", ".join(f"{p} {n}x" for p, n in restarted.items() if n))
        extras = self._new_extras()
        outcome.duplicated = len(extras)
        if extras:
            outcome.note(f"unexpected rows: {sorted(extras)[:3]}")
        self.outcomes.append(outcome)
        return outcome

    def caught_up(self, phase: Phase, injected: Injected) -> bool:
        """Every process runs, the API answers, the fault's own condition holds, its bad record's dead
        letters are stored, and PostgreSQL holds every row of the phase."""
        if self.platform.all_running() is None or not self.platform.api_answers() or not injected.check():
            return False
        try:
            if injected.letters is not None and not injected.letters.met_by(
                    dead_letters_at(self.settings.database_url, injected.letters.location)):
                return False
            return not self.truth.missing(read_stored(self.settings.database_url, self.truth.symbols), phase)
        except psycopg.OperationalError:
            return False  # the database is not back yet

    def _restarts(self) -> dict[str, int]:
        """How often the supervisor has started each process again so far."""
        status = self.platform.status() or {"processes": {}}
        return {name: entry["restarts"] for name, entry in status["processes"].items()}

    def _new_extras(self) -> set[tuple]:
        extras = self.truth.extra(read_stored(self.settings.database_url, self.truth.symbols), self.tolerated)
        new = extras - self._extras_seen
        self._extras_seen |= new
        return new

    def _letters_detail(self, location: Location) -> str:
        letters = dead_letters_at(self.settings.database_url, location)
        shown = {("strategy" if stage == self.strategy_stage else stage): error for stage, error in letters.items()}
        return "dead letters: " + (", ".join(f"{s}={e}" for s, e in sorted(shown.items())) or "none")

    # -- the end ------------------------------------------------------------------------------------------------
    def finish(self) -> list[str]:
        """Count what is lost (expected rows not stored as expected, now), the last extras and Kafka's
        duplicates, into the rows; returns notes for under the table."""
        stored = read_stored(self.settings.database_url, self.truth.symbols)
        for outcome, phase in zip(self.outcomes, self.truth.phases):
            missing = self.truth.missing(stored, phase)
            outcome.lost = len(missing)
            if missing:
                bars = sum(1 for kind, _ in missing if kind == "bar")
                outcome.note(f"lost {len(missing) - bars} prints and {bars} bars, first {missing[0]}")
        extras = self._new_extras()
        self.outcomes[-1].duplicated += len(extras)
        if extras:
            self.outcomes[-1].note(f"unexpected rows at the end: {sorted(extras)[:3]}")
        for index, copies in duplicates_by_phase(self.kafka, self.codec, self.phase_starts_ms).items():
            self.outcomes[index].duplicated += sum(len(ids) for ids in copies.values())
            self.outcomes[index].note("Kafka copies: " + ", ".join(
                f"{topic} {len(ids)} (e.g. {ids[0]})" for topic, ids in copies.items()))
        stray = stray_dead_letters(self.settings.database_url, self.trades_topic, list(self.truth.symbols),
                                   self.bad_records)
        return [f"ground truth: {len(self.truth.ticks)} prints and {len(self.truth.bars)} bars of "
                f"{', '.join(self.truth.symbols)}; dead letters of good prints: {stray}"]

    # -- conditions the injections use --------------------------------------------------------------------
    def feed_reports_trades(self, after_ns: int) -> bool:
        """The feed's newest status is a report, made after `after_ns`, of trades being published."""
        reports = [value for _, name, value in read_tail(self.kafka, self.codec, self.kafka.topic("feed.status"), 1,
                                                        f"faults-feed-{self.platform.prefix}")
                   if name == "FeedStatusChanged"]
        return any(r["ts_init"] > after_ns and r["messages_per_second"] > 0 for r in reports)

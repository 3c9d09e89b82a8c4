"""Runs several strategies in one process, and shares them with the other instances of the same
command (on this machine or others) through partition leases (`connectors.kafka.leases`).

A strategy runs on the instance holding the lease of the signals-topic partition its name is keyed to.
Starting a second `tradestream strategy run` with the same strategies splits them; when an instance
stops or is killed, the group moves its leases and the survivors start its strategies. A strategy that
starts (first run, or taken over) rebuilds its state from the trades, as every start does, and
publishes only decisions newer than the last one on each output topic (`resume_after_ns`): its ids
are deterministic, so nothing is lost and nothing appears twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from connectors.kafka.codec import AvroCodec
from connectors.kafka.leases import PartitionLeases, partition_for
from connectors.kafka.publisher import EventPublisher
from connectors.kafka.settings import KafkaSettings
from processors.event_time import EventTimeBounds
from processors.scanner import ScannerConfig
from streams.strategy_runner import StrategyRunner, resume_after_ns

log = logging.getLogger(__name__)

RUNNER_GROUP = "tradestream-strategy-runners"
LEASE_TOPIC = "signals"  # the topic strategies are keyed on: a strategy's lease is its signals' partition


@dataclass(slots=True)
class Running:
    stop: threading.Event
    thread: threading.Thread


class StrategyHost:
    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, configs: Sequence[ScannerConfig], start_ns: int,
                 publisher: EventPublisher, lateness_ms: int = 0, group_id: str = RUNNER_GROUP,
                 partitions: int | None = None,
                 runner_factory: Callable[..., StrategyRunner] = StrategyRunner,
                 resume_lookup: Callable[[str], dict[str, tuple[int, frozenset[str]]]] | None = None,
                 event_time: EventTimeBounds = EventTimeBounds()) -> None:
        names = [c.name for c in configs]
        if len(set(names)) != len(names):
            raise ValueError(f"two strategies have the same name: {sorted(n for n in names if names.count(n) > 1)}")
        self.kafka = kafka
        self.codec = codec
        self.configs = {c.name: c for c in configs}
        self.start_ns = start_ns
        self.publisher = publisher
        self.lateness_ms = lateness_ms
        self.partitions = partitions or kafka.partitions
        self.runner_factory = runner_factory
        self.event_time = event_time
        self.resume_lookup = resume_lookup or (lambda name: resume_after_ns(kafka, codec, name))
        self.running: dict[str, Running] = {}
        self.started: list[str] = []
        """Every strategy start, in order (a strategy taken over appears again)."""
        self.failed: dict[str, BaseException] = {}
        self._lock = threading.Lock()
        self.leases = PartitionLeases(kafka, group_id, kafka.topic(LEASE_TOPIC), self._on_leases)

    def lease_of(self, name: str) -> int:
        return partition_for(name, self.partitions)

    def start(self) -> None:
        self.leases.start()

    def stop(self) -> None:
        """Leave the group and stop every strategy (the other instances take them over)."""
        self.leases.stop()
        self._apply(frozenset())

    def _on_leases(self, held: frozenset[int]) -> None:
        self._apply(held)

    def _apply(self, held: frozenset[int]) -> None:
        with self._lock:
            wanted = {name for name in self.configs if self.lease_of(name) in held}
            for name in sorted(self.running.keys() - wanted):
                self._stop_one(name)
            for name in sorted(wanted - self.running.keys()):
                self._start_one(name)

    def _start_one(self, name: str) -> None:
        """Start the strategy in a thread of its own. Its start-up (reading where its outputs stopped,
        building its calendar) runs in that thread too, so the leases' thread answers the group at once."""
        stop = threading.Event()
        thread = threading.Thread(target=self._run_one, args=(name, stop), name=f"strategy-{name}", daemon=True)
        self.running[name] = Running(stop, thread)
        self.started.append(name)
        thread.start()

    def _run_one(self, name: str, stop: threading.Event) -> None:
        try:
            resume = self.resume_lookup(name)
            if stop.is_set():  # handed over while it was starting
                return
            runner = self.runner_factory(self.kafka, self.codec, self.configs[name], self.start_ns,
                                         publisher=self.publisher, lateness_ms=self.lateness_ms, resume_after=resume,
                                         event_time=self.event_time)
            log.info("strategy=%s started here (lease %d); resumes after %s", name, self.lease_of(name),
                     resume or "-")
            report = runner.run(stop)
        except BaseException as exc:  # recorded for `alive()`; the process's supervisor restarts it
            log.exception("strategy=%s stopped by an error", name)
            self.failed[name] = exc
            raise
        log.info("strategy=%s stopped here: %s", name, report)

    def _stop_one(self, name: str) -> None:
        running = self.running.pop(name)
        running.stop.set()
        running.thread.join()
        log.info("strategy=%s handed over (lease %d no longer held here)", name, self.lease_of(name))

    def alive(self) -> bool:
        """False once the leases or a strategy failed: the process should exit so that it is restarted."""
        return self.leases.alive() and not self.failed

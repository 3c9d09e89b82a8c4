"""Runs several strategies in one process, and shares them with the other instances of the same
command (on this machine or others) through partition leases (`connectors.kafka.leases`).

A strategy runs on the instance holding the lease of the signals-topic partition its name is keyed to.
Starting a second `tradestream strategy run` with the same strategies splits them; when an instance
stops or is killed, the group moves its leases and the survivors start its strategies. A strategy that
starts (first run, or taken over) rebuilds its state from the trades, as every start does, and
publishes only decisions newer than the last one on each output topic (`resume_after_ns`): its ids
are deterministic, so nothing is lost and nothing appears twice.

The unit shared is a runner: a strategy alone, or an account with every strategy that trades in it (their
`risk:` sections name it) and its trading desk, since the account's risk limits span its strategies. Its
lease is the one its name (the strategy's, or the account id) is keyed to.
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
from processors.risk import Account
from processors.scanner import ScannerConfig
from schemas.errors import ConfigError
from streams.live_broker import LiveBroker
from streams.strategy_resume import resume_points
from streams.strategy_runner import StrategyRunner

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
                 resume_lookup: Callable[[str], dict] | None = None,
                 event_time: EventTimeBounds = EventTimeBounds(),
                 accounts: Sequence[Account] = (),
                 live_brokers: Callable[[Account], LiveBroker] | None = None) -> None:
        names = [c.name for c in configs]
        if len(set(names)) != len(names):
            raise ValueError(f"two strategies have the same name: {sorted(n for n in names if names.count(n) > 1)}")
        self.kafka = kafka
        self.codec = codec
        self.accounts = {account.account_id: account for account in accounts}
        live = sorted(a.account_id for a in accounts if a.broker != "paper")
        if live and live_brokers is None:
            raise ConfigError(f"accounts {', '.join(live)} trade through a live broker: no connection to it is set up")
        self.live_brokers = live_brokers
        """The live broker's connection of an account whose broker is not paper, made when its runner starts."""
        self.units = units_of(configs, self.accounts)
        """What runs as one: a strategy's name, or an account id, with its strategies."""
        self.configs = {c.name: c for c in configs}
        self.start_ns = start_ns
        self.publisher = publisher
        self.lateness_ms = lateness_ms
        self.partitions = partitions or kafka.partitions
        self.runner_factory = runner_factory
        self.event_time = event_time
        self.resume_lookup = resume_lookup or self._resume_points
        self.running: dict[str, Running] = {}
        self.started: list[str] = []
        """Every unit start, in order (a unit taken over appears again)."""
        self.failed: dict[str, BaseException] = {}
        self._lock = threading.Lock()
        self.leases = PartitionLeases(kafka, group_id, kafka.topic(LEASE_TOPIC), self._on_leases)

    def _resume_points(self, name: str) -> dict:
        account = name if name in self.accounts else None
        return resume_points(self.kafka, self.codec, [c.name for c in self.units[name]], account)

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
            wanted = {name for name in self.units if self.lease_of(name) in held}
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
            strategies = self.units[name]
            runner = self.runner_factory(self.kafka, self.codec, strategies[0] if len(strategies) == 1 else strategies,
                                         self.start_ns, publisher=self.publisher, lateness_ms=self.lateness_ms,
                                         resume_after=resume, event_time=self.event_time,
                                         **self._account_arguments(name))
            log.info("strategy=%s started here (lease %d); resumes after %s", name, self.lease_of(name),
                     resume or "-")
            report = runner.run(stop)
        except BaseException as exc:  # recorded for `alive()`; the process's supervisor restarts it
            log.exception("strategy=%s stopped by an error", name)
            self.failed[name] = exc
            raise
        log.info("strategy=%s stopped here: %s", name, report)

    def _account_arguments(self, name: str) -> dict:
        account = self.accounts.get(name)
        if account is None:
            return {}
        if account.broker == "paper":
            return {"account": account}
        assert self.live_brokers is not None
        return {"account": account, "live_broker": self.live_brokers(account)}

    def _stop_one(self, name: str) -> None:
        running = self.running.pop(name)
        running.stop.set()
        running.thread.join()
        log.info("strategy=%s handed over (lease %d no longer held here)", name, self.lease_of(name))

    def alive(self) -> bool:
        """False once the leases or a strategy failed: the process should exit so that it is restarted."""
        return self.leases.alive() and not self.failed


def units_of(configs: Sequence[ScannerConfig], accounts: dict[str, Account]) -> dict[str, list[ScannerConfig]]:
    """The runners' units: each account with the strategies that trade in it, each other strategy alone.
    ConfigError when a strategy names an account that is not given, or an account id is also a strategy name."""
    units: dict[str, list[ScannerConfig]] = {}
    traded = [config for config in configs if getattr(config, "risk", None) is not None]
    for config in configs:
        if getattr(config, "risk", None) is None:
            units[config.name] = [config]
    for config in traded:
        account = config.risk.account
        if account not in accounts:
            raise ConfigError(f"strategy {config.name!r} trades in account {account!r}, which no account file "
                              f"gives (--account FILE)")
        if account in units and getattr(units[account][0], "risk", None) is None:
            raise ConfigError(f"account id {account!r} is also a strategy's name: rename one")
        units.setdefault(account, []).append(config)
    return units

"""StrategyHost: which strategies run here follows the leases held, one runner thread per strategy."""

from __future__ import annotations

import threading
import zlib

from connectors.kafka.settings import KafkaSettings
from streams.strategy_host import StrategyHost


class Config:
    def __init__(self, name: str) -> None:
        self.name = name


class Runner:
    """Stands in for StrategyRunner: runs until stopped, and records how it was made."""

    made: list[tuple[str, dict]] = []

    def __init__(self, kafka, codec, config, start_ns, publisher, lateness_ms, resume_after,  # noqa: ANN001
                 event_time) -> None:  # noqa: ANN001
        self.name = config.name
        Runner.made.append((config.name, resume_after))

    def run(self, stop: threading.Event) -> str:
        stop.wait()
        return f"{self.name} stopped"


KAFKA = KafkaSettings(bootstrap="127.0.0.1:9", registry_url="http://127.0.0.1:9", partitions=6, topic_prefix="t.")


def lease(name: str) -> int:
    return zlib.crc32(name.encode()) % 6


def test_strategies_start_and_stop_with_the_leases_of_their_partitions() -> None:
    names = ["alpha", "beta", "gamma", "delta"]
    Runner.made = []
    host = StrategyHost(KAFKA, None, [Config(n) for n in names], 0, publisher=None,  # type: ignore[arg-type]
                        runner_factory=Runner, resume_lookup=lambda name: {"signals": len(name)})
    assert [host.lease_of(n) for n in names] == [lease(n) for n in names]
    first = frozenset({lease("alpha"), lease("gamma")})
    host._on_leases(first)
    assert set(host.running) == {n for n in names if lease(n) in first}
    threads = {n: r.thread for n, r in host.running.items()}
    assert all(t.is_alive() for t in threads.values())
    host._on_leases(frozenset(range(6)))  # the other instance went away: everything runs here
    assert set(host.running) == set(names)
    assert all(host.running[n].thread is threads[n] for n in threads)  # those already here kept running
    host._on_leases(frozenset())
    assert host.running == {} and not any(t.is_alive() for t in threads.values())
    assert Runner.made[0][1] == {"signals": len(Runner.made[0][0])}  # each start resumes after its last output
    host._on_leases(frozenset({lease("alpha")}))  # given back: started again, from its last output
    assert "alpha" in host.running and host.started.count("alpha") == 2
    host._on_leases(frozenset())


def test_two_strategies_with_one_name_are_refused() -> None:
    try:
        StrategyHost(KAFKA, None, [Config("a"), Config("a")], 0, publisher=None)  # type: ignore[arg-type]
    except ValueError as exc:
        assert "same name" in str(exc)
    else:
        raise AssertionError("accepted two strategies named a")

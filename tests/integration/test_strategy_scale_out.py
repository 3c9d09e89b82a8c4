"""Strategy runners scale out: two `tradestream strategy run` instances with the same six strategies
split them through the runners' consumer group (each holds some partitions of the signals topic, and runs
the strategies keyed to them); SIGKILL of one moves its strategies to the other, and PostgreSQL and
Kafka then hold exactly the backtest's signals and intents, each once."""

from __future__ import annotations

import datetime as dt
import os
import signal
import zlib
from pathlib import Path

import psycopg
import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.simulation import MarketSimulator, SimulationConfig
from processors.strategies.pipeline import StrategyPipeline
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def strategy_names(unique: str, partitions: int) -> list[str]:
    """One strategy keyed to each partition of the signals topic, so that however the group splits the
    partitions, each runner holding some has strategies to run."""
    by_partition: dict[int, str] = {}
    for i in range(10_000):
        name = f"so-{unique}-{i}"
        by_partition.setdefault(zlib.crc32(name.encode()) % partitions, name)
        if len(by_partition) == partitions:
            return [by_partition[p] for p in range(partitions)]
    raise AssertionError("no names found")


def test_two_runners_split_the_strategies_and_one_takes_over_when_the_other_is_killed(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"so{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    kafka = settings.kafka(prefix)

    primary, correlated = f"P{unique[:5]}".upper(), f"C{unique[:5]}".upper()
    template = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    for section in ("risk", "trade", "charges"):  # signals only: each strategy its own runner unit
        template.pop(section, None)
    configs, files = [], []
    for name in strategy_names(unique, kafka.partitions):
        data = template | {"name": name, "symbols": [primary, correlated], "primary": primary,
                           "correlated": correlated, "max_signals_per_day": 100, "max_signals_per_symbol": 100,
                           "exit_rules": [f"price({primary}) < donchian_lower({primary}, 5m, 10)"]}
        config = ScannerConfig.from_mapping(data)
        configs.append(config)
        files += ["--config", str(tmp_path / f"{name}.yaml")]
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(config.to_mapping()))

    calendar = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 25))
    windows = [w for w in calendar.windows(parse_sessions("regular"))
               if dt.date(2026, 11, 23) <= dt.datetime.fromtimestamp(w.start_ns / 1e9).date() <= dt.date(2026, 11, 24)]
    simulation = SimulationConfig(symbols=(primary, correlated), seed=5, start_prices=(600.0, 500.0),
                                  annual_volatility=(0.6, 0.6), correlation=((1.0, -0.5), (-0.5, 1.0)),
                                  trades_per_minute=20, bad_print_probability=0.0)
    ticks = list(MarketSimulator(simulation, windows).ticks())
    expected = {c.name: StrategyPipeline(c, calendar, SignalLimiter.from_config(c),
                                         lambda ts, c=c: in_schedule(c, ts)).run_trades(ticks) for c in configs}
    half = len(ticks) // 2
    assert all(1 <= sum(s.ts_event < ticks[half].ts_event for s in d.signals) < len(d.signals)
               for d in expected.values())

    publisher = EventPublisher(kafka, AvroCodec(settings.schema_registry_url), client_id=f"so-{unique}")
    feed = KafkaFeedSink(publisher)

    def publish(part: list) -> None:
        for tick in part:
            feed.on_trade(tick)
        assert publisher.flush() == 0 and publisher.failed == 0

    def stored(table: str, column: str) -> dict[str, list[str]]:
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute(f"select strategy, {column} from {table} where strategy = any(%s) "
                                "order by ts_event_ns", ([c.name for c in configs],)).fetchall()
        found: dict[str, list[str]] = {c.name: [] for c in configs}
        for strategy, value in rows:
            found[strategy].append(value)
        return found

    group = f"runners-{unique}"
    publish(ticks[:half])
    sink = spawn(["sink", "--group", f"sink-{unique}"], env, tmp_path / "sink.log")
    runners = [spawn(["strategy", "run", "--group", group, *files], env, tmp_path / f"runner-{i}.log")
               for i in range(2)]
    admin = AdminClient(kafka.client_config())
    try:
        def split() -> bool:
            description = admin.describe_consumer_groups([group])[group].result()
            held = [{tp.partition for tp in m.assignment.topic_partitions} for m in description.members]
            return len(held) == 2 and all(held) and set().union(*held) == set(range(kafka.partitions))

        eventually(split, timeout_s=60, what="two runners holding the signals partitions between them")
        eventually(lambda: all(stored("signals", "signal_id").values()), timeout_s=120,
                   what="signals of every strategy (each runner running its share)")
        os.killpg(runners[1].pid, signal.SIGKILL)
        runners[1].wait(timeout=30)
        publish(ticks[half:])
        want = {name: [s.signal_id for s in d.signals] for name, d in expected.items()}
        eventually(lambda: stored("signals", "signal_id") == want, timeout_s=180,
                   what="every strategy's signals, the killed runner's taken over by the other")
        eventually(lambda: stored("order_intents", "client_order_id") ==
                   {name: [i.client_order_id for i in d.intents] for name, d in expected.items()},
                   timeout_s=60, what="every strategy's intents")
    finally:
        for process in (*runners, sink):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)

    consumer = Consumer(kafka.client_config(**{"group.id": f"count-{unique}"}))
    try:
        def records(topic: str) -> int:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            return sum(high - low for low, high in (
                consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions))
        assert records(kafka.topic("signals")) == sum(len(d.signals) for d in expected.values())
        assert records(kafka.topic("orders.intents")) == sum(len(d.intents) for d in expected.values())
    finally:
        consumer.close()

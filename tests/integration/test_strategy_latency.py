"""Signals reach the topic within one evaluation interval of their instant, with trades paced at wall-clock
speed. Event times are a trading-session morning shifted onto the wall clock (so the test passes at any
hour and on any day): an instant's wall-clock time is where its event time falls on that shifted clock."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from confluent_kafka import Consumer

from connectors.base import KafkaFeedSink
from connectors.kafka.publisher import EventPublisher
from processors.model import TradeTick
from connectors.kafka.codec import AvroCodec, register_all
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
NS = 1_000_000_000
INTERVAL_S = 2


def test_signals_arrive_within_one_evaluation_interval(settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"l{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    symbol = f"L{unique[:5]}".upper()
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data |= {"name": f"lat-{unique}", "strategy": "rules", "symbols": [symbol], "primary": symbol,
             "interval": f"{INTERVAL_S}s", "direction": "long", "max_signals_per_day": 500,
             "max_signals_per_symbol": 500, "entry_rules": [f"price({symbol}) > 0"],
             "exit_rules": [f"price({symbol}) > 0"]}
    data.pop("correlated")
    for section in ("risk", "trade", "charges"):  # the signal path's latency, no trading
        data.pop(section, None)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(data))

    base_event = int(dt.datetime(2026, 11, 24, 10, 0, tzinfo=ZoneInfo("America/New_York")).timestamp()) * NS
    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), client_id=f"lat-{unique}")
    feed = KafkaFeedSink(publisher)
    runner = spawn(["strategy", "run", "--config", str(config_file)], env, tmp_path / "strategy.log")
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"lat-{unique}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([f"{prefix}signals"])
    codec = AvroCodec(settings.schema_registry_url)
    latencies: list[int] = []
    stop = threading.Event()
    start_wall = time.time_ns()

    def publish() -> None:  # 50 trades a second, event time = wall time shifted to the session
        i = 0
        while not stop.is_set():
            now = time.time_ns()
            feed.on_trade(TradeTick(symbol, base_event + now - start_wall, now, Decimal("100.00") + i % 7, 100,
                                    "latency-test", str(i)))
            publisher.producer.poll(0)
            i += 1
            stop.wait(0.02)

    publisher_thread = threading.Thread(target=publish, daemon=True)
    publisher_thread.start()
    try:
        def enough_signals() -> bool:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                _, value, _ = codec.decode_record(message.value())
                instant_wall = start_wall + value["ts_event"] - base_event
                latencies.append(message.timestamp()[1] * 1_000_000 - instant_wall)
            return len(latencies) >= 10

        eventually(enough_signals, timeout_s=120, interval_s=0, what="ten signals on the topic")
    finally:
        stop.set()
        publisher_thread.join(timeout=10)
        publisher.flush()
        consumer.close()
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=60)
    # Every instant fires (entry, then exit) and each signal is on the topic within one interval.
    print("signal latency after the instant (ms):", sorted(round(x / 1e6) for x in latencies))
    assert max(latencies) < INTERVAL_S * NS, [round(x / 1e6) for x in latencies]
    assert min(latencies) >= 0

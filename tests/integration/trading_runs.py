"""Running `tradestream strategy run --account` as its own process until it has published what a test expects,
then reading back what it published (shared by the trading integration tests)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from tradestream.config import Settings

from .conftest import eventually, spawn
from .test_strategy import TRADING_RECORDS, TRADING_TOPICS, topic_events


def run_until_published(settings: Settings, prefix: str, env: dict[str, str], config_file: Path, account_file: Path,
                        log: Path, trading_events: int, dead_letter: str) -> dict[str, list]:
    """Start the runner, wait until the trading topics hold `trading_events` records and the dead-letter topic
    one (`dead_letter` says which), stop it; every trading topic's records, decoded, by topic name."""
    runner = spawn(["strategy", "run", "--config", str(config_file), "--account", str(account_file)], env, log)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"count-{prefix}"})

    def records(topic: str) -> int:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(high - low for low, high in (
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions))
    try:
        eventually(lambda: sum(records(f"{prefix}{t}") for t in TRADING_TOPICS) >= trading_events, timeout_s=180,
                   what="every trading event on Kafka")
        eventually(lambda: records(f"{prefix}deadletter") >= 1, timeout_s=60, what=dead_letter)
    finally:
        consumer.close()
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=60)
    return {topic: topic_events(settings, f"{prefix}{topic}", f"read-{prefix}{topic}") for topic in TRADING_TOPICS}


def of_topic(events: list, topic: str) -> list:
    """The events of `events` that `topic` carries."""
    return [e for e in events if type(e).__name__ == TRADING_RECORDS[topic]]

"""The `_schemas` topic as the registry's storage: read to its end at start, written one acknowledged
record at a time.

The topic is Confluent's: compacted, one partition, on the real broker. Reading it from the beginning
rebuilds the `RegistryState`, so ids and versions survive restarts. A write applies to the state only
after the broker acknowledged it (acks=all). One instance writes at a time (no leader election).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tradestream.schema_registry.errors import ApiError
from tradestream.schema_registry.state import RegistryState

log = logging.getLogger("tradestream.schema_registry")

LEADER_WAIT_S = 60  # how long a starting broker may take to give the topic's partition a leader


class KafkaStore:
    """The `_schemas` topic: read to the end at start, every write acknowledged before it applies."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.state = RegistryState()
        self.lock = threading.RLock()
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                                  "linger.ms": 0})

    def ensure_topic(self) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        if self.topic in admin.list_topics(timeout=30).topics:
            return
        future = admin.create_topics([NewTopic(self.topic, 1, 1, config={"cleanup.policy": "compact"})])[self.topic]
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise

    def load(self) -> int:
        """Read the topic from the beginning to its current end; returns records applied."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "schema-registry-loader",
                             "enable.auto.commit": False, "enable.partition.eof": True})
        low, high = self._watermarks(consumer)
        applied = self._apply_records(consumer, low, high) if high > low else 0
        consumer.close()
        return applied

    def _watermarks(self, consumer: Consumer) -> tuple[int, int]:
        """The partition's low and high offsets, waiting up to LEADER_WAIT_S for it to have a leader."""
        partition = TopicPartition(self.topic, 0)
        deadline = time.monotonic() + LEADER_WAIT_S
        while True:
            try:
                return consumer.get_watermark_offsets(partition, timeout=10)
            except KafkaException as exc:
                # Right after a broker start the partition may have no leader yet: wait for it.
                if not exc.args[0].retriable() and exc.args[0].code() != KafkaError.NOT_LEADER_FOR_PARTITION \
                        or time.monotonic() > deadline:
                    raise
                log.info("waiting for %s to have a leader: %s", self.topic, exc.args[0].str())
                time.sleep(0.5)

    def _apply_records(self, consumer: Consumer, low: int, high: int) -> int:
        """Apply the records from offset `low` up to `high` (or the partition's end); returns how many."""
        applied = 0
        consumer.assign([TopicPartition(self.topic, 0, low)])
        while True:
            message = consumer.poll(10)
            if message is None:
                raise KafkaException(KafkaError(KafkaError._TIMED_OUT, f"reading {self.topic} timed out"))
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    break
                raise KafkaException(message.error())
            key = json.loads(message.key())
            value = json.loads(message.value()) if message.value() is not None else None
            self.state.apply(key, value)
            applied += 1
            if message.offset() >= high - 1:
                break
        return applied

    def write(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        errors: list[KafkaError] = []
        self.producer.produce(self.topic, key=json.dumps(key, separators=(",", ":")).encode(),
                              value=None if value is None else json.dumps(value, separators=(",", ":")).encode(),
                              on_delivery=lambda err, _msg: errors.append(err) if err else None)
        if self.producer.flush(30) != 0 or errors:
            raise ApiError(500, 50001, f"Error while storing to {self.topic}: {errors or 'timed out'}")
        self.state.apply(key, value)

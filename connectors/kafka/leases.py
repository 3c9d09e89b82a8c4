"""Partition leases: instances of one process kind split work through a Kafka consumer group.

A `PartitionLeases` joins a consumer group on a topic only to be given some of its partitions; it
never reads a record (assigned partitions are paused at once). Whatever the process keys by that
topic's partitioning (a strategy by its name, as its signals are keyed) belongs to the instance that
holds the partition: start a second instance on this or another machine and the group splits the
partitions; stop or kill one and, once the broker notices (the session timeout), the others are
given its partitions. `on_change` is called with the full set held after every change, from the
leases' own thread; on a revocation it is called before the rebalance completes, so a former owner
stops its work before a new owner starts it.

`partition_for(key, partitions)` is librdkafka's default ("consistent_random") partitioner, CRC32 of
the key, so a strategy's lease is the partition its signals and intents are written to.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from connectors.kafka.consumer import consumer_config
from connectors.kafka.settings import KafkaSettings

log = logging.getLogger(__name__)

SESSION_TIMEOUT_MS = 10_000  # how long a killed instance keeps its leases before the group moves them


def partition_for(key: str, partitions: int) -> int:
    """The partition librdkafka's default partitioner gives `key` (CRC32, as the producers write it)."""
    return zlib.crc32(key.encode()) % partitions


class PartitionLeases:
    def __init__(self, kafka: KafkaSettings, group_id: str, topic: str,
                 on_change: Callable[[frozenset[int]], None], session_timeout_ms: int = SESSION_TIMEOUT_MS) -> None:
        self.kafka = kafka
        self.group_id = group_id
        self.topic = topic
        self.on_change = on_change
        self.session_timeout_ms = session_timeout_ms
        self.held: frozenset[int] = frozenset()
        self.failure: BaseException | None = None
        """What stopped the leases' thread, if anything but `stop`."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"leases-{group_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Leave the group (its partitions go to the other instances at once) and give up every lease."""
        self._stop.set()
        self._thread.join(timeout=30)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _set(self, held: frozenset[int]) -> None:
        if held != self.held:
            log.info("group=%s topic=%s partitions held: %s", self.group_id, self.topic, sorted(held) or "none")
            self.held = held
            self.on_change(held)

    def _run(self) -> None:
        consumer = Consumer(consumer_config(self.kafka, self.group_id, **{
            "session.timeout.ms": self.session_timeout_ms, "heartbeat.interval.ms": self.session_timeout_ms // 5,
            "auto.offset.reset": "latest",
            # Only the partitions that move are taken away: an instance joining or leaving does not stop
            # and restart the strategies that stay where they are.
            "partition.assignment.strategy": "cooperative-sticky"}))

        # The group uses the cooperative protocol (below): callbacks get only the partitions that move.
        def assigned(consumer_: Consumer, partitions: list[TopicPartition]) -> None:
            consumer_.incremental_assign(partitions)
            consumer_.pause(partitions)  # a lease only: no record is ever fetched
            self._set(self.held | {p.partition for p in partitions})

        def revoked(consumer_: Consumer, partitions: list[TopicPartition]) -> None:
            self._set(self.held - {p.partition for p in partitions})
            consumer_.incremental_unassign(partitions)

        try:
            consumer.subscribe([self.topic], on_assign=assigned, on_revoke=revoked, on_lost=revoked)
            while not self._stop.is_set():
                message = consumer.poll(0.5)  # serves the callbacks; paused partitions return nothing
                if message is not None and message.error() is not None and message.error().fatal():
                    raise KafkaException(message.error())
        except BaseException as exc:
            self.failure = exc
            raise
        finally:
            self._set(frozenset())
            consumer.close()

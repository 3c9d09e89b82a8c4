"""Follows several topics from their ends in a background thread and hands each new record, decoded, to a
callback: what the API's websocket pushes (`api.live`).

    follower = TopicFollower(kafka, codec, ["trades", "fills"], on_record)   # catalogue names
    follower.start()      # on_record(topic name, key, record name, fields) from the follower's thread
    follower.following.wait(30)                                             # every topic assigned
    follower.stop()

Each partition is assigned at its high watermark as read before the assignment (not OFFSET_END, which is
resolved at the first fetch: a record written in between would be skipped), so a record written after
`following` is set is always handed on. A topic missing from the metadata is looked for again every
MISSING_RETRY_S and followed once it exists; `following` is set only when every topic is followed. No
consumer group offsets are committed: the follower wants what happens from now on, not a position.

Like the feed-status watcher, it never gives up: Kafka unreachable at start or a fatal consumer error is logged
and the follower starts again after a back-off (1 s doubling to 30 s), from the topics' ends at that time.
A record that does not decode is logged and skipped: the topics' own consumers dead-letter it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from schemas.errors import DecodeError

log = logging.getLogger(__name__)

RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 30.0
MISSING_RETRY_S = 2.0
OnRecord = Callable[[str, str | None, str, dict[str, Any]], None]
"""on_record(topic's catalogue name, record key, record name, decoded fields)."""


class TopicFollower:
    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, names: Iterable[str], on_record: OnRecord,
                 client_id: str = "tradestream-api-live") -> None:
        self.kafka = kafka
        self.codec = codec
        self.names = {kafka.topic(name): name for name in names}
        """Full topic name -> catalogue name."""
        self.on_record = on_record
        self.client_id = client_id
        self.following = threading.Event()
        """Set while every topic is assigned at (or past) its end as read when the follower (re)started."""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="topic-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        backoff = RETRY_INITIAL_S
        while not self._stop.is_set():
            try:
                self._follow()
                backoff = RETRY_INITIAL_S
            except KafkaException as exc:
                log.warning("topics=%s follower: %s; retrying in %.0f s", ",".join(self.names), exc.args[0].str(),
                            backoff)
            finally:
                self.following.clear()
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, RETRY_MAX_S)

    def _follow(self) -> None:
        # A group id of its own: nothing is committed, and no other consumer's assignment is disturbed.
        consumer = Consumer(consumer_config(self.kafka, f"{self.client_id}-{uuid.uuid4().hex[:8]}",
                                            **{"socket.timeout.ms": 5000, "client.id": self.client_id}))
        try:
            missing = set(self.names)
            next_look = 0.0
            while not self._stop.is_set():
                if missing and time.monotonic() >= next_look:
                    found = self._ends(consumer, missing)
                    if found:
                        # Added to what is followed (assign would move the partitions followed already back).
                        consumer.incremental_assign(found)
                    next_look = time.monotonic() + MISSING_RETRY_S
                    if not missing:
                        self.following.set()
                    else:
                        log.info("topics=%s not found yet; followed once they exist", ",".join(sorted(missing)))
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().fatal():
                        raise KafkaException(message.error())
                    if message.error().code() != KafkaError._PARTITION_EOF:
                        log.warning("topic=%s error=%s", message.topic(), message.error().str())
                    continue
                self._hand_on(message)
        finally:
            consumer.close()

    def _ends(self, consumer: Consumer, missing: set[str]) -> list[TopicPartition]:
        """The partitions of the missing topics that exist now, at their high watermarks (removed from `missing`)."""
        found = []
        for topic in sorted(missing):
            partitions = partitions_of(consumer, topic, timeout_s=5)
            if not partitions:
                continue
            for partition in partitions:
                _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=5)
                found.append(TopicPartition(topic, partition, high))
            missing.discard(topic)
        return found

    def _hand_on(self, message) -> None:  # noqa: ANN001 - a confluent_kafka Message
        try:
            name, fields, _ = self.codec.decode_record(message.value())
        except DecodeError as exc:
            log.warning("topic=%s partition=%d offset=%d skipped: %s", message.topic(), message.partition(),
                        message.offset(), exc)
            return
        key = message.key()
        self.on_record(self.names[message.topic()], key.decode("utf-8", "replace") if key is not None else None,
                       name, fields)

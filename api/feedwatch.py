"""Follows the feed-status topic in a background thread so the API knows each feed's last report."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import OFFSET_END, Consumer, KafkaError, TopicPartition

from connectors.kafka.codec import AvroCodec
from schemas.topics import spec
from tradestream.config import Settings
from schemas.errors import DecodeError

log = logging.getLogger(__name__)


class FeedStatusWatcher:
    def __init__(self, settings: Settings, codec: AvroCodec) -> None:
        self.settings = settings
        self.codec = codec
        self.topic = spec("feed.status").full_name()
        self.latest: dict[str, dict[str, object]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feed-status-watcher", daemon=True)
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def last(self) -> dict[str, object] | None:
        """The most recent report of any feed (the active one wins when several report)."""
        with self._lock:
            reports = list(self.latest.values())
        if not reports:
            return None
        active = [r for r in reports if r["active"]] or reports
        return max(active, key=lambda r: int(r["ts_init"]))

    def _run(self) -> None:
        consumer = Consumer({
            "bootstrap.servers": self.settings.kafka_bootstrap,
            "group.id": "tradestream-api-feedwatch",
            "enable.auto.commit": False,
            "log_level": 0,
        })
        try:
            partitions = []
            metadata = consumer.list_topics(self.topic, timeout=5).topics.get(self.topic)
            for partition in (metadata.partitions if metadata and not metadata.error else {}):
                low, high = consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=5)
                # Start at the last report so the health is known at once.
                partitions.append(TopicPartition(self.topic, partition, high - 1 if high > low else OFFSET_END))
            if not partitions:
                log.warning("topic=%s not found; feed health stays unknown", self.topic)
                return
            consumer.assign(partitions)
            while not self._stop.is_set():
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().code() != KafkaError._PARTITION_EOF:
                        log.warning("topic=%s error=%s", self.topic, message.error().str())
                    continue
                try:
                    name, value, _ = self.codec.decode_record(message.value())
                except DecodeError as exc:
                    log.warning("topic=%s offset=%d undecodable feed status: %s", self.topic, message.offset(), exc)
                    continue
                with self._lock:
                    self.latest[str(value["feed"])] = value
        finally:
            consumer.close()

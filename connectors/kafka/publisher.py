"""Publishing typed events to Kafka in the Confluent Avro wire format, shared by every feed."""

from __future__ import annotations

import logging
import threading

from confluent_kafka import KafkaError, Message, Producer

from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings

log = logging.getLogger(__name__)


class EventPublisher:
    """An idempotent, acks=all producer; counts deliveries and failures (never drops them silently)."""

    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, client_id: str) -> None:
        self.kafka = kafka
        self.codec = codec
        self.producer = Producer(kafka.client_config(**{
            "client.id": client_id,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
        }))
        self.delivered = 0
        self.failed = 0
        self._lock = threading.Lock()

    def _on_delivery(self, error: KafkaError | None, message: Message) -> None:
        with self._lock:
            if error is None:
                self.delivered += 1
                return
            self.failed += 1
        log.error("topic=%s key=%s delivery failed: %s", message.topic(), message.key(), error.str())

    def publish(self, topic: str, key: str | bytes | None, event: object,
                headers: list[tuple[str, bytes]] | None = None) -> None:
        value = self.codec.encode(topic, event)
        raw_key = key.encode() if isinstance(key, str) else key
        while True:
            try:
                self.producer.produce(topic, key=raw_key, value=value, headers=headers, on_delivery=self._on_delivery)
                break
            except BufferError:  # local queue full: wait for deliveries, then retry
                self.producer.poll(0.1)
        self.producer.poll(0)

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait for outstanding deliveries; returns how many are still pending."""
        return self.producer.flush(timeout_s)

"""What every process needs to reach Kafka and the schema registry, as one typed section.

The CLI builds it from the environment (`tradestream.config.Settings.kafka()`) and hands it to each
component; no component reads an environment variable of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.topics import spec


@dataclass(frozen=True, slots=True, kw_only=True)
class KafkaSettings:
    bootstrap: str
    """Bootstrap servers, `host:port[,host:port…]` (KAFKA_BOOTSTRAP)."""
    registry_url: str
    """Schema registry base URL (SCHEMA_REGISTRY_URL)."""
    partitions: int = 6
    """Partitions of the keyed event topics (KAFKA_PARTITIONS)."""
    topic_prefix: str = "ts."
    """Namespace of every topic name (TOPIC_PREFIX); tests and benchmarks use their own."""

    def topic(self, name: str) -> str:
        """The full name of catalogue topic `name` (e.g. `ticks.trades` -> `ts.ticks.trades`)."""
        return spec(name).full_name(self.topic_prefix)

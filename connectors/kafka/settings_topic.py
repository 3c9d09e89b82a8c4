"""The settings topic: every version of the universal settings read back in order, and a new version published.

    history = read_settings_history(kafka, codec)         # SettingsHistory of every SettingsChanged on the topic
    change = history.next_change(settings, ts_event=..., ts_init=now, reason=..., operator=...)
    SettingsTopicPublisher(kafka, codec).publish(change)  # True once Kafka has it (acks=all)

`tradestream settings change` and the dashboard's settings page (`api.universal_settings`) both go through this
module, so a version published from either is numbered, checked and keyed the same way: one partition, the key
"universal", numbered one more than the newest version on the topic.
"""

from __future__ import annotations

from confluent_kafka import KafkaException

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import read_tail
from connectors.kafka.publisher import EventPublisher
from connectors.kafka.settings import KafkaSettings
from processors.model import SettingsChanged
from processors.settings import SettingsHistory
from schemas.errors import StackError

TOPIC_KEY = "universal"
MAX_VERSIONS_READ = 1_000_000  # every version on the topic: changes are rare and the topic is kept forever
PUBLISH_WAIT_S = 10.0


def read_settings_changes(kafka: KafkaSettings, codec: AvroCodec,
                          group_id: str = "tradestream-settings") -> list[SettingsChanged]:
    """Every SettingsChanged on the settings topic, in topic order (records of another key or schema left out);
    StackError when Kafka does not answer."""
    topic = kafka.topic("settings")
    try:
        records = read_tail(kafka, codec, topic, MAX_VERSIONS_READ, group_id, TOPIC_KEY.encode())
        changes = sorted((message.offset(), SettingsChanged(**fields)) for message, name, fields in records
                         if name == "SettingsChanged")
    except KafkaException as exc:
        raise StackError(f"the settings topic {topic} cannot be read: {exc.args[0].str()}; check that Kafka "
                         f"({kafka.bootstrap}) is up") from None
    return [change for _, change in changes]


def read_settings_history(kafka: KafkaSettings, codec: AvroCodec,
                          group_id: str = "tradestream-settings") -> SettingsHistory:
    """Every version on the settings topic, in order (SettingsError if one cannot follow the others)."""
    return SettingsHistory.of(read_settings_changes(kafka, codec, group_id))


class SettingsTopicPublisher:
    """Publishes versions on the settings topic, each waited for; the producer is made at the first one (an API
    starts without Kafka)."""

    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, client_id: str = "tradestream-settings") -> None:
        self.kafka = kafka
        self.codec = codec
        self.client_id = client_id
        self._publisher: EventPublisher | None = None

    def publish(self, change: SettingsChanged, wait_s: float = PUBLISH_WAIT_S) -> bool:
        """Publish `change` and wait until Kafka has it; False when it was not delivered within `wait_s`."""
        if self._publisher is None:
            self._publisher = EventPublisher(self.kafka, self.codec, client_id=self.client_id)
        failed_before = self._publisher.failed
        self._publisher.publish(self.kafka.topic("settings"), TOPIC_KEY, change)
        return self._publisher.flush(wait_s) == 0 and self._publisher.failed == failed_before

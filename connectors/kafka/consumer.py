"""Consumer settings and the topic-tail reader every process shares.

`consumer_config` is the one place where a plain confluent-kafka consumer's settings are made (the sink,
the strategy runner, the API's feed watcher and the resume look-ups). `read_tail` reads the newest
records of each partition of a topic: how the simulated feed resumes after its last tick, how the
strategy runner finds the last decision it published, and how the feed watcher knows each feed's
last report at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings
from schemas.errors import DecodeError

METADATA_TIMEOUT_S = 10.0


def consumer_config(kafka: KafkaSettings, group_id: str, **overrides: Any) -> dict[str, Any]:
    """A consumer that commits only when told to, and leaves librdkafka's own logging out of ours."""
    return kafka.client_config(**{"group.id": group_id, "enable.auto.commit": False, "log_level": 0, **overrides})


def partitions_of(consumer: Consumer, topic: str, timeout_s: float = METADATA_TIMEOUT_S) -> list[int]:
    """The topic's partition numbers, sorted; empty when the topic does not exist."""
    metadata = consumer.list_topics(topic, timeout=timeout_s).topics.get(topic)
    if metadata is None or metadata.error is not None:
        return []
    return sorted(metadata.partitions)


def read_tail(kafka: KafkaSettings, codec: AvroCodec, topic: str, records: int, group_id: str,
              key: bytes | None = None,
              timeout_s: float = METADATA_TIMEOUT_S) -> Iterator[tuple[Message, str, dict[str, Any]]]:
    """The last `records` records of every partition of `topic`, decoded: (message, record name, fields).
    With `key`, only records with that key. Undecodable records are left out: a reader of the tail
    wants the newest facts it can read, and the consumers of the topic dead-letter the others."""
    consumer = Consumer(consumer_config(kafka, group_id, **{"enable.partition.eof": True}))
    try:
        for partition in partitions_of(consumer, topic, timeout_s):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout_s)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, partition, max(low, high - records))])
            while True:
                message = consumer.poll(timeout_s)
                if message is None:
                    break
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        break
                    continue
                if key is None or message.key() == key:
                    try:
                        name, value, _ = codec.decode_record(message.value())
                    except DecodeError:
                        pass
                    else:
                        yield message, name, value
                if message.offset() >= high - 1:
                    break
    finally:
        consumer.close()


def newest_event_time(kafka: KafkaSettings, codec: AvroCodec, topic: str, records: int, group_id: str,
                      key: bytes | None = None,
                      where: Callable[[dict[str, Any]], bool] | None = None) -> int | None:
    """The largest `ts_event` among the tail records of `topic` (None when there is none); with `where`,
    among the records it accepts (a producer's own, when others write to the same topic)."""
    times = [int(value["ts_event"]) for _, _, value in read_tail(kafka, codec, topic, records, group_id, key)
             if "ts_event" in value and (where is None or where(value))]
    return max(times, default=None)

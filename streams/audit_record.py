"""What the topics recorded over an audit's range, read back for `streams.audit_replay`.

Every partition is read from the first record stamped at or after the range's start (`offsets_for_times`:
a record is stamped when it is produced, after the fact it carries happened) to the partition's end as it
was when the read began, so a record written meanwhile does not make the read run after it. The consumer
only reads: it is assigned its partitions and never commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from schemas.errors import ConfigError, DecodeError

MS = 1_000_000
POLL_S = 10.0   # a partition that gives nothing for this long before its recorded end is an error


@dataclass(slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    kafka_ns: int      # the record's Kafka timestamp (0: none)
    value: bytes | None


@dataclass(slots=True)
class Recorded:
    """A topic's decoded events in the range, and where its records that do not decode are."""

    events: list[Any] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def read_raw(kafka: KafkaSettings, topic: str, from_ns: int | None, group_id: str) -> Iterator[RawRecord]:
    """Every record of `topic` from the first stamped at or after `from_ns` (None: from the beginning) to the
    partitions' ends at the start of the read, partition after partition, each in offset order."""
    consumer = Consumer(consumer_config(kafka, group_id, **{"enable.partition.eof": True}))
    try:
        partitions = partitions_of(consumer, topic)
        if not partitions:
            raise ConfigError(f"topic {topic} does not exist: is TOPIC_PREFIX the one the recorded run used?")
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        if from_ns is None:
            starts = [TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions]
        else:
            starts = consumer.offsets_for_times([TopicPartition(topic, p, from_ns // MS) for p in partitions],
                                                timeout=10)
        for start in starts:
            end = ends[start.partition]
            if start.offset == OFFSET_BEGINNING:
                start = TopicPartition(topic, start.partition,
                                       consumer.get_watermark_offsets(start, timeout=10)[0])
            if start.offset < 0 or start.offset >= end:
                continue      # nothing stamped at or after the start, or nothing at all
            yield from _partition(consumer, start, end)
    finally:
        consumer.close()


def _partition(consumer: Consumer, start: TopicPartition, end: int) -> Iterator[RawRecord]:
    consumer.assign([start])
    deadline = time.monotonic() + POLL_S
    while True:
        messages = consumer.consume(5_000, 1.0)
        if messages:
            deadline = time.monotonic() + POLL_S
        elif time.monotonic() > deadline:
            raise ConfigError(f"{start.topic} partition {start.partition}: nothing read for {POLL_S:.0f} s before "
                              f"offset {end}")
        for message in messages:
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    return
                continue
            if message.offset() >= end:
                return
            stamp = message.timestamp()[1]
            yield RawRecord(message.topic(), message.partition(), message.offset(), stamp * MS if stamp > 0 else 0,
                            message.value())
            if message.offset() >= end - 1:
                return


def read_recorded(kafka: KafkaSettings, codec: AvroCodec, name: str, start_ns: int, end_ns: int,
                  keep: Callable[[Any], bool], when: Callable[[Any], int] = lambda e: e.ts_event,
                  group_id: str = "tradestream-audit") -> Recorded:
    """The events of the catalogue topic `name` whose time (`when`: ts_event by default) is in
    [start_ns, end_ns) and that `keep` accepts."""
    recorded = Recorded()
    for record in read_raw(kafka, kafka.topic(name), start_ns, group_id):
        try:
            event = codec.decode(record.value)
        except DecodeError as exc:
            recorded.unreadable.append(f"{record.topic}[{record.partition}]@{record.offset}: {exc}")
            continue
        if start_ns <= when(event) < end_ns and keep(event):
            recorded.events.append(event)
    return recorded

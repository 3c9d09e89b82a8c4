"""What the topics recorded over an audit's range, read back for `streams.audit_replay`.

The replay reads through a `RecordSource`: `KafkaRecords` (here: the topics) or `streams.audit_archive.
ArchiveRecords` (the compliance archive), which give the same `RawRecord`s from the same starting records, so
everything downstream (decoding, the stages' replay, the comparison) is one code for both.

Every partition is read from the first record stamped at or after the range's start (`offsets_for_times`:
a record is stamped when it is produced, after the fact it carries happened) to the partition's end as it
was when the read began, so a record written meanwhile does not make the read run after it. The consumer
only reads: it is assigned its partitions and never commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from confluent_kafka import Consumer, KafkaError, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from processors.archive.reading import PartitionReach
from schemas.errors import ConfigError, DecodeError
from streams.strategy_inputs import RunnerInputs

MS = 1_000_000
POLL_S = 10.0   # a partition that gives nothing for this long before its recorded end is an error


@dataclass(slots=True)
class RawRecord:
    topic: str
    partition: int
    offset: int
    kafka_ns: int      # the record's Kafka timestamp (0: none)
    value: bytes | None
    key: bytes | None = None


class RecordSource(Protocol):
    """Where a replay reads the record."""

    def read(self, topic: str, from_ns: int | None) -> Iterator[RawRecord]:
        """Every record of `topic` (its name on the broker) from the first stamped at or after `from_ns` (None:
        from the beginning), each partition's in offset order."""

    @property
    def runner_inputs(self) -> RunnerInputs | None:
        """The strategy runners' inputs; None: the runner's own consumer of the topics."""

    def stops_before(self, end_ns: int) -> list[PartitionReach]:
        """The partitions read so far whose record this source does not hold up to `end_ns`."""


@dataclass(frozen=True, slots=True)
class KafkaRecords:
    """The record as the topics hold it: each partition from `offsets_for_times` to its end as the read began."""

    kafka: KafkaSettings
    group_id: str = "tradestream-audit"

    def read(self, topic: str, from_ns: int | None) -> Iterator[RawRecord]:
        return read_raw(self.kafka, topic, from_ns, self.group_id)

    @property
    def runner_inputs(self) -> RunnerInputs | None:
        return None

    def stops_before(self, end_ns: int) -> list[PartitionReach]:
        """None: the topics are read to their ends as the read began."""
        return []


@dataclass(slots=True)
class Recorded:
    """A topic's decoded events in the range, and where its records that do not decode are."""

    events: list[Any] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def read_raw(kafka: KafkaSettings, topic: str, from_ns: int | None, group_id: str) -> Iterator[RawRecord]:
    """Every record of `topic` from the first stamped at or after `from_ns` (None: from the beginning) to the
    partitions' ends at the start of the read; each partition's records in offset order, the partitions read
    together (one after the other, each partition's tail would cost a consume's wait)."""
    consumer = Consumer(consumer_config(kafka, group_id, **{"enable.partition.eof": True}))
    try:
        partitions = partitions_of(consumer, topic)
        if not partitions:
            raise ConfigError(f"topic {topic} does not exist: is TOPIC_PREFIX the one the recorded run used?")
        bounds = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions}
        if from_ns is None:
            starts = [TopicPartition(topic, p, bounds[p][0]) for p in partitions]
        else:
            starts = consumer.offsets_for_times([TopicPartition(topic, p, from_ns // MS) for p in partitions],
                                                timeout=10)
        # Nothing stamped at or after the start (-1), or nothing at all: the partition is not read.
        wanted = [tp for tp in starts if 0 <= tp.offset < bounds[tp.partition][1]]
        yield from _read(consumer, wanted, {tp.partition: bounds[tp.partition][1] for tp in wanted})
    finally:
        consumer.close()


def _read(consumer: Consumer, wanted: list[TopicPartition], ends: dict[int, int]) -> Iterator[RawRecord]:
    if not wanted:
        return
    consumer.assign(wanted)
    left = set(ends)
    deadline = time.monotonic() + POLL_S
    while left:
        messages = consumer.consume(5_000, 0.05)
        if messages:
            deadline = time.monotonic() + POLL_S
        elif time.monotonic() > deadline:
            raise ConfigError(f"{wanted[0].topic} partitions {sorted(left)}: nothing read for {POLL_S:.0f} s before "
                              "their recorded ends")
        for message in messages:
            partition, error = message.partition(), message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    left.discard(partition)
                continue
            if partition not in left or message.offset() >= ends[partition]:
                continue
            stamp = message.timestamp()[1]
            yield RawRecord(message.topic(), partition, message.offset(), stamp * MS if stamp > 0 else 0,
                            message.value(), message.key())
            if message.offset() >= ends[partition] - 1:
                left.discard(partition)


def read_recorded(source: RecordSource, codec: AvroCodec, topic: str, start_ns: int, end_ns: int,
                  keep: Callable[[Any], bool], when: Callable[[Any], int] = lambda e: e.ts_event) -> Recorded:
    """The events of `topic` (its name on the broker) whose time (`when`: ts_event by default) is in
    [start_ns, end_ns) and that `keep` accepts."""
    recorded = Recorded()
    for record in source.read(topic, start_ns):
        try:
            event = codec.decode(record.value)
        except DecodeError as exc:
            recorded.unreadable.append(f"{record.topic}[{record.partition}]@{record.offset}: {exc}")
            continue
        if start_ns <= when(event) < end_ns and keep(event):
            recorded.events.append(event)
    return recorded

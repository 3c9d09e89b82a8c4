"""The audit replay's record read from the compliance archive instead of the topics (`--source archive`).

    source = ArchiveRecords(ArchiveReader(store, key_prefix))
    codec = AvroCodec(source.reader.schemas)      # the writer schemas come from the objects, not a registry
    AuditReplay(kafka, codec, ..., source=source)

`read` gives the same `RawRecord`s as `streams.audit_record.KafkaRecords`: each partition from its first record
stamped at or after the start (as `offsets_for_times` finds it) to the end of the archive, in offset order, the
value as the topic held it. The strategy runners read through `RecordedConsumer`, a stand-in for their consumer:
each partition's records in offset order, the partitions interleaved by Kafka timestamp as a consumer's fetches
roughly interleave them, and an end of partition after each partition's last record; the runner's merge orders
them by event time from there, as live. `stops_before(end_ns)` names the partitions read that the archive does
not hold to `end_ns` (`ArchiveReader.reach`): the replay compares only up to the earliest of them. Nothing here makes a Kafka client: a replay from the archive needs no
broker (a test asserts it), and asks no schema registry.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from typing import Any

from confluent_kafka import TIMESTAMP_CREATE_TIME, KafkaError

from connectors.s3archive.reader import ArchivedRecord, ArchiveReader
from processors.archive.reading import PartitionReach
from schemas.errors import ArchiveError
from streams.audit_record import RawRecord
from streams.strategy_inputs import RunnerInputs

MS = 1_000_000


def _raw(record: ArchivedRecord) -> RawRecord:
    return RawRecord(record.topic, record.partition, record.offset, record.timestamp_ms * MS, record.value,
                     record.key)


class ArchiveRecords:
    """The record as the archive holds it (a `streams.audit_record.RecordSource`)."""

    def __init__(self, reader: ArchiveReader) -> None:
        self.reader = reader
        self.partitions_read: set[tuple[str, int]] = set()

    def _partitions(self, topic: str) -> list[int]:
        partitions = self.reader.partitions(topic)
        self.partitions_read.update((topic, partition) for partition in partitions)
        return partitions

    def read(self, topic: str, from_ns: int | None) -> Iterator[RawRecord]:
        """Every record of `topic`, partition after partition, each from its first stamped at or after `from_ns`."""
        from_ms = None if from_ns is None else from_ns // MS
        for partition in self._partitions(topic):
            for record in self.reader.records(topic, partition, from_ms):
                yield _raw(record)

    @property
    def runner_inputs(self) -> RunnerInputs:
        return self.consumer

    def consumer(self, from_start: list[tuple[str, int]], from_beginning: list[tuple[str, int]],
                 start_ns: int) -> tuple[RecordedConsumer, list[int]]:
        """The runner's partitions (those the archive holds) and merge ids, as `assign_inputs` gives them."""
        streams: dict[int, tuple[str, int, Iterator[ArchivedRecord]]] = {}
        for pairs, from_ms in ((from_start, start_ns // MS), (from_beginning, None)):
            for topic, base in pairs:
                for partition in self._partitions(topic):
                    streams[base + partition] = (topic, partition, self.reader.records(topic, partition, from_ms))
        return RecordedConsumer(list(streams.values())), list(streams)

    def stops_before(self, end_ns: int) -> list[PartitionReach]:
        """The partitions read so far that the archive does not hold up to `end_ns`, in topic and partition order."""
        reaches = (self.reader.reach(topic, partition) for topic, partition in sorted(self.partitions_read))
        return [reach for reach in reaches if reach.archived_to_ms * MS < end_ns]

    def require(self, topics: list[str]) -> None:
        """ArchiveError unless the archive holds a record of at least one of `topics` (the replay's input): an
        archive under another ARCHIVE_KEY_PREFIX, or of another TOPIC_PREFIX, would replay nothing, silently."""
        if not any(self.reader.partitions(topic) for topic in topics):
            raise ArchiveError(f"the archive under {self.reader.key_prefix or 'the bucket root'!r} holds no record of "
                               f"{' or '.join(topics)}: are ARCHIVE_KEY_PREFIX and TOPIC_PREFIX those of the archiver "
                               "that archived the range, and has it run since (`tradestream archive once`)?")


class EndOfPartition:
    """The error a consumer reports at a partition's end (`enable.partition.eof`)."""

    def code(self) -> int:
        return KafkaError._PARTITION_EOF

    def str(self) -> str:
        return "end of partition"


class RecordedMessage:
    """A record as a confluent-kafka Message shows it to the strategy runner."""

    __slots__ = ("_record", "_error")

    def __init__(self, record: ArchivedRecord, error: EndOfPartition | None = None) -> None:
        self._record, self._error = record, error

    def topic(self) -> str:
        return self._record.topic

    def partition(self) -> int:
        return self._record.partition

    def offset(self) -> int:
        return self._record.offset

    def key(self) -> bytes | None:
        return self._record.key

    def value(self) -> bytes | None:
        return self._record.value

    def headers(self) -> None:
        return None

    def timestamp(self) -> tuple[int, int]:
        return TIMESTAMP_CREATE_TIME, self._record.timestamp_ms

    def error(self) -> EndOfPartition | None:
        return self._error


class RecordedConsumer:
    """Stands for the strategy runner's consumer over the archive's partitions: (topic, partition, records)."""

    def __init__(self, streams: list[tuple[str, int, Iterator[ArchivedRecord]]]) -> None:
        self._sequence = itertools.count()
        self._messages = heapq.merge(*(self._ended(*stream) for stream in streams), key=lambda item: item[:2])

    def _ended(self, topic: str, partition: int,
               stream: Iterator[ArchivedRecord]) -> Iterator[tuple[int, int, RecordedMessage]]:
        """(Kafka time so far, sequence, message) of each record, then the partition's end (also of a partition
        with no record to read: the runner's merge waits for every partition it was given). The time is the
        newest so far, so a partition's records keep their offset order whatever their timestamps."""
        newest, last = 0, ArchivedRecord(topic, partition, -1, 0, None, None)
        for record in stream:
            newest, last = max(newest, record.timestamp_ms), record
            yield newest, next(self._sequence), RecordedMessage(record)
        yield newest, next(self._sequence), RecordedMessage(last, EndOfPartition())

    def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
        return [message for _, _, message in itertools.islice(self._messages, num_messages)]

    def close(self) -> None:
        self._messages = iter(())

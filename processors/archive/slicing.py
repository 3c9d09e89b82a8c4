"""A partition's records cut into time slices: one archive object (and one manifest) per slice.

A slice holds consecutive records of one topic partition whose Kafka timestamps fall in one window of
`slice_ms` (an hour by default), aligned on the epoch. Windows only move forward: a record stamped
earlier than the open window (a late or re-ordered producer clock) joins the open slice, and none
goes before `floor_ms`, the start of the first day without a signed daily root, so a sealed day never
gains an object. A slice also ends when `max_records` is reached, and when the value schema changes
(an Avro container file has one writer schema); values that are not our Avro wire format join any
slice and are stored as bytes.

A slice covers an offset range, not only its records' offsets: it starts right after the previous
slice (or at the first record of the chain) and ends at its last record, so the ranges of a chain are
contiguous by construction, offsets without a record (transaction markers, compacted records) included.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """One record as the archive keeps it; `schema_id` is the registry id of a decodable value, else None."""

    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    schema_id: int | None = None


@dataclass(frozen=True, slots=True)
class Slice:
    topic: str
    partition: int
    window_start_ms: int
    window_end_ms: int
    first_offset: int
    """First offset of the range covered (the previous slice's last offset + 1, or the first record's)."""
    last_offset: int
    """Offset of the last record."""
    schema_id: int | None
    records: tuple[KafkaRecord, ...]


class PartitionSlicer:
    """Collects one partition's records in offset order and hands back each slice as it closes."""

    def __init__(self, topic: str, partition: int, *, slice_ms: int, max_records: int,
                 next_offset: int | None = None, floor_ms: int = 0) -> None:
        if slice_ms < 1000:
            raise ValueError(f"slice_ms must be at least 1000 (a second), not {slice_ms}")
        if max_records < 1:
            raise ValueError(f"max_records must be positive, not {max_records}")
        if next_offset is not None and next_offset < 0:
            raise ValueError(f"next_offset must not be negative, not {next_offset}")
        self.topic = topic
        self.partition = partition
        self.slice_ms = slice_ms
        self.max_records = max_records
        self.next_offset = next_offset
        """The first offset the next slice covers (None before the chain's first record)."""
        self.floor_ms = self._window_of(floor_ms)
        self._window: int | None = None
        self._schema_id: int | None = None
        self._records: list[KafkaRecord] = []

    def _window_of(self, timestamp_ms: int) -> int:
        return timestamp_ms - timestamp_ms % self.slice_ms

    @property
    def open_window_start_ms(self) -> int | None:
        """Start of the open slice's window, None when no slice is open."""
        return self._window if self._records else None

    def raise_floor(self, floor_ms: int) -> None:
        """No slice starts before `floor_ms` from now on (a day was sealed by its signed root)."""
        self.floor_ms = max(self.floor_ms, self._window_of(floor_ms))

    def add(self, record: KafkaRecord) -> Slice | None:
        """Take the next record; returns the slice it closed, if it starts a new one."""
        last = self._records[-1].offset if self._records else (None if self.next_offset is None
                                                               else self.next_offset - 1)
        if last is not None and record.offset <= last:
            raise ValueError(f"{self.topic}[{self.partition}] offset {record.offset} after {last}: records must "
                             "come once each, in offset order")
        window = max(self._window_of(record.timestamp_ms), self.floor_ms,
                     self._window if self._window is not None else self.floor_ms)
        closed = None
        if self._records and (window != self._window or len(self._records) >= self.max_records
                              or (record.schema_id is not None and self._schema_id is not None
                                  and record.schema_id != self._schema_id)):
            closed = self.flush()
        if not self._records:
            self._window = window
            self._schema_id = None
        if self._schema_id is None:
            self._schema_id = record.schema_id
        self._records.append(record)
        return closed

    def close_ended(self, now_ms: int) -> Slice | None:
        """Close the open slice when its window ended at or before `now_ms`."""
        if self._records and self._window is not None and self._window + self.slice_ms <= now_ms:
            return self.flush()
        return None

    def flush(self) -> Slice | None:
        """Close the open slice, whatever its window (end of a run)."""
        if not self._records:
            return None
        assert self._window is not None
        records = tuple(self._records)
        first = records[0].offset if self.next_offset is None else self.next_offset
        closed = Slice(self.topic, self.partition, self._window, self._window + self.slice_ms, first,
                       records[-1].offset, self._schema_id, records)
        self.next_offset = records[-1].offset + 1
        self._records = []
        self._schema_id = None
        return closed

"""The archive read back for a replay: which slices of a chain, whether an object may be used, and from which
record on; pure (the bucket is read by `connectors.s3archive.reader`).

    covering(manifests, from_ms)       the manifests whose slices can hold a record stamped at or after from_ms
    object_problem(entry, data)        why an object must not be used (missing, or not the bytes its manifest
                                       hashed), None when it may
    StampedFrom(from_ms)               the records of a partition from the first stamped at or after from_ms
    archived_to(manifests, newest_stamp_ms, sealed_to_ms)
                                       the instant before which the archive holds every record of a partition

A replay from the topics starts each partition at `offsets_for_times(from)`: the first offset, in offset order,
whose Kafka timestamp is at or after `from`, and reads every record after it whatever its own timestamp. The
archive gives the same records: every record of a slice is stamped before the slice's window ends (a record
joins a window at or after its own, `slicing.PartitionSlicer`), so a slice whose window ends at or before `from`
holds none of them, and within the slices after, `StampedFrom` starts at that same first record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from processors.archive.manifest import Manifest, ObjectEntry, sha256_hex


def covering(manifests: Sequence[Manifest], from_ms: int | None) -> list[Manifest]:
    """The manifests (a chain's, in offset order) that can hold a record stamped at or after `from_ms` (None: all)."""
    if from_ms is None:
        return list(manifests)
    return [m for m in manifests if m.window_end_ms > from_ms]


def object_problem(entry: ObjectEntry, data: bytes | None) -> str | None:
    """Why the object read for `entry` must not be used: None when its bytes are those the manifest hashed."""
    if data is None:
        return "is not in the bucket (deleted, or never written)"
    digest = sha256_hex(data)
    if digest != entry.sha256 or len(data) != entry.size_bytes:
        return (f"has SHA-256 {digest[:16]}… ({len(data)} bytes), its manifest says {entry.sha256[:16]}… "
                f"({entry.size_bytes} bytes): it was changed after it was archived")
    return None


class StampedFrom:
    """Takes a partition's records in offset order; `admits(timestamp_ms)` is False until the first stamped at
    or after `from_ms` (None: from the first), True for it and every record after it."""

    def __init__(self, from_ms: int | None) -> None:
        self.from_ms = from_ms
        self.started = from_ms is None

    def admits(self, timestamp_ms: int) -> bool:
        if not self.started and timestamp_ms >= self.from_ms:  # type: ignore[operator]
            self.started = True
        return self.started


@dataclass(frozen=True, slots=True)
class PartitionReach:
    """How far the archive holds one topic partition."""

    topic: str
    partition: int
    archived_to_ms: int
    """Every record of the partition stamped before this instant is in the archive, as far as it can tell."""
    last_window_end_ms: int
    """The end of the window of the partition's last archived slice (0: no slice)."""


def archived_to(manifests: Sequence[Manifest], newest_stamp_ms: int | None, sealed_to_ms: int) -> int:
    """The instant (Kafka time, ms) before which the archive holds every record of a partition whose chain is
    `manifests`: the later of `sealed_to_ms`, the end of the last day whose signed root the archive holds (the
    archiver signs a day only after reading every partition past its end), and what the chain itself shows.

    A slice closed because a later record or the clock passed its window holds its window's records, so the
    chain shows its last window's end; but a pass of the archiver writes the slice still open when it ends, so
    the last slice may stop inside its window: the chain then shows no more than its newest record
    (`newest_stamp_ms`, that slice's newest Kafka timestamp; None: unknown). A partition that had no record
    since counts as archived to its last record: the archive alone cannot tell a quiet partition from one the
    archiver has not read since, until the day's root is signed."""
    if not manifests:
        return sealed_to_ms
    own = manifests[-1].window_end_ms
    if newest_stamp_ms is not None:
        own = min(own, newest_stamp_ms + 1)
    return max(own, sealed_to_ms)

"""A partition's archive against its topic, one slice at a time, for `tradestream audit verify`; pure.

    OffsetRanges       a set of offsets kept as runs (sorted, disjoint, none adjacent to the next): a
                       partition's archived offsets are one run however many records they are
    TopicComparison    `chain.check_offsets` and `chain.check_contents` over a whole period, fed a slice at a
                       time: update(archived, on_topic) with one slice's records and the topic's records at
                       their offsets, findings() at the end, the same findings as the two checks over the period

The verifier used to hold every record of a partition for the period, archived and on the topic, and compare them
at the end: on the week of hourly slices of `benchmarks/bench_audit_verify.py` its peak memory grew with the
records verified. Here a slice's records are compared with the topic's and dropped; what stays across slices is
the archived offsets as runs (so an offset archived in two slices is still counted twice) and what is already a
finding (offsets of the topic not archived, archived offsets the topic does not hold, records that differ), as
runs too. An offset of the topic not archived by the slices so far may be archived by a later one (an object
holding records beyond its manifest's range): it is a finding only if no slice of the period archived it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence

from processors.archive.chain import Finding, RecordFacts, ranges_text
from processors.archive.container import StoredRecord


class OffsetRanges:
    """A set of offsets as runs; adding a run returns how many of its offsets were not in the set yet."""

    __slots__ = ("_firsts", "_lasts", "_count")

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []
        self._count = 0

    @classmethod
    def of(cls, offsets: Iterable[int]) -> OffsetRanges:
        ranges = cls()
        for offset in sorted(offsets):
            ranges.add(offset, offset)
        return ranges

    def add(self, first: int, last: int) -> int:
        if first > last:
            raise ValueError(f"first ({first}) must not be after last ({last})")
        firsts, lasts = self._firsts, self._lasts
        if not lasts or first > lasts[-1] + 1:          # after every run: the usual case, in offset order
            firsts.append(first)
            lasts.append(last)
            self._count += last - first + 1
            return last - first + 1
        if first >= firsts[-1]:                         # overlapping or extending the last run
            added = max(0, last - lasts[-1])
            lasts[-1] = max(last, lasts[-1])
            self._count += added
            return added
        begin = bisect_left(lasts, first - 1)           # the first run that ends at or after first - 1
        end = bisect_right(firsts, last + 1)            # after the last run that starts at or before last + 1
        known = sum(max(0, min(last, lasts[i]) - max(first, firsts[i]) + 1) for i in range(begin, end))
        merged_first = min(first, firsts[begin]) if begin < end else first
        merged_last = max(last, lasts[end - 1]) if begin < end else last
        firsts[begin:end], lasts[begin:end] = [merged_first], [merged_last]
        added = last - first + 1 - known
        self._count += added
        return added

    def update(self, other: OffsetRanges) -> int:
        return sum(self.add(first, last) for first, last in other.runs())

    def runs(self) -> list[tuple[int, int]]:
        return list(zip(self._firsts, self._lasts))

    def __len__(self) -> int:
        return self._count

    def __contains__(self, offset: object) -> bool:
        if not isinstance(offset, int):
            return False
        index = bisect_right(self._firsts, offset) - 1
        return index >= 0 and offset <= self._lasts[index]

    def __iter__(self) -> Iterator[int]:
        for first, last in zip(self._firsts, self._lasts):
            yield from range(first, last + 1)

    def __sub__(self, other: OffsetRanges) -> OffsetRanges:
        result = OffsetRanges()
        for first, last in self.runs():
            cursor = first
            index = bisect_left(other._lasts, first)
            while index < len(other._firsts) and other._firsts[index] <= last:
                if other._firsts[index] > cursor:
                    result.add(cursor, other._firsts[index] - 1)
                cursor = max(cursor, other._lasts[index] + 1)
                index += 1
            if cursor <= last:
                result.add(cursor, last)
        return result


class TopicComparison:
    """The archived records of a partition's period against the topic's, a slice at a time.

    `low` is the topic's first offset: records the topic's retention removed since are in the archive only, and
    their offsets are not compared (as `check_offsets` is given them). Each `update` gives one slice's archived
    records (each as often as archived) and the topic's records at every offset of the period's range that the
    slice's records or its manifest name, plus any offsets of the range between the slice before and this one."""

    __slots__ = ("subject", "low", "_archived", "_duplicated", "_unarchived", "_not_on_topic", "_differing",
                 "_first_difference")

    def __init__(self, subject: str, low: int) -> None:
        self.subject, self.low = subject, low
        self._archived = OffsetRanges()
        self._duplicated = 0
        self._unarchived = OffsetRanges()
        """Offsets of the topic that no slice had archived when they were read (a later one may)."""
        self._not_on_topic = OffsetRanges()
        self._differing = OffsetRanges()
        self._first_difference: tuple[int, list[str]] | None = None

    def update(self, archived: Sequence[StoredRecord], on_topic: Iterable[tuple[int, RecordFacts]]) -> None:
        by_offset: dict[int, StoredRecord] = {}
        count = 0
        for record in archived:
            if record.offset >= self.low:
                by_offset[record.offset] = record
                count += 1
        in_slice = OffsetRanges.of(by_offset)
        self._duplicated += count - self._archived.update(in_slice)
        read = OffsetRanges()
        for offset, facts in on_topic:
            read.add(offset, offset)
            record = by_offset.get(offset)
            if record is None or (record.key, record.value, record.timestamp_ms) == (facts.key, facts.value,
                                                                                      facts.timestamp_ms):
                continue
            self._differing.add(offset, offset)
            if self._first_difference is None or offset < self._first_difference[0]:
                fields = [name for name, ours, theirs in (("key", record.key, facts.key),
                                                          ("value", record.value, facts.value),
                                                          ("timestamp_ms", record.timestamp_ms, facts.timestamp_ms))
                          if ours != theirs]
                self._first_difference = offset, fields
        self._not_on_topic.update(in_slice - read)
        self._unarchived.update(read - self._archived)

    def findings(self) -> list[Finding]:
        """What `check_offsets` then `check_contents` find over the period."""
        findings = []
        if self._duplicated:
            findings.append(Finding("duplicate", self.subject, f"{self._duplicated} offsets archived twice"))
        missing = self._unarchived - self._archived
        if len(missing):
            findings.append(Finding("gap", self.subject, f"{len(missing)} records of the topic are not archived "
                                    f"(offsets {ranges_text(missing.runs())})"))
        if len(self._not_on_topic):
            findings.append(Finding("duplicate", self.subject, f"{len(self._not_on_topic)} archived offsets the "
                                    f"topic does not hold (offsets {ranges_text(self._not_on_topic.runs())})"))
        if self._first_difference is not None:
            first, fields = self._first_difference
            findings.append(Finding("tampered", self.subject, f"{len(self._differing)} archived records differ from "
                                    f"the topic's (first at offset {first}: {', '.join(fields)}; offsets "
                                    f"{ranges_text(self._differing.runs())})"))
        return findings

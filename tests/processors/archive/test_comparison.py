"""The archive against the topic a slice at a time finds what the check over the whole period finds
(`check_offsets` then `check_contents`), with offset runs that behave as a set."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from processors.archive.chain import RecordFacts, check_contents, check_offsets, check_stored_object
from processors.archive.comparison import OffsetRanges, TopicComparison
from processors.archive.container import StoredRecord, encode_slice
from processors.archive.slicing import KafkaRecord, Slice

from .test_chain import sample_object


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 6))), st.lists(st.tuples(st.integers(0, 60),
                                                                                      st.integers(0, 6))))
def test_offset_runs_behave_as_a_set(added: list[tuple[int, int]], taken: list[tuple[int, int]]) -> None:
    ranges, expected = OffsetRanges(), set()
    for first, length in added:
        new = set(range(first, first + length + 1)) - expected
        assert ranges.add(first, first + length) == len(new)
        expected |= new
    assert len(ranges) == len(expected) and list(ranges) == sorted(expected)
    assert all((offset in ranges) == (offset in expected) for offset in range(-1, 70))
    runs = ranges.runs()
    assert all(b[0] > a[1] + 1 for a, b in zip(runs, runs[1:]))     # disjoint and none adjacent
    other = OffsetRanges.of(offset for first, length in taken for offset in range(first, first + length + 1))
    assert list(ranges - other) == sorted(expected - set(other))


def facts(offset: int, tampered: frozenset[int] = frozenset()) -> RecordFacts:
    return RecordFacts(b"k", b"v%d" % offset, 1000 + offset + (1 if offset in tampered else 0))


def archived(offset: int, tampered: frozenset[int]) -> StoredRecord:
    record = facts(offset, tampered)
    return StoredRecord(offset, record.timestamp_ms, record.key, record.value)


def slice_by_slice(slices: list[tuple[int, int, list[int]]], topic: dict[int, RecordFacts], low: int,
                   tampered: frozenset[int]) -> TopicComparison:
    """What the verifier asks of the topic for each slice: from the end of the slice before (or back to the
    slice's first offset or first record), to the slice's last offset or last record, within the period."""
    first, last = max(slices[0][0], low), min(slices[-1][1], max(topic, default=-1))
    comparison, given_to = TopicComparison("t[0]", low), first - 1
    for slice_first, slice_last, offsets in slices:
        start = max(first, min([given_to + 1, slice_first, *offsets]))
        stop = min(last, max([slice_last, *offsets]))
        comparison.update([archived(o, tampered) for o in offsets],
                          [(o, topic[o]) for o in range(start, stop + 1) if o in topic])
        given_to = max(given_to, stop)
    comparison.update([], [(o, topic[o]) for o in range(given_to + 1, last + 1) if o in topic])
    return comparison


@given(st.sets(st.integers(0, 40)), st.integers(0, 6), st.frozensets(st.integers(0, 45)),
       st.lists(st.integers(1, 12), min_size=1, max_size=5), st.data())
def test_slice_by_slice_finds_what_the_check_of_the_whole_period_finds(
        on_topic: set[int], low: int, tampered: frozenset[int], lengths: list[int], data: st.DataObject) -> None:
    topic = {o: facts(o) for o in sorted(on_topic) if o >= low}
    slices, first = [], 0
    for length in lengths:          # contiguous manifests; each object may hold any offsets (tampered, duplicated)
        offsets = sorted(data.draw(st.lists(st.integers(0, 45), max_size=14)))
        slices.append((first, first + length - 1, offsets))
        first += length
    every = [o for _, _, offsets in slices for o in offsets]
    period = range(slices[0][0], slices[-1][1] + 1)
    whole_topic = {o: record for o, record in topic.items() if o in period}
    expected = [*check_offsets("t[0]", sorted(o for o in every if o >= low), sorted(whole_topic)),
                *check_contents("t[0]", {o: facts(o, tampered) for o in every}, whole_topic)]
    assert slice_by_slice(slices, topic, low, tampered).findings() == expected


def test_a_gap_and_a_duplicate_across_two_slices_are_found() -> None:
    topic = {o: facts(o) for o in range(30)}
    # Slice 0-9 lost 8-9 and slice 10-19 lost 10-11; slice 20-29 holds 18-19 again.
    slices = [(0, 9, list(range(8))), (10, 19, list(range(12, 20))), (20, 29, list(range(18, 30)))]
    found = slice_by_slice(slices, topic, 0, frozenset()).findings()
    assert [(f.kind, f.detail) for f in found] == [("duplicate", "2 offsets archived twice"),
                                                   ("gap", "4 records of the topic are not archived (offsets 8-11)")]


def test_a_stored_object_is_checked_as_a_decoded_one() -> None:
    item, data = sample_object()
    findings, records = check_stored_object(item, data, None)
    assert [f.kind for f in findings] == ["retention"] and records is not None
    assert [(r.offset, r.value) for r in records] == [(3, b"raw"), (4, b"raw"), (6, b"raw")]
    assert [f.kind for f in check_stored_object(item, None, None)[0]] == ["missing"]
    broken = encode_slice(Slice("ts.fills", 0, 0, 3_600_000, 3, 3, None, (KafkaRecord(3, 1, None, b"x", (), None),)),
                          None).data[:40]
    assert [f.kind for f in check_stored_object(item, broken, None)[0]] == ["tampered", "retention", "unreadable"]

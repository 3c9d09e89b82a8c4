"""Slices of a partition's records: windows, size and schema boundaries, offset ranges (hand-computed)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from processors.archive.slicing import KafkaRecord, PartitionSlicer

HOUR = 3_600_000


def record(offset: int, timestamp_ms: int, schema_id: int | None = 1) -> KafkaRecord:
    return KafkaRecord(offset, timestamp_ms, b"k", b"v", (), schema_id)


def slicer(**overrides: object) -> PartitionSlicer:
    arguments = {"slice_ms": HOUR, "max_records": 100, "next_offset": None, "floor_ms": 0, **overrides}
    return PartitionSlicer("ts.fills", 3, **arguments)  # type: ignore[arg-type]


def test_a_later_window_closes_the_slice_with_its_offset_range_and_window() -> None:
    s = slicer()
    assert s.add(record(5, 10 * HOUR + 1)) is None
    assert s.add(record(6, 10 * HOUR + 2)) is None
    closed = s.add(record(8, 11 * HOUR))   # offset 7 has no record (a transaction marker)
    assert closed is not None
    assert (closed.window_start_ms, closed.window_end_ms) == (10 * HOUR, 11 * HOUR)
    assert (closed.first_offset, closed.last_offset) == (5, 6)
    assert [r.offset for r in closed.records] == [5, 6]
    last = s.flush()
    assert last is not None and (last.first_offset, last.last_offset) == (7, 8)   # covers 7 too
    assert last.window_start_ms == 11 * HOUR
    assert s.flush() is None and s.next_offset == 9


def test_a_record_stamped_earlier_joins_the_open_window_never_an_earlier_one() -> None:
    s = slicer(next_offset=40)
    s.add(record(40, 5 * HOUR + 10))
    assert s.add(record(41, 3 * HOUR)) is None   # a producer clock going back: same slice
    closed = s.add(record(42, 6 * HOUR))
    assert closed is not None and [r.offset for r in closed.records] == [40, 41] and closed.first_offset == 40
    s.flush()
    late = s.add(record(43, 4 * HOUR))            # after the 6 h slice closed: still not before it
    assert late is None and s.open_window_start_ms == 6 * HOUR


def test_the_floor_keeps_sealed_days_closed() -> None:
    s = slicer(floor_ms=24 * HOUR + 5)
    s.add(record(0, 2 * HOUR))
    assert s.open_window_start_ms == 24 * HOUR
    s.raise_floor(30 * HOUR)
    closed = s.add(record(1, 2 * HOUR))
    assert closed is not None and closed.window_start_ms == 24 * HOUR and s.open_window_start_ms == 30 * HOUR


def test_max_records_and_a_schema_change_close_a_slice_undecodable_values_do_not() -> None:
    s = slicer(max_records=3)
    assert [s.add(record(i, HOUR)) for i in range(3)] == [None, None, None]
    by_size = s.add(record(3, HOUR))
    assert by_size is not None and [r.offset for r in by_size.records] == [0, 1, 2]
    assert s.add(record(4, HOUR, schema_id=None)) is None
    by_schema = s.add(record(5, HOUR, schema_id=2))
    assert by_schema is not None and [r.offset for r in by_schema.records] == [3, 4] and by_schema.schema_id == 1
    s.add(record(6, HOUR, schema_id=None))
    assert s.flush().schema_id == 2


def test_a_slice_opened_by_an_undecodable_value_takes_the_first_schema_after_it() -> None:
    s = slicer()
    s.add(record(0, HOUR, schema_id=None))
    s.add(record(1, HOUR, schema_id=9))
    assert s.add(record(2, HOUR, schema_id=9)) is None
    assert s.flush().schema_id == 9


def test_close_ended_closes_only_a_window_that_has_ended() -> None:
    s = slicer()
    s.add(record(0, HOUR + 1))
    assert s.close_ended(2 * HOUR - 1) is None
    closed = s.close_ended(2 * HOUR)
    assert closed is not None and closed.last_offset == 0


def test_records_must_come_once_in_offset_order() -> None:
    s = slicer(next_offset=10)
    with pytest.raises(ValueError, match="offset 9 after 9"):
        s.add(record(9, HOUR))
    s.add(record(10, HOUR))
    with pytest.raises(ValueError, match="offset 10 after 10"):
        s.add(record(10, HOUR))


@pytest.mark.parametrize(("name", "value"), [("slice_ms", 999), ("max_records", 0), ("next_offset", -1)])
def test_parameters_are_checked(name: str, value: int) -> None:
    with pytest.raises(ValueError, match=name):
        slicer(**{name: value})


@hypothesis_settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(1, 3), st.integers(-2 * HOUR, 3 * HOUR), st.sampled_from([None, 1, 2])),
                      min_size=1, max_size=60),
       max_records=st.integers(1, 7), start=st.integers(0, 50), floor_hours=st.integers(0, 30))
def test_slices_cover_every_record_once_contiguously(steps: list[tuple[int, int, int | None]], max_records: int,
                                                     start: int, floor_hours: int) -> None:
    s = slicer(max_records=max_records, next_offset=start, floor_ms=floor_hours * HOUR)
    records, offset, clock = [], start - 1, 20 * HOUR
    for gap, jump, schema_id in steps:
        offset += gap
        clock = max(0, clock + jump)
        records.append(record(offset, clock, schema_id))
    pieces = [piece for r in records if (piece := s.add(r)) is not None]
    pieces.append(s.flush())
    assert [r for piece in pieces for r in piece.records] == records          # each record once, in order
    assert pieces[0].first_offset == start and pieces[-1].last_offset == records[-1].offset
    for before, after in zip(pieces, pieces[1:]):
        assert after.first_offset == before.last_offset + 1                   # contiguous ranges
        assert after.window_start_ms >= before.window_start_ms                 # windows only move forward
    for piece in pieces:
        assert 1 <= len(piece.records) <= max_records
        assert piece.window_start_ms >= floor_hours * HOUR and piece.window_start_ms % HOUR == 0
        assert len({r.schema_id for r in piece.records} - {None}) <= 1          # one writer schema per file
        assert piece.first_offset <= piece.records[0].offset and piece.last_offset == piece.records[-1].offset

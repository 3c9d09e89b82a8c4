"""Reading the archive back for a replay: the slices that can hold a record stamped from an instant on, the
first record a replay from the topics would read (as `offsets_for_times` finds it), an object against its
manifest entry, and the Kafka values of a file rebuilt as the topic held them."""

from __future__ import annotations

import io
import json

import fastavro

from processors.archive.container import StoredRecord, encode_slice, read_container, stored_records
from processors.archive.manifest import Manifest, ObjectEntry, sha256_hex
from processors.archive.reading import StampedFrom, archived_to, covering, object_problem
from processors.archive.slicing import KafkaRecord, Slice

HOUR_MS = 3_600_000
SCHEMA = {"type": "record", "name": "Probe", "fields": [{"name": "n", "type": "long"}]}


def manifest(first: int, last: int, window_start_ms: int) -> Manifest:
    return Manifest(topic="ts.fills", partition=0, sequence=first // 10, record_class="trade_record",
                    window_start_ms=window_start_ms, window_end_ms=window_start_ms + HOUR_MS, first_offset=first,
                    last_offset=last, objects=(), previous_manifest_sha256="0" * 64)


def entry(data: bytes) -> ObjectEntry:
    return ObjectEntry(key="data/ts.fills/0/x.avro", sha256=sha256_hex(data), size_bytes=len(data), records=1,
                       first_offset=0, last_offset=0, lock_mode="COMPLIANCE", retain_until="2032-01-01T00:00:00Z")


def test_only_the_slices_whose_window_ends_after_the_start_can_hold_a_record_stamped_from_it() -> None:
    chain = [manifest(0, 9, 0), manifest(10, 19, HOUR_MS), manifest(20, 29, 2 * HOUR_MS)]
    assert covering(chain, None) == chain
    assert covering(chain, HOUR_MS) == chain[1:]            # the first window ends at the start: not read
    assert covering(chain, HOUR_MS - 1) == chain            # a record stamped at its last millisecond may be there
    assert covering(chain, 3 * HOUR_MS) == []


def test_the_first_record_stamped_at_or_after_the_start_and_every_record_after_it_in_offset_order() -> None:
    # Offsets 0..5 stamped out of order, as producers' clocks leave them: offsets_for_times(100) is offset 2;
    # offset 3, stamped before 100, comes after it on the partition and is read as the topics give it.
    start = StampedFrom(100)
    assert [ts for ts in (90, 99, 100, 95, 130, 80) if start.admits(ts)] == [100, 95, 130, 80]
    everything = StampedFrom(None)
    assert all(everything.admits(ts) for ts in (0, 5, 1))


def test_a_chain_is_archived_to_its_last_window_or_newest_record_and_a_sealed_day_to_its_end() -> None:
    chain = [manifest(0, 9, 0), manifest(10, 19, HOUR_MS)]
    assert archived_to(chain, None, 0) == 2 * HOUR_MS                 # the last window's end when nothing else is known
    assert archived_to(chain, HOUR_MS + 500, 0) == HOUR_MS + 501      # a pass that stopped inside the window
    assert archived_to(chain, 2 * HOUR_MS - 1, 0) == 2 * HOUR_MS
    assert archived_to(chain, HOUR_MS + 500, 24 * HOUR_MS) == 24 * HOUR_MS    # the day's signed root vouches for it
    assert archived_to(chain, None, HOUR_MS) == 2 * HOUR_MS
    assert archived_to([], None, 24 * HOUR_MS) == 24 * HOUR_MS and archived_to([], None, 0) == 0


def test_an_object_is_used_only_as_its_manifest_hashed_it() -> None:
    data = b"the archived bytes"
    assert object_problem(entry(data), data) is None
    assert "is not in the bucket" in object_problem(entry(data), None)
    changed = object_problem(entry(data), b"the archived bytez")
    assert changed is not None and "changed after it was archived" in changed
    assert f"{sha256_hex(data)[:16]}…" in changed
    longer = object_problem(entry(data), data + b"!")
    assert longer is not None and f"({len(data) + 1} bytes)" in longer


def test_the_kafka_values_of_a_file_are_those_its_rows_give_one_by_one() -> None:
    def framed(n: int) -> bytes:
        out = io.BytesIO()
        out.write(b"\x00" + (42).to_bytes(4, "big"))
        fastavro.schemaless_writer(out, fastavro.parse_schema(dict(SCHEMA)), {"n": n})
        return out.getvalue()

    records = (KafkaRecord(0, 1, b"k", framed(1), (), 42), KafkaRecord(1, 2, None, b"junk", (), None),
               KafkaRecord(2, 3, None, None, (), None), KafkaRecord(3, 4, b"k", framed(300), (), 42))
    container = read_container(encode_slice(Slice("ts.fills", 0, 0, HOUR_MS, 0, 3, 42, records),
                                            json.dumps(SCHEMA)).data)
    assert container.kafka_values() == [framed(1), b"junk", None, framed(300)]
    assert container.kafka_values() == [container.kafka_value(row) for row in container.rows]
    assert stored_records(encode_slice(Slice("ts.fills", 0, 0, HOUR_MS, 0, 3, 42, records), json.dumps(SCHEMA),
                                       block_bytes=20).data) == (container.metadata, [
        StoredRecord(0, 1, b"k", framed(1)), StoredRecord(1, 2, None, b"junk"), StoredRecord(2, 3, None, None),
        StoredRecord(3, 4, b"k", framed(300))])
    assert read_container(encode_slice(Slice("ts.fills", 0, 0, HOUR_MS, 0, 0, None, records[1:2]),
                                       None).data).kafka_values() == [b"junk"]
    with_headers = (KafkaRecord(5, 6, None, framed(2), (("source", b"x"), ("empty", None)), 42),)
    assert stored_records(encode_slice(Slice("ts.fills", 0, 0, HOUR_MS, 5, 5, 42, with_headers),
                                       json.dumps(SCHEMA)).data)[1] == [StoredRecord(5, 6, None, framed(2))]

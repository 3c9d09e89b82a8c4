"""The archive reader on an archive in memory (a hand-written store): the records of a partition from the first
stamped at or after the start, in offset order across slices, their values as the topic held them; an object
missing or changed, and a manifest out of its chain, stop the read with the key named; the writer schemas of the
objects answer the codec as a registry would, an older version resolved to the current one."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

import fastavro
import pytest

from connectors.kafka.codec import AvroCodec
from connectors.s3archive.reader import ArchivedSchemas, ArchiveReader
from processors.archive.container import encode_slice
from processors.archive.manifest import GENESIS, Manifest, ObjectEntry, manifest_key, object_key, sha256_hex
from processors.archive.slicing import KafkaRecord, Slice
from processors.model import TradeTickBatch
from schemas.errors import ArchiveError, ConfigError

HOUR_MS = 3_600_000
TOPIC = "ts.ticks.batches"
PREFIX = "a/"
VERSION_1 = json.loads((Path(__file__).resolve().parents[1] / "schemas/history/trade_tick_batch.v1.avsc").read_text())
SCHEMA_ID = 7


class MemoryStore:
    """The bucket's reads, from a dict."""

    bucket = "memory"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def keys(self, prefix: str, start_after: str = "") -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix) and k > start_after)

    def get(self, key: str) -> bytes | None:
        return self.objects.get(key)


def batch(n: int) -> bytes:
    """A TradeTickBatch value written under version 1 of its schema (one record per print)."""
    out = io.BytesIO()
    out.write(b"\x00" + SCHEMA_ID.to_bytes(4, "big"))
    fastavro.schemaless_writer(out, fastavro.parse_schema(VERSION_1), {
        "symbol": "SPY", "feed": "sim", "ts_init": n, "ticks": [
            {"ts_event": n, "ts_init": n, "price": Decimal(600 + n), "size": 100, "trade_id": f"t{n}", "exchange": "X",
             "conditions": []}]})
    return out.getvalue()


def archive(store: MemoryStore, partition: int, slices: list[list[tuple[int, int]]]) -> list[str]:
    """A chain of `slices`, each a list of (offset, timestamp_ms) in its window (the hour of its first record);
    returns the object keys."""
    previous, keys, first = GENESIS, [], None
    for sequence, rows in enumerate(slices):
        first = rows[0][0] if first is None else first
        window = rows[0][1] - rows[0][1] % HOUR_MS
        records = tuple(KafkaRecord(offset, ts, b"SPY", batch(offset), (), SCHEMA_ID) for offset, ts in rows)
        data = encode_slice(Slice(TOPIC, partition, window, window + HOUR_MS, first, rows[-1][0], SCHEMA_ID,
                                  records), json.dumps(VERSION_1)).data
        key = object_key(PREFIX, TOPIC, partition, first, rows[-1][0])
        store.objects[key] = data
        manifest = Manifest(topic=TOPIC, partition=partition, sequence=sequence, record_class="other",
                            window_start_ms=window, window_end_ms=window + HOUR_MS, first_offset=first,
                            last_offset=rows[-1][0], previous_manifest_sha256=previous, objects=(ObjectEntry(
                                key=key, sha256=sha256_hex(data), size_bytes=len(data), records=len(rows),
                                first_offset=first, last_offset=rows[-1][0], lock_mode="COMPLIANCE",
                                retain_until="2032-01-01T00:00:00Z"),))
        body = manifest.to_bytes()
        store.objects[manifest_key(PREFIX, TOPIC, partition, first, rows[-1][0])] = body
        previous, first = sha256_hex(body), rows[-1][0] + 1
        keys.append(key)
    return keys


def day_archive() -> tuple[MemoryStore, list[str]]:
    store = MemoryStore()
    keys = archive(store, 0, [[(0, 10), (1, 20)], [(2, HOUR_MS + 5), (3, HOUR_MS + 1), (4, HOUR_MS + 9)],
                              [(6, 2 * HOUR_MS), (7, 2 * HOUR_MS + 1)]])
    archive(store, 1, [[(0, 30)]])
    return store, keys


def test_a_partition_is_read_from_its_first_record_stamped_at_or_after_the_start_in_offset_order() -> None:
    store, _ = day_archive()
    reader = ArchiveReader(store, PREFIX)
    assert reader.partitions(TOPIC) == [0, 1] and reader.partitions("ts.fills") == []
    everything = list(reader.records(TOPIC, 0))
    assert [r.offset for r in everything] == [0, 1, 2, 3, 4, 6, 7]
    assert everything[0].value == batch(0) and everything[0].key == b"SPY" and everything[0].timestamp_ms == 10
    # offsets_for_times(HOUR_MS + 2) is offset 2 (stamped HOUR_MS + 5); offset 3, stamped earlier, follows it.
    assert [r.offset for r in reader.records(TOPIC, 0, HOUR_MS + 2)] == [2, 3, 4, 6, 7]
    assert [r.offset for r in reader.records(TOPIC, 0, HOUR_MS + 6)] == [4, 6, 7]
    assert [r.offset for r in reader.records(TOPIC, 0, 3 * HOUR_MS)] == []
    assert reader.objects_read == 3   # each object fetched and checked once: the next reads take its records kept
    manifests = [k for k in store.objects if k.startswith(f"{PREFIX}manifests/")]
    for key in manifests:    # each chain's manifests are read and checked once per reader
        del store.objects[key]
    assert [r.offset for r in reader.records(TOPIC, 0, HOUR_MS + 6)] == [4, 6, 7]


def test_the_records_kept_are_bounded_and_an_object_no_longer_kept_is_fetched_and_checked_again() -> None:
    store, keys = day_archive()
    unkept = ArchiveReader(store, PREFIX, cached_records=0)
    for from_ms in (None, HOUR_MS + 2, HOUR_MS + 6, 3 * HOUR_MS):
        list(unkept.records(TOPIC, 0, from_ms))
    assert unkept.objects_read == 3 + 2 + 2 + 0   # a slice whose window ends at or before the start: not read
    reader = ArchiveReader(store, PREFIX, cached_records=5)   # the last two objects (3 and 2 records) at most
    assert [r.offset for r in reader.records(TOPIC, 0)] == [0, 1, 2, 3, 4, 6, 7] and reader.objects_read == 3
    assert [r.offset for r in reader.records(TOPIC, 0, HOUR_MS + 2)] == [2, 3, 4, 6, 7] and reader.objects_read == 3
    store.objects[keys[0]] = store.objects[keys[0]][:-1] + b"\x00"   # changed after the first read: found again
    with pytest.raises(ArchiveError, match=f"archive object {keys[0]} has SHA-256"):
        list(reader.records(TOPIC, 0))


def test_an_object_changed_or_missing_stops_the_read_before_any_of_its_records_is_used() -> None:
    store, keys = day_archive()
    store.objects[keys[1]] = store.objects[keys[1]][:-1] + b"\x00"
    read = ArchiveReader(store, PREFIX).records(TOPIC, 0)
    assert [next(read).offset, next(read).offset] == [0, 1]
    with pytest.raises(ArchiveError, match=f"archive object {keys[1]} has SHA-256 .* changed after it was archived"):
        next(read)
    del store.objects[keys[0]]
    with pytest.raises(ArchiveError, match=f"archive object {keys[0]} is not in the bucket"):
        list(ArchiveReader(store, PREFIX).records(TOPIC, 0))


def test_a_manifest_out_of_its_chain_stops_the_read() -> None:
    store, _ = day_archive()
    second = sorted(k for k in store.objects if "/manifests/" in f"/{k}" and f"{TOPIC}/0/" in k)[1]
    manifest = Manifest.from_bytes(store.objects[second])
    store.objects[second] = Manifest(**{**{f: getattr(manifest, f) for f in manifest.__dataclass_fields__},
                                        "previous_manifest_sha256": "1" * 64}).to_bytes()
    with pytest.raises(ArchiveError, match="previous-manifest hash .* run `tradestream audit verify`"):
        list(ArchiveReader(store, PREFIX).records(TOPIC, 0))


def test_the_objects_writer_schemas_answer_the_codec_and_an_older_version_resolves_to_the_current() -> None:
    store, _ = day_archive()
    reader = ArchiveReader(store, PREFIX)
    codec = AvroCodec(reader.schemas)
    events = [codec.decode(record.value, "TradeTickBatch") for record in reader.records(TOPIC, 0)]
    assert all(isinstance(e, TradeTickBatch) for e in events)
    assert [e.trades()[0].price for e in events] == [Decimal(p) for p in (600, 601, 602, 603, 604, 606, 607)]
    with pytest.raises(Exception, match="schema id 8 is in no archived object's header"):
        codec.decode(b"\x00\x00\x00\x00\x08\x00")


def test_one_schema_id_with_two_schemas_is_refused() -> None:
    schemas = ArchivedSchemas()
    schemas.learn(1, json.dumps(VERSION_1), "a")
    schemas.learn(1, json.dumps(VERSION_1, indent=2), "b")       # the same schema, written otherwise
    with pytest.raises(ArchiveError, match="c carries another schema under id 1"):
        schemas.learn(1, json.dumps({"type": "record", "name": "Other", "fields": []}), "c")


def test_a_key_prefix_must_be_a_folder() -> None:
    with pytest.raises(ConfigError, match="ARCHIVE_KEY_PREFIX='a' must end with '/'"):
        ArchiveReader(MemoryStore(), "a")


def test_a_partition_is_archived_to_its_newest_record_or_its_last_days_signed_root() -> None:
    store, keys = day_archive()
    reader = ArchiveReader(store, PREFIX)
    # Partition 0's last slice (window 2h-3h) holds records to 2h + 1: a pass ended inside its window.
    assert reader.reach(TOPIC, 0).archived_to_ms == 2 * HOUR_MS + 2
    assert reader.reach(TOPIC, 0).last_window_end_ms == 3 * HOUR_MS
    assert reader.objects_read == 1                              # the last slice, read to find its newest record
    assert reader.reach(TOPIC, 1).archived_to_ms == 31
    # Read by a replay, the last slice is not read again; a changed one would have stopped that read.
    reader = ArchiveReader(store, PREFIX)
    assert [r.offset for r in reader.records(TOPIC, 0, HOUR_MS + 6)] == [4, 6, 7]
    assert reader.reach(TOPIC, 0).archived_to_ms == 2 * HOUR_MS + 2 and reader.objects_read == 2
    store.objects[keys[2]] = store.objects[keys[2]][:-1] + b"\x00"
    with pytest.raises(ArchiveError, match=f"archive object {keys[2]} has SHA-256"):
        ArchiveReader(store, PREFIX).reach(TOPIC, 0)
    # The root of 1970-01-01 is signed: every partition is archived to that day's end, the changed object unread.
    store.objects[f"{PREFIX}roots/1970-01-01.json"] = b"{}"
    sealed = ArchiveReader(store, PREFIX)
    assert sealed.reach(TOPIC, 0).archived_to_ms == sealed.reach(TOPIC, 1).archived_to_ms == 24 * HOUR_MS
    assert sealed.objects_read == 0

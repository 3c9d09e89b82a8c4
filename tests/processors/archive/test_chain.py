"""Manifests, their keys and the checks of `audit verify` over them (expectations written out by hand)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

import pytest

from processors.archive.chain import (StoredManifest, check_chain, check_object, check_offsets, check_retention,
                                      check_versions)
from processors.archive.container import encode_slice, read_container
from processors.archive.manifest import (GENESIS, Manifest, ObjectEntry, manifest_key, object_key, parse_range,
                                         root_key)
from processors.archive.slicing import KafkaRecord, Slice

UTC = dt.timezone.utc


def test_keys_name_the_offset_range_zero_padded() -> None:
    assert object_key("a/", "ts.fills", 2, 10, 19) == "a/data/ts.fills/2/00000000000000000010-00000000000000000019.avro"
    assert manifest_key("", "ts.fills", 0, 0, 9) == "manifests/ts.fills/0/00000000000000000000-00000000000000000009.json"
    assert root_key("a/", dt.date(2026, 12, 5)) == "a/roots/2026-12-05.json"
    assert parse_range("x/00000000000000000010-00000000000000000019.json") == (10, 19)
    with pytest.raises(ValueError):
        parse_range("x/10-19.json")


def entry(first: int, last: int, **overrides: object) -> ObjectEntry:
    values = {"key": f"d/{first}-{last}", "sha256": "ab" * 32, "size_bytes": 3, "records": last - first + 1,
              "first_offset": first, "last_offset": last, "lock_mode": "COMPLIANCE",
              "retain_until": "2032-12-06T00:00:00Z", **overrides}
    return ObjectEntry(**values)  # type: ignore[arg-type]


def manifest(sequence: int, first: int, last: int, previous: str) -> Manifest:
    return Manifest(topic="ts.fills", partition=0, sequence=sequence, record_class="trade_record",
                    window_start_ms=sequence * 3_600_000, window_end_ms=(sequence + 1) * 3_600_000,
                    first_offset=first, last_offset=last, objects=(entry(first, last),), previous_manifest_sha256=previous)


def chain_of(*ranges: tuple[int, int]) -> list[StoredManifest]:
    stored, previous = [], GENESIS
    for sequence, (first, last) in enumerate(ranges):
        data = manifest(sequence, first, last, previous).to_bytes()
        stored.append(StoredManifest(manifest_key("", "ts.fills", 0, first, last), data))
        previous = hashlib.sha256(data).hexdigest()
    return stored


def test_a_manifest_is_canonical_json_and_reads_back() -> None:
    m = manifest(0, 0, 9, GENESIS)
    data = m.to_bytes()
    assert data.startswith(b'{"first_offset":0,"format":"tradestream-archive-manifest/1","last_offset":9,')
    assert b" " not in data and Manifest.from_bytes(data) == m
    with pytest.raises(ValueError, match="format"):
        Manifest.from_bytes(data.replace(b"manifest/1", b"manifest/9"))
    with pytest.raises(ValueError, match="not a manifest"):
        Manifest.from_bytes(b'{"topic": "x"}')


def test_a_sound_chain_has_no_findings() -> None:
    findings, parsed = check_chain("ts.fills", 0, chain_of((0, 9), (10, 19), (20, 24)))
    assert findings == [] and [m.sequence for _, m in parsed] == [0, 1, 2]


def test_a_gap_an_overlap_and_a_broken_link_are_found() -> None:
    stored = chain_of((0, 9), (12, 19))
    findings, _ = check_chain("ts.fills", 0, stored)
    assert [(f.kind, f.detail) for f in findings] == [("gap", "offsets 10-11 are in no manifest")]
    findings, _ = check_chain("ts.fills", 0, chain_of((0, 9), (5, 19)))
    assert [(f.kind, f.detail) for f in findings] == [("duplicate", "offsets 5-9 are in two manifests")]
    swapped = [StoredManifest(stored[0].key, stored[1].data), StoredManifest(stored[1].key, stored[0].data)]
    kinds = [(f.kind, f.subject == stored[0].key) for f in check_chain("ts.fills", 0, swapped)[0]]
    # First key: names 0-9 but holds 12-19, sequence 1 at 0, a link to a manifest that is not before it;
    # second key: the same three the other way round, and offsets 0-9 after 12-19 overlap.
    assert kinds.count(("chain", True)) == 3 and kinds.count(("chain", False)) == 3
    assert ("duplicate", False) in kinds


def test_a_chain_read_from_a_signed_head_starts_at_its_sequence() -> None:
    stored = chain_of((0, 9), (10, 19), (20, 29))
    findings, parsed = check_chain("ts.fills", 0, stored[1:], first_sequence=1, first_previous=None)
    assert findings == [] and [m.sequence for _, m in parsed] == [1, 2]
    findings, _ = check_chain("ts.fills", 0, stored[1:], first_sequence=2, first_previous=None)
    assert [f.detail for f in findings] == ["sequence 1 at position 2", "sequence 2 at position 3"]


def test_an_unreadable_manifest_is_a_finding_and_the_next_link_still_checked() -> None:
    stored = chain_of((0, 9), (10, 19))
    damaged = [StoredManifest(stored[0].key, b"{broken"), stored[1]]
    findings, parsed = check_chain("ts.fills", 0, damaged)
    assert [f.kind for f in findings] == ["unreadable", "chain"]   # the second links to the original bytes
    assert len(parsed) == 1


def sample_object() -> tuple[ObjectEntry, bytes]:
    records = tuple(KafkaRecord(o, 1000 + o, None, b"raw", (), None) for o in (3, 4, 6))
    data = encode_slice(Slice("ts.fills", 0, 0, 3_600_000, 3, 6, None, records), None).data
    return entry(3, 6, key="d/3-6", sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data), records=3), data


def test_an_object_matching_its_entry_gives_its_offsets() -> None:
    item, data = sample_object()
    until = dt.datetime(2032, 12, 6, tzinfo=UTC)
    findings, container = check_object(item, data, ("COMPLIANCE", until))
    assert findings == [] and container is not None and container.offsets == [3, 4, 6]


def test_missing_tampered_and_miscounted_objects_are_found() -> None:
    item, data = sample_object()
    lock = ("COMPLIANCE", dt.datetime(2032, 12, 6, tzinfo=UTC))
    assert [f.kind for f in check_object(item, None, None)[0]] == ["missing"]
    changed = bytearray(data)
    changed[-1] ^= 1
    assert "tampered" in [f.kind for f in check_object(item, bytes(changed), lock)[0]]
    assert [f.detail for f in check_object(dataclasses.replace(item, records=4), data, lock)[0]] == [
        "3 records, the manifest says 4"]
    narrower = dataclasses.replace(item, last_offset=5)
    assert [f.detail for f in check_object(narrower, data, lock)[0]] == ["1 records outside offsets 3-5 (first 6)"]


def test_retention_must_be_compliance_of_its_own_until_the_entry_date() -> None:
    item = entry(0, 1)
    assert check_retention(item, ("COMPLIANCE", dt.datetime(2032, 12, 6, tzinfo=UTC))) == []
    assert check_retention(item, ("COMPLIANCE", dt.datetime(2033, 1, 1, tzinfo=UTC))) == []
    assert [f.detail for f in check_retention(item, ("COMPLIANCE", dt.datetime(2032, 12, 5, 23, 59, 59, tzinfo=UTC)))] \
        == ["retained until 2032-12-05 23:59:59Z, the record class requires 2032-12-06T00:00:00Z"]
    assert [f.detail for f in check_retention(item, ("GOVERNANCE", dt.datetime(2040, 1, 1, tzinfo=UTC)))] == [
        "lock mode GOVERNANCE, not COMPLIANCE"]
    assert "no retention of its own" in check_retention(item, None)[0].detail


def test_archived_offsets_against_the_topic() -> None:
    assert check_offsets("t[0]", [0, 1, 2, 4], [0, 1, 2, 4]) == []
    found = {(f.kind, f.detail) for f in check_offsets("t[0]", [0, 1, 1, 9], [0, 1, 2, 3, 5, 6, 7])}
    assert found == {("duplicate", "1 offsets archived twice"),
                     ("gap", "5 records of the topic are not archived (offsets 2-3, 5-7)"),
                     ("duplicate", "1 archived offsets the topic does not hold (offsets 9)")}


def test_a_second_version_or_a_delete_marker_is_found() -> None:
    assert check_versions([("a", 1, 0)]) == []
    assert [(f.subject, f.kind) for f in check_versions([("a", 2, 0), ("b", 1, 1)])] == [("a", "version"),
                                                                                         ("b", "version")]


def test_manifest_json_is_what_a_reader_without_our_code_sees() -> None:
    body = json.loads(manifest(1, 10, 19, "cd" * 32).to_bytes())
    assert body["objects"][0]["first_offset"] == 10 and body["previous_manifest_sha256"] == "cd" * 32


def test_archived_records_are_compared_with_the_topics() -> None:
    from processors.archive.chain import RecordFacts, archived_facts, check_contents

    records = tuple(KafkaRecord(o, 1000 + o, b"k", b"raw%d" % o, (), None) for o in (3, 4))
    data = encode_slice(Slice("ts.fills", 0, 0, 3_600_000, 3, 4, None, records), None).data
    facts = archived_facts(read_container(data))
    assert facts == {3: RecordFacts(b"k", b"raw3", 1003), 4: RecordFacts(b"k", b"raw4", 1004)}
    assert check_contents("t[0]", facts, {3: RecordFacts(b"k", b"raw3", 1003), 9: RecordFacts(None, None, 0)}) == []
    found = check_contents("t[0]", facts, {3: RecordFacts(b"k", b"raw3", 1003), 4: RecordFacts(b"k", b"RAW4", 1005)})
    assert [(f.kind, f.detail) for f in found] == [
        ("tampered", "1 archived records differ from the topic's (first at offset 4: value, timestamp_ms; offsets 4)")]

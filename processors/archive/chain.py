"""The checks of `tradestream audit verify`, on what the verifier read: pure, each returns findings.

    check_chain     a partition's manifests in key order: each parses, its key names its range, its
                    sequence and previous-manifest hash link it to the one before, and the ranges are
                    contiguous (no gap, no overlap)
    check_object    an object against its manifest entry: present, same SHA-256 and size, readable, the
                    record count and offsets it claims, and its own COMPLIANCE retention at least the
                    entry's retain-until date
    check_stored_object
                    the same, with the object's records read as the topic held them (`stored_records`)
    check_offsets   the offsets archived against those the topic holds in the same range
    check_contents  each record archived against the topic's record at its offset: key, value bytes, time
    check_versions  every key of the archive has one version and no delete marker (WORM: a second
                    version is an overwrite, a delete marker a deletion, both attempts at tampering)
"""

from __future__ import annotations

import datetime as dt
import io
import json
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import fastavro

from processors.archive.container import ContainerFile, StoredRecord, read_container, stored_records
from processors.archive.manifest import GENESIS, Manifest, ObjectEntry, parse_range, parse_time, sha256_hex
from processors.archive.retention import LOCK_MODE


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str
    """tampered, missing, unreadable, chain, gap, duplicate, retention, version, root."""
    subject: str
    """The key, or `topic[partition]`."""
    detail: str

    def line(self) -> str:
        return f"{self.kind:<10} {self.subject}: {self.detail}"


@dataclass(frozen=True, slots=True)
class StoredManifest:
    key: str
    data: bytes


def check_chain(topic: str, partition: int, stored: Sequence[StoredManifest], first_sequence: int = 0,
                first_previous: str | None = GENESIS) -> tuple[list[Finding], list[tuple[str, Manifest]]]:
    """Findings over one chain, and the manifests that parsed (key, manifest), in key order. A chain read from
    a signed root's head on starts at that head's sequence, with `first_previous` None: the head is vouched for
    by its hash in the root, not by a link to the manifest before it."""
    findings: list[Finding] = []
    parsed: list[tuple[str, Manifest]] = []
    previous_hash = first_previous
    previous: Manifest | None = None
    for position, item in enumerate(stored):
        index = first_sequence + position
        try:
            manifest = Manifest.from_bytes(item.data)
        except ValueError as exc:
            findings.append(Finding("unreadable", item.key, str(exc)))
            previous_hash, previous = sha256_hex(item.data), None
            continue
        if (manifest.topic, manifest.partition) != (topic, partition):
            findings.append(Finding("chain", item.key, f"holds the manifest of {manifest.topic}[{manifest.partition}]"))
        try:
            named = parse_range(item.key)
        except ValueError as exc:
            findings.append(Finding("chain", item.key, str(exc)))
            named = None
        if named is not None and named != (manifest.first_offset, manifest.last_offset):
            findings.append(Finding("chain", item.key, f"key names offsets {named[0]}-{named[1]}, the manifest "
                                    f"{manifest.first_offset}-{manifest.last_offset}"))
        if manifest.sequence != index:
            findings.append(Finding("chain", item.key, f"sequence {manifest.sequence} at position {index}"))
        if previous_hash is not None and manifest.previous_manifest_sha256 != previous_hash:
            findings.append(Finding("chain", item.key, "previous-manifest hash "
                                    f"{manifest.previous_manifest_sha256[:16]}… is not the hash of the manifest "
                                    f"before it ({previous_hash[:16]}…)"))
        if previous is not None:
            findings.extend(_contiguity(f"{topic}[{partition}]", previous, manifest))
        findings.extend(_objects_cover(item.key, manifest))
        parsed.append((item.key, manifest))
        previous_hash, previous = sha256_hex(item.data), manifest
    return findings, parsed


def _contiguity(subject: str, before: Manifest, after: Manifest) -> list[Finding]:
    expected = before.last_offset + 1
    if after.first_offset > expected:
        return [Finding("gap", subject, f"offsets {expected}-{after.first_offset - 1} are in no manifest")]
    if after.first_offset < expected:
        return [Finding("duplicate", subject, f"offsets {after.first_offset}-{min(before.last_offset, after.last_offset)}"
                        " are in two manifests")]
    return []


def _objects_cover(key: str, manifest: Manifest) -> list[Finding]:
    position = manifest.first_offset
    for entry in manifest.objects:
        if entry.first_offset != position:
            return [Finding("chain", key, f"objects do not cover offsets {manifest.first_offset}-"
                            f"{manifest.last_offset} contiguously (at {entry.key})")]
        position = entry.last_offset + 1
    if position != manifest.last_offset + 1 or not manifest.objects:
        return [Finding("chain", key, f"objects end before offset {manifest.last_offset}")]
    return []


def check_object(entry: ObjectEntry, data: bytes | None,
                 retention: tuple[str, dt.datetime] | None) -> tuple[list[Finding], ContainerFile | None]:
    """Findings about one object (`data` None: missing; `retention` None: it has none of its own) and the
    object read (None when it cannot be)."""
    if data is None:
        return [_missing(entry)], None
    findings = _stored_findings(entry, data, retention)
    try:
        container = read_container(data)
    except ValueError as exc:
        return [*findings, Finding("unreadable", entry.key, str(exc))], None
    return [*findings, *_offset_findings(entry, container.offsets)], container


def check_stored_object(entry: ObjectEntry, data: bytes | None, retention: tuple[str, dt.datetime] | None
                        ) -> tuple[list[Finding], list[StoredRecord] | None]:
    """`check_object`'s findings, and the object's records with each value as the topic held it (None when the
    object cannot be read): read in one pass, the values cut out of the file, not decoded and encoded again."""
    if data is None:
        return [_missing(entry)], None
    findings = _stored_findings(entry, data, retention)
    try:
        _, records = stored_records(data)
    except ValueError as exc:
        return [*findings, Finding("unreadable", entry.key, str(exc))], None
    return [*findings, *_offset_findings(entry, [record.offset for record in records])], records


def _missing(entry: ObjectEntry) -> Finding:
    return Finding("missing", entry.key, "the object is not in the bucket (deleted, or never written)")


def _stored_findings(entry: ObjectEntry, data: bytes, retention: tuple[str, dt.datetime] | None) -> list[Finding]:
    findings: list[Finding] = []
    digest = sha256_hex(data)
    if digest != entry.sha256 or len(data) != entry.size_bytes:
        findings.append(Finding("tampered", entry.key, f"SHA-256 {digest[:16]}… ({len(data)} bytes), the manifest "
                                f"says {entry.sha256[:16]}… ({entry.size_bytes} bytes)"))
    findings.extend(check_retention(entry, retention))
    return findings


def _offset_findings(entry: ObjectEntry, offsets: Sequence[int]) -> list[Finding]:
    findings: list[Finding] = []
    if len(offsets) != entry.records:
        findings.append(Finding("tampered", entry.key, f"{len(offsets)} records, the manifest says {entry.records}"))
    if any(b <= a for a, b in zip(offsets, offsets[1:])):
        findings.append(Finding("duplicate", entry.key, "record offsets are not strictly increasing"))
    outside = [o for o in offsets if not entry.first_offset <= o <= entry.last_offset]
    if outside:
        findings.append(Finding("tampered", entry.key, f"{len(outside)} records outside offsets "
                                f"{entry.first_offset}-{entry.last_offset} (first {outside[0]})"))
    return findings


def check_retention(entry: ObjectEntry, retention: tuple[str, dt.datetime] | None) -> list[Finding]:
    wanted = parse_time(entry.retain_until)
    if retention is None:
        return [Finding("retention", entry.key, "the object has no retention of its own (a bucket default alone "
                        "lapses when the default is removed)")]
    mode, until = retention
    if mode != LOCK_MODE:
        return [Finding("retention", entry.key, f"lock mode {mode}, not {LOCK_MODE}")]
    if until < wanted:
        return [Finding("retention", entry.key, f"retained until {until:%Y-%m-%d %H:%M:%S}Z, the record class "
                        f"requires {entry.retain_until}")]
    return []


def check_offsets(subject: str, archived: Sequence[int], on_topic: Sequence[int]) -> list[Finding]:
    """The archived offsets of a range against the offsets the topic holds in it (both sorted)."""
    findings = []
    archived_set = set(archived)
    duplicated = len(archived) - len(archived_set)
    if duplicated:
        findings.append(Finding("duplicate", subject, f"{duplicated} offsets archived twice"))
    missing = [o for o in on_topic if o not in archived_set]
    if missing:
        findings.append(Finding("gap", subject, f"{len(missing)} records of the topic are not archived "
                                f"(offsets {_ranges(missing)})"))
    topic_set = set(on_topic)
    extra = [o for o in archived_set if o not in topic_set]
    if extra:
        findings.append(Finding("duplicate", subject, f"{len(extra)} archived offsets the topic does not hold "
                                f"(offsets {_ranges(sorted(extra))})"))
    return findings


@dataclass(frozen=True, slots=True)
class RecordFacts:
    """What a Kafka record is made of, as the topic holds it and as the archive gives it back."""

    key: bytes | None
    value: bytes | None
    timestamp_ms: int


def archived_facts(container: ContainerFile) -> dict[int, RecordFacts]:
    """Each record of a container file by offset, with its value's bytes as they were on the topic."""
    schema_text = container.metadata.get("tradestream.value_schema")
    schema = fastavro.parse_schema(json.loads(schema_text)) if schema_text is not None else None
    header = (b"\x00" + struct.pack(">I", int(container.metadata["tradestream.value_schema_id"]))
              if schema is not None else b"")
    facts = {}
    for row in container.rows:
        value = row["undecoded_value"]
        if value is None and row["value"] is not None and schema is not None:
            buffer = io.BytesIO()
            buffer.write(header)
            fastavro.schemaless_writer(buffer, schema, row["value"])
            value = buffer.getvalue()
        facts[row["offset"]] = RecordFacts(row["key"], value, row["timestamp_ms"])
    return facts


def check_contents(subject: str, archived: Mapping[int, RecordFacts], on_topic: Mapping[int, RecordFacts],
                   most: int = 5) -> list[Finding]:
    """Each offset in both: the archive must give back the topic's key, value and timestamp."""
    differing = [offset for offset in sorted(set(archived) & set(on_topic)) if archived[offset] != on_topic[offset]]
    if not differing:
        return []
    first = differing[0]
    fields = [name for name in ("key", "value", "timestamp_ms")
              if getattr(archived[first], name) != getattr(on_topic[first], name)]
    return [Finding("tampered", subject, f"{len(differing)} archived records differ from the topic's (first at offset "
                    f"{first}: {', '.join(fields)}; offsets {_ranges(differing, most)})")]


def check_versions(versions: Sequence[tuple[str, int, int]]) -> list[Finding]:
    """(key, versions, delete markers) of each key: anything but one version and no marker is a finding."""
    findings = []
    for key, count, markers in versions:
        if markers:
            findings.append(Finding("version", key, f"{markers} delete marker(s): someone deleted the object"))
        if count > 1:
            findings.append(Finding("version", key, f"{count} versions: the object was written over"))
    return findings


def _ranges(offsets: Sequence[int], most: int = 5) -> str:
    spans: list[list[int]] = []
    for offset in offsets:
        if spans and offset == spans[-1][1] + 1:
            spans[-1][1] = offset
        else:
            spans.append([offset, offset])
    return ranges_text([(a, b) for a, b in spans], most)


def ranges_text(runs: Sequence[tuple[int, int]], most: int = 5) -> str:
    """Runs of offsets (sorted, none adjacent to the next) as a finding gives them: `3, 5-7 and 2 more ranges`."""
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs[:most])
    return text + (f" and {len(runs) - most} more ranges" if len(runs) > most else "")

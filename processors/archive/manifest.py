"""The manifest of a slice and the keys of the archive's objects.

A manifest lists its slice's objects (key, SHA-256, size, record count, offset range, lock mode and
retain-until date) and carries the SHA-256 of the previous manifest of the same topic partition: a hash
chain, whose first manifest points at `GENESIS`. A manifest is stored as canonical JSON (sorted keys,
no spaces, UTF-8), and its hash is the SHA-256 of exactly those stored bytes.

Keys (under an optional prefix; offsets zero-padded to 20 digits, so the listing order is offset order):
    data/<topic>/<partition>/<first>-<last>.avro        the slice's Avro container file
    manifests/<topic>/<partition>/<first>-<last>.json   its manifest
    roots/<YYYY-MM-DD>.json                             the signed daily root
A rerun that reaches the same offsets finds the same key already there and writes nothing again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

FORMAT = "tradestream-archive-manifest/1"
GENESIS = "0" * 64
_RANGE = re.compile(r"(\d{20})-(\d{20})\.(avro|json)")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _range(first: int, last: int) -> str:
    return f"{first:020d}-{last:020d}"


def object_key(prefix: str, topic: str, partition: int, first: int, last: int) -> str:
    return f"{prefix}data/{topic}/{partition}/{_range(first, last)}.avro"


def manifest_key(prefix: str, topic: str, partition: int, first: int, last: int) -> str:
    return f"{prefix}manifests/{topic}/{partition}/{_range(first, last)}.json"


def chain_prefix(prefix: str, kind: str, topic: str, partition: int) -> str:
    """The folder of one partition's objects (`kind` "data") or manifests (`kind` "manifests")."""
    return f"{prefix}{kind}/{topic}/{partition}/"


def root_key(prefix: str, day: dt.date) -> str:
    return f"{prefix}roots/{day.isoformat()}.json"


def parse_range(key: str) -> tuple[int, int]:
    """(first, last) offsets named by an object or manifest key; ValueError for another key."""
    match = _RANGE.fullmatch(key.rsplit("/", 1)[-1])
    if match is None:
        raise ValueError(f"{key!r} is not an archive object or manifest key")
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectEntry:
    key: str
    sha256: str
    size_bytes: int
    records: int
    first_offset: int
    last_offset: int
    lock_mode: str
    retain_until: str
    """ISO-8601 UTC, seconds (`2032-12-08T00:00:00Z`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    topic: str
    partition: int
    sequence: int
    """Position in the chain, 0 for the first manifest."""
    record_class: str
    window_start_ms: int
    window_end_ms: int
    first_offset: int
    last_offset: int
    objects: tuple[ObjectEntry, ...]
    previous_manifest_sha256: str
    format: str = FORMAT

    def to_bytes(self) -> bytes:
        body = asdict(self)
        body["objects"] = [asdict(entry) for entry in self.objects]
        return canonical_json(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse stored bytes; ValueError naming what is wrong."""
        try:
            body = json.loads(data)
            objects = tuple(ObjectEntry(**entry) for entry in body.pop("objects"))
            manifest = cls(objects=objects, **body)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ValueError(f"not a manifest: {exc}"[:300]) from None
        if manifest.format != FORMAT:
            raise ValueError(f"manifest format {manifest.format!r}, expected {FORMAT!r}")
        return manifest


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)

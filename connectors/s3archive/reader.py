"""The compliance archive read back as the topics recorded it, for `tradestream audit replay --source archive`.

    reader = ArchiveReader(store, key_prefix)
    reader.partitions(topic)                      # the partitions the archive holds a chain of
    reader.records(topic, partition, from_ms)     # ArchivedRecord, in offset order
    reader.schemas                                # ArchivedSchemas: the writer schemas met so far, by registry id
    reader.reach(topic, partition)                # PartitionReach: the instant the partition is archived to

For each partition the reader lists the chain's manifests, keeps those whose slices can hold a record stamped at
or after `from_ms` (`processors.archive.reading`), checks that they link up (sequence, previous-manifest hash,
contiguous offsets: `processors.archive.chain.check_chain`), and for each object checks its SHA-256 and size
against its manifest before decoding it: an object missing or changed stops the read with an `ArchiveError`
naming it, never a record of it used. `reach` says how far the archive holds a partition
(`processors.archive.reading.archived_to`: the end of the last day with a signed root, else the end of the
partition's last slice, or its newest record when a pass stopped inside that slice's window); the root is found
by its key, not opened (its signature is `audit verify`'s). The proof of the whole archive (signed roots, retention, the topics' own
offsets) is `tradestream audit verify`'s.

Each record's value is given back as the bytes the topic held (the Confluent wire format, with the writer's
schema id), and the writer's schema from the object's header goes to `ArchivedSchemas`, which stands for the
schema registry client of the replay's `AvroCodec`: the replay decodes exactly what a replay from the topics
decodes, resolving an older writer schema to the current one the same way, and asks no registry. Nothing here
opens a Kafka connection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka.schema_registry import Schema
from confluent_kafka.schema_registry.error import SchemaRegistryError

from connectors.s3archive.store import ArchiveStore
from processors.archive.chain import StoredManifest, check_chain
from processors.archive.container import StoredRecord, stored_records
from processors.archive.manifest import Manifest, ObjectEntry
from processors.archive.reading import PartitionReach, StampedFrom, archived_to, covering, object_problem
from processors.archive.root import day_end_ms
from schemas.errors import ArchiveError, ConfigError

T = TypeVar("T")
CACHED_RECORDS = 1_000_000
"""The records of verified objects a reader keeps for the next read of the same partition (about 150 MB of
prints): a replay reads the prints twice, for the bars stage and for the strategy runners."""


@dataclass(frozen=True, slots=True)
class ArchivedRecord:
    """One Kafka record as the archive gives it back."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


class ArchivedSchemas:
    """The registered value schemas the archive's objects carry, by schema id; answers `get_schema` as the
    registry client does, for the ids the archive has given (404 for any other: the codec then treats the value
    as one that does not decode, as the archiver did)."""

    def __init__(self) -> None:
        self._texts: dict[int, str] = {}

    def learn(self, schema_id: int, text: str, key: str) -> None:
        known = self._texts.setdefault(schema_id, text)
        if json.loads(known) != json.loads(text):
            raise ArchiveError(f"{key} carries another schema under id {schema_id} than an earlier object: the "
                               "archive mixes two schema registries; replay its parts separately")

    def get_schema(self, schema_id: int) -> Schema:
        text = self._texts.get(schema_id)
        if text is None:
            raise SchemaRegistryError(404, 40403, f"schema id {schema_id} is in no archived object's header")
        return Schema(text, "AVRO")


class ArchiveReader:
    def __init__(self, store: ArchiveStore, key_prefix: str = "", cached_records: int = CACHED_RECORDS) -> None:
        if key_prefix and not key_prefix.endswith("/"):
            raise ConfigError(f"ARCHIVE_KEY_PREFIX={key_prefix!r} must end with '/'")
        self.store = store
        self.key_prefix = key_prefix
        self.schemas = ArchivedSchemas()
        self._listed: dict[str, dict[int, list[str]]] = {}
        self._chain_manifests: dict[tuple[str, int], list[Manifest]] = {}
        """Each partition's manifests once checked: a replay reads some topics more than once (the prints for the
        bars stage and for the strategy runners)."""
        self._verified: OrderedDict[str, list[StoredRecord]] = OrderedDict()
        """The records of the objects read and checked against their manifest, by key, least recently used first,
        up to `cached_records` records in all: the second read of a partition takes them from here instead of
        fetching, hashing and decoding its objects again (under the profiler that was a third of a replay from
        the archive). The manifests they were checked against are this reader's, so an entry stays valid."""
        self._cached, self.cached_records = 0, cached_records
        self.objects_read = 0
        """Objects fetched, checked and decoded (a read served from the cache does not count)."""
        self._newest_stamps: dict[tuple[str, int], int] = {}
        """The newest Kafka timestamp of each partition's last slice, once read."""
        self._sealed_to_ms: int | None = None

    def _bucket(self, call: Callable[[], T], what: str) -> T:
        """A read of the bucket; ArchiveError saying which when the server does not answer or refuses it."""
        try:
            return call()
        except ClientError as exc:
            raise ArchiveError(f"bucket {self.store.bucket} refused {what}: {exc.response['Error']['Code']}") from None
        except BotoCoreError as exc:
            raise ArchiveError(f"bucket {self.store.bucket} did not answer {what} ({type(exc).__name__}): is the S3 "
                               "server up (tradestream stack status), and S3_ENDPOINT_URL right?") from None

    def _chains(self, topic: str) -> dict[int, list[str]]:
        """The manifest keys of each partition of `topic` the archive holds, in key (offset) order."""
        found = self._listed.get(topic)
        if found is None:
            found = {}
            folder = f"{self.key_prefix}manifests/{topic}/"
            for key in self._bucket(lambda: self.store.keys(folder), f"listing {folder}"):
                partition = key[len(folder):].split("/", 1)[0]
                if not partition.isdigit():
                    raise ArchiveError(f"{key} is not a manifest key of this archive; run `tradestream audit verify`")
                found.setdefault(int(partition), []).append(key)
            self._listed[topic] = found
        return found

    def partitions(self, topic: str) -> list[int]:
        return sorted(self._chains(topic))

    def manifests(self, topic: str, partition: int) -> list[Manifest]:
        """The partition's manifests in chain order; ArchiveError when one is missing, does not parse, or does not
        follow the one before it."""
        known = self._chain_manifests.get((topic, partition))
        if known is None:
            known = self._chain_manifests[(topic, partition)] = self._read_manifests(topic, partition)
        return known

    def _read_manifests(self, topic: str, partition: int) -> list[Manifest]:
        stored = []
        for key in self._chains(topic).get(partition, []):
            data = self._bucket(lambda key=key: self.store.get(key), f"reading {key}")
            if data is None:
                raise ArchiveError(f"manifest {key} is listed but cannot be read; run `tradestream audit verify`")
            stored.append(StoredManifest(key, data))
        if not stored:
            return []
        try:
            first = Manifest.from_bytes(stored[0].data).sequence
        except ValueError as exc:
            raise ArchiveError(f"manifest {stored[0].key}: {exc}; run `tradestream audit verify`") from None
        findings, parsed = check_chain(topic, partition, stored, first_sequence=first, first_previous=None)
        if findings:
            more = f" (and {len(findings) - 1} more findings)" if len(findings) > 1 else ""
            raise ArchiveError(f"{findings[0].subject}: {findings[0].detail}{more}; the archive cannot be replayed as "
                               "it is: run `tradestream audit verify`")
        return [manifest for _, manifest in parsed]

    def records(self, topic: str, partition: int, from_ms: int | None = None) -> Iterator[ArchivedRecord]:
        """The partition's records from the first stamped at or after `from_ms` (None: from the first) to the end
        of the archive, in offset order; each object checked against its manifest before any record of it."""
        start = StampedFrom(from_ms)
        chain = self.manifests(topic, partition)
        for manifest in covering(chain, from_ms):
            newest = -1
            for entry in manifest.objects:
                for record in self._object(entry):
                    newest = max(newest, record.timestamp_ms)
                    if start.admits(record.timestamp_ms):
                        yield ArchivedRecord(topic, partition, record.offset, record.timestamp_ms, record.key,
                                             record.value)
            if manifest is chain[-1]:
                self._newest_stamps[(topic, partition)] = newest

    def _object(self, entry: ObjectEntry) -> list[StoredRecord]:
        """An object's records, read and checked against its manifest entry (its writer schema learnt), or as
        this reader checked them before."""
        cached = self._verified.get(entry.key)
        if cached is not None:
            self._verified.move_to_end(entry.key)
            return cached
        records = self._read_object(entry)
        if len(records) <= self.cached_records:
            self._verified[entry.key] = records
            self._cached += len(records)
            while self._cached > self.cached_records:
                self._cached -= len(self._verified.popitem(last=False)[1])
        return records

    def _read_object(self, entry: ObjectEntry) -> list[StoredRecord]:
        data = self._bucket(lambda key=entry.key: self.store.get(key), f"reading {entry.key}")
        problem = object_problem(entry, data)
        if problem is not None:
            raise ArchiveError(f"archive object {entry.key} {problem}; it is not used: run `tradestream "
                               "audit verify`, or replay this range from the topics (--source kafka)")
        assert data is not None
        try:
            metadata, records = stored_records(data)
        except ValueError as exc:
            raise ArchiveError(f"archive object {entry.key}: {exc}") from None
        self.objects_read += 1
        schema_text = metadata.get("tradestream.value_schema")
        if schema_text is not None:
            self.schemas.learn(int(metadata["tradestream.value_schema_id"]), schema_text, entry.key)
        return records

    def sealed_to_ms(self) -> int:
        """The end of the last day whose signed root the archive holds (0: none)."""
        if self._sealed_to_ms is None:
            folder = f"{self.key_prefix}roots/"
            keys = self._bucket(lambda: self.store.keys(folder), f"listing {folder}")
            self._sealed_to_ms = 0
            if keys:
                name = keys[-1][len(folder):].removesuffix(".json")
                try:
                    self._sealed_to_ms = day_end_ms(dt.date.fromisoformat(name))
                except ValueError:
                    raise ArchiveError(f"{keys[-1]} is not a daily root key of this archive; run `tradestream audit "
                                       "verify`") from None
        return self._sealed_to_ms

    def reach(self, topic: str, partition: int) -> PartitionReach:
        """How far the archive holds the partition; its last slice is read (and checked) if no replay has yet."""
        chain = self.manifests(topic, partition)
        newest = self._newest_stamps.get((topic, partition))
        if chain and newest is None and chain[-1].window_end_ms > self.sealed_to_ms():
            newest = max((record.timestamp_ms for entry in chain[-1].objects
                          for record in self._object(entry)), default=-1)
            self._newest_stamps[(topic, partition)] = newest
        return PartitionReach(topic, partition, archived_to(chain, newest, self.sealed_to_ms()),
                              chain[-1].window_end_ms if chain else 0)

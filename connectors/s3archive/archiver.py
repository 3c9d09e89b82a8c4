"""The archiver: every business topic into the compliance archive, idempotent by offset range.

One pass (`Archiver.run_once`, `tradestream archive once`) reads the bucket's chains (`chains.py`),
adopts an object a crash left without its manifest, reads each partition of each archived topic from
right after its chain's last manifest up to the high watermark seen at the start, cuts the records into
slices (`processors.archive.slicing`), writes each slice's Avro object then its manifest (both locked in
COMPLIANCE mode until the record class's date, never over an existing key), and finally signs and writes
the root of every finished UTC day not sealed yet. `run` repeats passes every `interval_s`.

The consumer is assigned its partitions (no group membership, nothing committed): the bucket is the only
record of how far the archive got, so a rerun starts exactly where the last manifest ends.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import fastavro
from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings
from connectors.s3archive.chains import ChainState, last_root, load_chains, orphan_object
from connectors.s3archive.store import ArchiveStore
from processors.archive.container import encode_slice, read_container, split_wire_format, wrapper_schema
from processors.archive.manifest import Manifest, ObjectEntry, format_time, manifest_key, object_key, root_key, sha256_hex
from processors.archive.retention import LOCK_MODE, ArchiveRetention, TOPIC_CLASSES, record_class, retain_until
from processors.archive.root import DailyRoot, day_end_ms, day_of_ms, open_root, sign_root, signing_key
from processors.archive.slicing import KafkaRecord, PartitionSlicer, Slice
from schemas.errors import ArchiveError, ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiverSettings:
    """The archiver's section (ARCHIVE_* variables; see tradestream/config.py)."""

    kafka: KafkaSettings
    archive: ArchiveSettings
    signing_key: str = field(repr=False)
    """ARCHIVE_SIGNING_KEY: the ed25519 private key (32 bytes, base64) that signs the daily roots."""
    key_prefix: str = ""
    """ARCHIVE_KEY_PREFIX: folder of the archive in the bucket (empty: the bucket's root)."""
    topics: tuple[str, ...] = tuple(TOPIC_CLASSES)
    """ARCHIVE_TOPICS: catalogue names of the archived topics (default: every business topic)."""
    slice_s: int = 3600
    """ARCHIVE_SLICE_S: length of a slice's window."""
    max_records: int = 100_000
    """ARCHIVE_MAX_RECORDS: most records in one object."""
    retention: ArchiveRetention = ArchiveRetention()
    interval_s: float = 600.0
    """ARCHIVE_INTERVAL_S: pause between the passes of `archive run`."""

    def __post_init__(self) -> None:
        for topic in self.topics:
            if topic not in TOPIC_CLASSES:
                raise ConfigError(f"ARCHIVE_TOPICS names {topic!r}, which is not a business topic; choose from "
                                  f"{', '.join(TOPIC_CLASSES)}")
        if self.key_prefix and not self.key_prefix.endswith("/"):
            raise ConfigError(f"ARCHIVE_KEY_PREFIX={self.key_prefix!r} must end with '/'")
        try:
            signing_key(self.signing_key)
        except ValueError as exc:
            raise ConfigError(f"{exc}; generate one with `tradestream archive keygen`") from None


@dataclass(slots=True)
class PassReport:
    objects: int = 0
    records: int = 0
    adopted: int = 0
    roots: list[str] = field(default_factory=list)
    missing_topics: list[str] = field(default_factory=list)


class Archiver:
    def __init__(self, settings: ArchiverSettings, clock: Callable[[], float] = time.time,
                 store: ArchiveStore | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.store = store or ArchiveStore(settings.archive)
        self.key = signing_key(settings.signing_key)
        self.registry = SchemaRegistryClient(settings.kafka.registry_config())
        self._schemas: dict[int, str | None] = {}

    # -- one pass ----------------------------------------------------------------------------------
    def run_once(self) -> PassReport:
        report = PassReport()
        prefix = self.settings.key_prefix
        found = last_root(self.store, prefix)
        root = open_root(found[1], self.key.public_key()) if found else None
        chains = load_chains(self.store, prefix, root)
        floor_ms = day_end_ms(dt.date.fromisoformat(root.day)) if root else 0
        for chain in chains.values():
            while (orphan := orphan_object(self.store, prefix, chain)) is not None:
                self._adopt(chain, *orphan)
                report.adopted += 1
        consumer = Consumer(consumer_config(self.settings.kafka, "tradestream-archiver", **{
            "enable.partition.eof": False, "fetch.max.bytes": 52_428_800}))
        try:
            slicers, targets = self._assign(consumer, chains, floor_ms, report)
            self._consume(consumer, slicers, targets, chains, report)
        finally:
            consumer.close()
        for key, slicer in slicers.items():
            piece = slicer.flush()
            if piece is not None:
                self._write(chains[key], piece, report)
        self._seal_days(chains, root, found[1] if found else None, report)
        log.info("archive pass objects=%d records=%d adopted=%d roots=%s", report.objects, report.records,
                 report.adopted, ",".join(report.roots) or "-")
        return report

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_once()
            stop.wait(self.settings.interval_s)

    # -- reading the topics ------------------------------------------------------------------------
    def _assign(self, consumer: Consumer, chains: dict[tuple[str, int], ChainState], floor_ms: int,
                report: PassReport) -> tuple[dict[tuple[str, int], PartitionSlicer], dict[tuple[str, int], int]]:
        slicers: dict[tuple[str, int], PartitionSlicer] = {}
        targets: dict[tuple[str, int], int] = {}
        assignment = []
        for name in self.settings.topics:
            topic = self.settings.kafka.topic(name)
            partitions = partitions_of(consumer, topic)
            if not partitions:
                log.error("topic=%s does not exist: nothing archived from it", topic)
                report.missing_topics.append(topic)
                continue
            for partition in partitions:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                chain = chains.setdefault((topic, partition), ChainState(topic, partition))
                start = low if chain.next_offset is None else chain.next_offset
                if start < low:
                    log.error("topic=%s partition=%d offsets %d-%d left the topic before they were archived",
                              topic, partition, start, low - 1)
                    start = low
                if start >= high:
                    continue
                slicers[(topic, partition)] = PartitionSlicer(
                    topic, partition, slice_ms=self.settings.slice_s * 1000, max_records=self.settings.max_records,
                    next_offset=start, floor_ms=floor_ms)
                targets[(topic, partition)] = high
                assignment.append(TopicPartition(topic, partition, start))
        if assignment:
            consumer.assign(assignment)
        return slicers, targets

    def _consume(self, consumer: Consumer, slicers: dict[tuple[str, int], PartitionSlicer],
                 targets: dict[tuple[str, int], int], chains: dict[tuple[str, int], ChainState],
                 report: PassReport, idle_timeout_s: float = 60.0) -> None:
        pending = dict(targets)
        idle_since = time.monotonic()
        while pending:
            messages = consumer.consume(num_messages=1000, timeout=0.5)
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    raise ArchiveError(f"reading {message.topic()}[{message.partition()}]: {error}")
                key = (message.topic(), message.partition())
                high = pending.get(key)
                if high is None or message.offset() >= high:
                    continue  # beyond this pass's target: the next pass takes it
                piece = slicers[key].add(self._record(message))
                if piece is not None:
                    self._write(chains[key], piece, report)
                if message.offset() >= high - 1:
                    del pending[key]
                    consumer.pause([TopicPartition(*key)])
            if messages:
                idle_since = time.monotonic()
                continue
            for key in list(pending):  # offsets without a record (transaction markers) end at the watermark
                position = consumer.position([TopicPartition(*key)])[0].offset
                if position >= pending[key]:
                    del pending[key]
            if pending and time.monotonic() - idle_since > idle_timeout_s:
                raise ArchiveError(f"no record for {idle_timeout_s:.0f} s from {sorted(pending)} before their "
                                   "high watermarks; is the broker up?")

    def _record(self, message) -> KafkaRecord:  # noqa: ANN001 - a confluent_kafka Message
        value = message.value()
        framed = split_wire_format(value)
        schema_id = framed[0] if framed is not None and self._schema(framed[0]) is not None else None
        _, timestamp_ms = message.timestamp()
        return KafkaRecord(message.offset(), timestamp_ms if timestamp_ms >= 0 else 0, message.key(), value,
                           tuple((name, data) for name, data in (message.headers() or ())), schema_id)

    def _schema(self, schema_id: int) -> str | None:
        """The registered schema text of a value schema id the container can nest; None otherwise."""
        if schema_id in self._schemas:
            return self._schemas[schema_id]
        try:
            registered = self.registry.get_schema(schema_id)
        except SchemaRegistryError as exc:
            if exc.http_status_code != 404:
                raise ArchiveError(f"schema registry: schema id {schema_id}: {exc.error_message}") from None
            text = None
        else:
            text = registered.schema_str if registered.schema_type in (None, "AVRO") else None
            try:
                fastavro.parse_schema(wrapper_schema(json.loads(text))) if text is not None else None
            except (ValueError, TypeError, KeyError, fastavro.schema.SchemaParseException,
                    fastavro.schema.UnknownType):
                text = None
        if text is None:
            log.warning("schema_id=%d is not an Avro event schema: its values are archived as bytes", schema_id)
        self._schemas[schema_id] = text
        return text

    # -- writing -----------------------------------------------------------------------------------
    def _retain_until(self, topic: str, window_end_ms: int) -> dt.datetime:
        """The record class's date counted from the slice; from today when that date has passed already (records
        older than their retention when first archived, such as a topic's history before the archive began)."""
        name = topic[len(self.settings.kafka.topic_prefix):]
        years = self.settings.retention.years(record_class(name))
        until = retain_until(window_end_ms, years)
        now = self.clock()
        if until.timestamp() <= now:
            log.warning("topic=%s slice ending %s is older than its %d-year retention: locked %d years from today",
                        topic, format_time(dt.datetime.fromtimestamp(window_end_ms / 1000, dt.timezone.utc)), years,
                        years)
            until = retain_until(int(now * 1000), years)
        return until

    def _lock_of(self, key: str) -> dt.datetime:
        """The retain-until date of an object already in the bucket (a rerun or an adoption records that)."""
        found = self.store.retention(key)
        if found is None or found[0] != LOCK_MODE:
            raise ArchiveError(f"{key} is in the bucket without its own {LOCK_MODE} retention; run "
                               "`tradestream audit verify`")
        return found[1]

    def _write(self, chain: ChainState, piece: Slice, report: PassReport) -> None:
        schema_text = self._schemas.get(piece.schema_id) if piece.schema_id is not None else None
        encoded = encode_slice(piece, schema_text)
        until = self._retain_until(chain.topic, piece.window_end_ms)
        key = object_key(self.settings.key_prefix, chain.topic, chain.partition, piece.first_offset, piece.last_offset)
        written = self.store.put_locked(key, encoded.data, until, "avro/binary")
        data = encoded.data
        if not written.created:  # a rerun of the same range: keep the object already there, and its lock
            data = self._existing_object(key, [r.offset for r in piece.records])
            until = self._lock_of(key)
        self._write_manifest(chain, key, data, piece.window_start_ms, piece.window_end_ms, piece.first_offset,
                             piece.last_offset, encoded.records, until)
        report.objects += 1
        report.records += encoded.records

    def _existing_object(self, key: str, offsets: list[int]) -> bytes:
        data = self.store.get(key)
        if data is None:
            raise ArchiveError(f"{key} exists but cannot be read")
        try:
            existing = read_container(data)
        except ValueError as exc:
            raise ArchiveError(f"{key} is there but is not an archive object: {exc}") from None
        if existing.offsets != offsets:
            raise ArchiveError(f"{key} is there with other records than this slice; run `tradestream audit verify`")
        return data

    def _adopt(self, chain: ChainState, key: str, data: bytes) -> None:
        container = read_container(data)
        meta = container.metadata
        first, last = int(meta["tradestream.first_offset"]), int(meta["tradestream.last_offset"])
        window_start, window_end = int(meta["tradestream.window_start_ms"]), int(meta["tradestream.window_end_ms"])
        log.warning("object=%s has no manifest (an earlier run stopped between them): adopting it", key)
        self._write_manifest(chain, key, data, window_start, window_end, first, last, len(container.rows),
                             self._lock_of(key))

    def _write_manifest(self, chain: ChainState, key: str, data: bytes, window_start_ms: int, window_end_ms: int,
                        first: int, last: int, records: int, until: dt.datetime) -> None:
        entry = ObjectEntry(key=key, sha256=sha256_hex(data), size_bytes=len(data), records=records,
                            first_offset=first, last_offset=last, lock_mode=LOCK_MODE, retain_until=format_time(until))
        name = chain.topic[len(self.settings.kafka.topic_prefix):]
        manifest = Manifest(topic=chain.topic, partition=chain.partition, sequence=chain.next_sequence,
                            record_class=record_class(name).value, window_start_ms=window_start_ms,
                            window_end_ms=window_end_ms, first_offset=first, last_offset=last, objects=(entry,),
                            previous_manifest_sha256=chain.previous_hash)
        body = manifest.to_bytes()
        mkey = manifest_key(self.settings.key_prefix, chain.topic, chain.partition, first, last)
        if not self.store.put_locked(mkey, body, until, "application/json").created:
            raise ArchiveError(f"manifest {mkey} exists already: another archiver is writing this archive")
        chain.advance(mkey, manifest, body)

    def _seal_days(self, chains: dict[tuple[str, int], ChainState], root: DailyRoot | None,
                   previous_document: bytes | None, report: PassReport) -> None:
        """Sign and write the root of each finished UTC day after the last root (every chain is caught up)."""
        today = dt.datetime.fromtimestamp(self.clock(), dt.timezone.utc).date()
        if root is not None:
            day = dt.date.fromisoformat(root.day) + dt.timedelta(days=1)
        else:
            starts = [ref.window_start_ms for chain in chains.values() for ref in chain.refs[:1]
                      if ref.window_start_ms is not None]
            if not starts:
                return
            day = day_of_ms(min(starts))
        previous = sha256_hex(previous_document) if previous_document is not None else "0" * 64
        longest = max(self.settings.retention.years(c) for c in set(TOPIC_CLASSES.values()))
        while day < today:
            heads = tuple(head for chain in chains.values() if (head := chain.head_at(day_end_ms(day))) is not None)
            document = sign_root(DailyRoot(day=day.isoformat(), chains=heads, previous_root_sha256=previous), self.key)
            key = root_key(self.settings.key_prefix, day)
            if not self.store.put_locked(key, document, retain_until(day_end_ms(day), longest),
                                         "application/json").created:
                raise ArchiveError(f"root {key} exists already: another archiver is writing this archive")
            report.roots.append(day.isoformat())
            previous = sha256_hex(document)
            day += dt.timedelta(days=1)

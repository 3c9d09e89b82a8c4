"""`tradestream audit verify`: re-read the archive of some days and prove it whole, or list what is wrong.

For the days asked, the verifier reads every chain's manifests from the head that the signed root of the
day before names (that root vouches for the chain up to there; without it, from the chain's start), each
object of a manifest whose slice falls in those days with its retention, every key's versions (the whole
archive's, listed), the signed daily roots, and the topic partitions themselves. The checks are
`processors.archive.chain`'s; here is only the reading. Nothing is written.

The bucket's reads are round trips (an object and its retention are two; versitygw gives no lock headers on a
GET), and on a week of hourly slices they were the largest cost of a verify (about 40 % of the time under
cProfile, before the objects' decoding and their records' re-encoding): up to `readers` of them are in flight at
once, on a bounded pool of threads (the boto3 client is thread-safe), a bounded window ahead of the checks, which
stay in the calling thread and in chain order. `benchmarks/bench_audit_verify.py` gives the figures with one
request at a time (`readers=1`, the old way) and with the pool.

A partition is checked one slice (manifest) at a time: its objects are read (`stored_records`: each value as the
topic held it, cut out of the file), then the topic is read forward over the slice's offsets, the consumer left
assigned from one slice to the next, and the two are compared (`processors.archive.comparison`) before the next
slice is read. It used to hold every record of the partition for the whole period, archived and on the topic;
now it holds a slice's records, the objects read ahead, and the archived offsets as runs. On the benchmark's
300,000 records (`benchmarks/bench_audit_verify.py --python-heap`) the Python heap's peak during a verify went
from 116 MiB to 15 MiB (12 of them the clients'); the resident peak above the process before the verify, from
169-192 MiB to 94-100 MiB, and at 600,000 records from 267-277 MiB to 102 MiB: what is left is librdkafka's,
OpenSSL's and the allocator's, and does not grow with the period.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from typing import TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings
from connectors.s3archive.store import ArchiveStore
from processors.archive.chain import (Finding, RecordFacts, StoredManifest, check_chain, check_stored_object,
                                      check_versions)
from processors.archive.comparison import TopicComparison
from processors.archive.container import StoredRecord
from processors.archive.manifest import GENESIS, Manifest, ObjectEntry, root_key, sha256_hex
from processors.archive.retention import TOPIC_CLASSES
from processors.archive.root import ChainHead, day_end_ms, open_root, verify_key
from schemas.errors import ArchiveError

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")
READERS = 8
"""The S3 reads a verify keeps in flight by default (boto3's default pool holds 10 connections)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifierSettings:
    kafka: KafkaSettings
    archive: ArchiveSettings
    verify_key: str
    """ARCHIVE_VERIFY_KEY: the public key of the daily roots (32 bytes, base64)."""
    key_prefix: str = ""
    topics: tuple[str, ...] = tuple(TOPIC_CLASSES)


@dataclass(slots=True)
class VerifyReport:
    first_day: dt.date
    last_day: dt.date
    roots: int = 0
    chains: int = 0
    manifests: int = 0
    objects: int = 0
    records: int = 0
    findings: list[Finding] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (f"archive {self.first_day}..{self.last_day}: {self.roots} signed roots, {self.chains} chains, "
                f"{self.manifests} manifests, {self.objects} objects, {self.records} records checked; "
                f"{len(self.findings)} findings")
        return [head, *(finding.line() for finding in self.findings)]


def _days(first: dt.date, last: dt.date) -> Iterable[dt.date]:
    day = first
    while day <= last:
        yield day
        day += dt.timedelta(days=1)


def _ahead(items: Iterable[T], read: Callable[[T], R], pool: ThreadPoolExecutor | None,
           window: int) -> Iterator[tuple[T, R]]:
    """(item, read(item)) in the items' order, with up to `window` reads running ahead on `pool` (None: each
    read in turn, here)."""
    if pool is None:
        for item in items:
            yield item, read(item)
        return
    running: deque[tuple[T, Future[R]]] = deque()
    for item in items:
        running.append((item, pool.submit(read, item)))
        if len(running) >= window:
            first, future = running.popleft()
            yield first, future.result()
    while running:
        first, future = running.popleft()
        yield first, future.result()


class Verifier:
    def __init__(self, settings: VerifierSettings, store: ArchiveStore | None = None, readers: int = READERS) -> None:
        if readers < 1:
            raise ValueError(f"readers must be at least 1, not {readers}")
        self.settings = settings
        self.store = store or ArchiveStore(settings.archive)
        self.public_key = verify_key(settings.verify_key)
        self.readers = readers
        self._pool: ThreadPoolExecutor | None = None

    def _read_ahead(self, items: Iterable[T], read: Callable[[T], R]) -> Iterator[tuple[T, R]]:
        return _ahead(items, read, self._pool, 2 * self.readers)

    def verify(self, first_day: dt.date, last_day: dt.date) -> VerifyReport:
        if self.readers == 1:
            return self._verify(first_day, last_day)
        with ThreadPoolExecutor(self.readers, thread_name_prefix="audit-verify-s3") as self._pool:
            try:
                return self._verify(first_day, last_day)
            finally:
                self._pool = None

    def _verify(self, first_day: dt.date, last_day: dt.date) -> VerifyReport:
        report = VerifyReport(first_day, last_day)
        prefix = self.settings.key_prefix
        start_ms = day_end_ms(first_day) - 86_400_000
        end_ms = day_end_ms(last_day)
        anchor = self._anchor(first_day, report)
        chains, hashes = self._chains(report, anchor)
        self._check_roots(first_day, last_day, chains, hashes, report)
        consumer = Consumer(consumer_config(self.settings.kafka, "tradestream-audit-verify"))
        try:
            for (topic, partition), manifests in sorted(chains.items()):
                chosen = [m for _, m in manifests if m.window_start_ms < end_ms and m.window_end_ms > start_ms]
                self._check_partition(consumer, topic, partition, [m for _, m in manifests], chosen, end_ms, report,
                                      from_genesis=(topic, partition) not in anchor)
            self._check_unarchived_partitions(consumer, set(chains), start_ms, end_ms, report)
        finally:
            consumer.close()
        report.findings.extend(check_versions(self.store.versions(prefix)))
        return report

    # -- chains and roots --------------------------------------------------------------------------
    def _anchor(self, first_day: dt.date, report: VerifyReport) -> dict[tuple[str, int], ChainHead]:
        """The chain heads signed by the root of the day before the period, when there is one: each chain is
        then read from that head on (the root vouches for everything before it), not from its start."""
        key = root_key(self.settings.key_prefix, first_day - dt.timedelta(days=1))
        document = self.store.get(key)
        if document is None:
            return {}
        try:
            root = open_root(document, self.public_key)
        except ValueError as exc:
            report.findings.append(Finding("root", key, f"{exc}; the chains are read from their start"))
            return {}
        return {(head.topic, head.partition): head for head in root.chains}

    def _chains(self, report: VerifyReport, anchor: dict[tuple[str, int], ChainHead]
                ) -> tuple[dict[tuple[str, int], list[tuple[str, Manifest]]], dict[str, str]]:
        """Each chain's manifests that parse (from the anchor's head, else from the start), and the SHA-256 of
        each manifest read, as stored now."""
        prefix = self.settings.key_prefix
        listed: dict[tuple[str, int], list[str]] = {}
        for key in self.store.keys(f"{prefix}manifests/"):
            parts = key[len(prefix):].split("/")
            if len(parts) != 4 or not parts[2].isdigit():
                report.findings.append(Finding("chain", key, "not a manifest key of this archive"))
                continue
            listed.setdefault((parts[1], int(parts[2])), []).append(key)
        chains: dict[tuple[str, int], list[tuple[str, Manifest]]] = {}
        hashes: dict[str, str] = {}
        for (topic, partition), keys in sorted(listed.items()):
            head = anchor.get((topic, partition))
            if head is not None and head.head_manifest_key not in keys:
                report.findings.append(Finding("root", head.head_manifest_key, "the head manifest the day before's "
                                               "root signed is not in the bucket"))
                head = None
            if head is not None:
                keys = [key for key in keys if key >= head.head_manifest_key]
            stored = []
            for key, data in self._read_ahead(keys, self.store.get):
                if data is None:
                    report.findings.append(Finding("missing", key, "the manifest is listed but cannot be read"))
                    continue
                stored.append(StoredManifest(key, data))
                hashes[key] = sha256_hex(data)
            if head is None:
                findings, parsed = check_chain(topic, partition, stored)
            else:
                if hashes.get(head.head_manifest_key) != head.head_manifest_sha256:
                    report.findings.append(Finding("root", head.head_manifest_key, "the head manifest the day "
                                                   "before's root signed has changed since"))
                findings, parsed = check_chain(topic, partition, stored, first_sequence=head.manifests - 1,
                                               first_previous=None)
            report.findings.extend(findings)
            report.manifests += len(stored)
            chains[(topic, partition)] = parsed
        for topic, partition in set(anchor) - set(listed):
            report.findings.append(Finding("root", f"{topic}[{partition}]", "the day before's root signed this "
                                           "chain, which has no manifest in the bucket"))
        report.chains = len(chains)
        return chains, hashes

    def _check_roots(self, first_day: dt.date, last_day: dt.date,
                     chains: dict[tuple[str, int], list[tuple[str, Manifest]]], stored: dict[str, str],
                     report: VerifyReport) -> None:
        prefix = self.settings.key_prefix
        earliest_root = self.store.keys(f"{prefix}roots/")[:1]
        for day in _days(first_day, last_day):
            key = root_key(prefix, day)
            document = self.store.get(key)
            if document is None:
                report.findings.append(Finding("root", key, f"day {day} has no signed root (not sealed: run "
                                               "`tradestream archive once` after the day has ended)"))
                continue
            try:
                root = open_root(document, self.public_key)
            except ValueError as exc:
                report.findings.append(Finding("root", key, str(exc)))
                continue
            report.roots += 1
            if earliest_root == [key]:
                expected_previous = GENESIS
            else:
                before = self.store.get(root_key(prefix, day - dt.timedelta(days=1)))
                expected_previous = sha256_hex(before) if before is not None else None
            if expected_previous is None:
                report.findings.append(Finding("root", key, f"the root of {day - dt.timedelta(days=1)} is missing"))
            elif root.previous_root_sha256 != expected_previous:
                report.findings.append(Finding("root", key, "previous-root hash is not the hash of the day before's root"))
            named = {(head.topic, head.partition): head for head in root.chains}
            for (topic, partition), manifests in chains.items():
                due = [(k, m) for k, m in manifests if m.window_start_ms < day_end_ms(day)]
                head = named.pop((topic, partition), None)
                if head is None:
                    if due:
                        report.findings.append(Finding("root", key, f"{topic}[{partition}] has manifests of the day "
                                                       "but is not in its root"))
                    continue
                if stored.get(head.head_manifest_key) != head.head_manifest_sha256:
                    report.findings.append(Finding("root", key, f"{topic}[{partition}]: head manifest "
                                                   f"{head.head_manifest_key} is missing or changed since signed"))
                elif not due or due[-1][0] != head.head_manifest_key or due[-1][1].sequence + 1 != head.manifests:
                    report.findings.append(Finding("root", key, f"{topic}[{partition}]: the chain's manifests up to "
                                                   "the day's end are not those the root signed"))
            for topic, partition in named:
                report.findings.append(Finding("root", key, f"{topic}[{partition}] is in the root but has no manifests"))

    # -- objects and topics ------------------------------------------------------------------------
    def _slices(self, manifests: list[Manifest], report: VerifyReport
                ) -> Iterator[tuple[Manifest, list[StoredRecord]]]:
        """Each manifest with the records of its objects that can be read, its objects checked (findings in the
        report); the objects are read ahead across manifests, in chain order."""
        entries = ((manifest, entry) for manifest in manifests for entry in manifest.objects)
        objects = self._read_ahead(entries, lambda item: self._object(item[1]))
        for _, group in groupby(objects, key=lambda read: id(read[0][0])):
            manifest: Manifest | None = None
            records: list[StoredRecord] = []
            for (manifest, entry), (data, retention) in group:
                findings, stored = check_stored_object(entry, data, retention)
                report.findings.extend(findings)
                report.objects += 1
                if stored is not None:
                    report.records += len(stored)
                    records.extend(stored)
            assert manifest is not None
            yield manifest, records

    def _object(self, entry: ObjectEntry) -> tuple[bytes | None, tuple[str, dt.datetime] | None]:
        """An object's bytes and its own retention (None, None when it is missing)."""
        data = self.store.get(entry.key)
        return data, self.store.retention(entry.key) if data is not None else None

    def _check_partition(self, consumer: Consumer, topic: str, partition: int, every: list[Manifest],
                         chosen: list[Manifest], end_ms: int, report: VerifyReport, from_genesis: bool) -> None:
        """The chosen manifests' objects, and their records against the topic's, a slice at a time; the findings
        of the objects first, then the topic's, as when the whole period was read at once."""
        subject = f"{topic}[{partition}]"
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
        except KafkaException as exc:  # a deleted topic: a finding, not a crash
            for _ in self._slices(chosen, report):   # the objects are checked all the same
                pass
            report.findings.append(Finding("gap", subject, f"the topic partition cannot be read: {exc}"))
            return
        comparison = TopicComparison(subject, low)
        if chosen:
            # Records the topic's retention has removed since are in the archive only: compared from `low` on.
            on_topic = _TopicReader(consumer, topic, partition, chosen[0].first_offset, chosen[-1].last_offset, low,
                                    high)
            try:
                for manifest, records in self._slices(chosen, report):
                    comparison.update(records, on_topic.slice(manifest, records))
                comparison.update([], on_topic.rest())
            finally:
                consumer.unassign()
        if from_genesis and every and every[0].first_offset > low:
            report.findings.append(Finding("gap", subject, f"offsets {low}-{every[0].first_offset - 1} are on the "
                                           "topic but before the chain's first manifest"))
        report.findings.extend(comparison.findings())
        archived_to = every[-1].last_offset if every else low - 1
        ends = consumer.offsets_for_times([TopicPartition(topic, partition, end_ms)], timeout=10)[0].offset
        due_to = (high if ends < 0 else ends) - 1
        if due_to > archived_to and due_to >= low:
            report.findings.append(Finding("gap", subject, f"offsets {max(archived_to + 1, low)}-{due_to}, dated "
                                           "before the end of the period, are not archived"))

    def _check_unarchived_partitions(self, consumer: Consumer, chains: set[tuple[str, int]], start_ms: int,
                                     end_ms: int, report: VerifyReport) -> None:
        for name in self.settings.topics:
            topic = self.settings.kafka.topic(name)
            for partition in partitions_of(consumer, topic):
                if (topic, partition) in chains:
                    continue
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                begins, ends = (consumer.offsets_for_times([TopicPartition(topic, partition, moment)], timeout=10)[0].offset
                                for moment in (start_ms, end_ms))
                due = (high if ends < 0 else ends) - (high if begins < 0 else begins)
                if due > 0:
                    report.findings.append(Finding("gap", f"{topic}[{partition}]", f"{due} records dated before the "
                                                   "end of the period, none archived"))


class _TopicReader:
    """A topic partition's records over a period's offsets `first`..`last` (what retention left of them, up to the
    high watermark), read forward a slice at a time with the consumer left assigned between slices; a slice that
    reaches back before where the last one ended (overlapping manifests, records outside their object's range) is
    read again from there. Records consumed past a slice's end wait, at most one batch of them, for the next."""

    def __init__(self, consumer: Consumer, topic: str, partition: int, first: int, last: int, low: int,
                 high: int) -> None:
        self.consumer, self.topic, self.partition = consumer, topic, partition
        self.first, self.last = max(first, low), min(last, high - 1)
        self._given_to = self.first - 1
        """Every offset of the period up to here has been asked for."""
        self._from: int | None = None
        """Records from this offset on are in `_ahead` or not yet consumed (None: not assigned)."""
        self._consumed_to = -1
        self._ahead: deque[tuple[int, RecordFacts]] = deque()

    def slice(self, manifest: Manifest, records: list[StoredRecord]) -> Iterator[tuple[int, RecordFacts]]:
        """The topic's records at the offsets of the slice's range, of its archived records, and between the
        slice before and this one."""
        offsets = [record.offset for record in records]
        first = min(self._given_to + 1, manifest.first_offset, min(offsets, default=manifest.first_offset))
        last = max(manifest.last_offset, max(offsets, default=manifest.last_offset))
        return self._records(first, last)

    def rest(self) -> Iterator[tuple[int, RecordFacts]]:
        """The period's records after every slice given so far (those of manifests without objects)."""
        return self._records(self._given_to + 1, self.last)

    def _records(self, first: int, last: int) -> Iterator[tuple[int, RecordFacts]]:
        start, stop = max(first, self.first), min(last, self.last)
        if start > stop:
            return iter(())
        self._given_to = max(self._given_to, stop)
        if self._from != start:
            self.consumer.assign([TopicPartition(self.topic, self.partition, start)])
            self._from, self._consumed_to = start, start - 1
            self._ahead.clear()
        return self._read(start, stop)

    def _read(self, start: int, stop: int) -> Iterator[tuple[int, RecordFacts]]:
        ahead = self._ahead
        while True:
            while ahead and ahead[0][0] <= stop:
                yield ahead.popleft()
            if ahead or self._consumed_to >= stop:
                break
            messages = self.consumer.consume(num_messages=1000, timeout=5)
            if not messages:
                position = self.consumer.position([TopicPartition(self.topic, self.partition)])[0].offset
                if position > stop:
                    break
                raise ArchiveError(f"{self.topic}[{self.partition}] gave no record up to offset {stop} within 5 s")
            for message in messages:
                if message.error() is not None:
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        continue
                    raise ArchiveError(f"reading {self.topic}[{self.partition}]: {message.error()}")
                self._consumed_to = message.offset()
                if message.offset() >= start:
                    ahead.append((message.offset(), RecordFacts(message.key(), message.value(),
                                                                message.timestamp()[1])))
        self._from = stop + 1

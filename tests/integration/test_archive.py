"""The compliance archive against the real Kafka, schema registry and versitygw of the stack: archived,
verified clean, idempotent on a rerun; then each kind of tampering is found by `audit verify`, and the
server itself refuses to delete a locked version or to shorten or downgrade its retention (403).

Every test builds its own archive (own topics, own key prefix in the bucket): what a test tampers with
stays locked for a year (the shortest retention a record class may have)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import fastavro
import pytest
from botocore.exceptions import ClientError
from confluent_kafka import Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from connectors.s3archive.archiver import Archiver, ArchiverSettings
from connectors.s3archive.bucket import ensure_archive_bucket, s3_client
from connectors.s3archive.store import ArchiveStore
from connectors.s3archive.verifier import Verifier, VerifierSettings
from processors.archive.container import read_container
from processors.archive.manifest import Manifest
from processors.archive.retention import ArchiveRetention
from processors.archive.root import public_key_text, signing_key
from schemas.errors import ArchiveError
from schemas.topics import CATALOGUE
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration

SIGNING_KEY = "HS/hHZzHzFwu0GQHtNGJ6LHPTOpArsRYVJLtDLgFD/w="   # a test key, not a secret of anyone's
TOPICS = ("fills", "orders.events")
PROBE = {"type": "record", "name": "ArchiveProbe", "namespace": "tradestream.tests",
         "fields": [{"name": "n", "type": "long"}, {"name": "text", "type": "string"}]}
DAY = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=2)
HOUR_MS = 3_600_000
PER_PARTITION = 30   # records per partition, over three hours of DAY: three slices, so chains of three


@dataclass
class Archive:
    settings: Settings
    archiver: ArchiverSettings
    verifier: VerifierSettings
    store: ArchiveStore
    produced: int

    def verify(self, day: dt.date = DAY) -> list[str]:
        report = Verifier(self.verifier, self.store).verify(day, day)
        return [f"{f.kind} {f.subject} {f.detail}" for f in report.findings]

    def keys(self, kind: str) -> list[str]:
        return self.store.keys(f"{self.archiver.key_prefix}{kind}/")


def _day_ms(hour: int, second: int = 0) -> int:
    start = dt.datetime.combine(DAY, dt.time(hour), dt.timezone.utc)
    return int(start.timestamp() * 1000) + second * 1000


def _frame(schema_id: int, value: dict) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"\x00" + schema_id.to_bytes(4, "big"))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(PROBE), value)
    return buffer.getvalue()


@pytest.fixture
def archive(settings: Settings, unique: str) -> Archive:
    prefix = f"ar{unique}."
    specs = tuple(dataclasses.replace(spec, partitions=2) for spec in CATALOGUE if spec.name in TOPICS)
    ensure_topics(settings, prefix=prefix, catalogue=specs)
    kafka = settings.kafka(topic_prefix=prefix)
    registry = SchemaRegistryClient(kafka.registry_config())
    producer = Producer(kafka.client_config(acks="all"))
    produced = 0
    for name in TOPICS:
        topic = kafka.topic(name)
        schema_id = registry.register_schema(f"{topic}-value", Schema(json.dumps(PROBE), "AVRO"))
        for partition in (0, 1):
            for n in range(PER_PARTITION):
                # 10 records in each of hours 9, 10 and 11 of DAY; one value is not our wire format.
                value = b"not avro" if n == 7 else _frame(schema_id, {"n": n, "text": f"{name}/{partition}/{n}"})
                producer.produce(topic, key=f"k{n}".encode(), value=value, partition=partition,
                                 timestamp=_day_ms(9 + n // 10, n), headers=[("source", b"test")])
                produced += 1
    assert producer.flush(30) == 0
    ensure_archive_bucket(settings.archive())
    archiver = ArchiverSettings(kafka=kafka, archive=settings.archive(), signing_key=SIGNING_KEY,
                                key_prefix=f"tests/archive-{unique}/", topics=TOPICS,
                                retention=ArchiveRetention(trade_record_years=1, order_years=1, other_years=1))
    verifier = VerifierSettings(kafka=kafka, archive=settings.archive(), topics=TOPICS,
                                verify_key=public_key_text(signing_key(SIGNING_KEY)), key_prefix=archiver.key_prefix)
    store = ArchiveStore(settings.archive())
    report = Archiver(archiver, store=store).run_once()
    assert (report.objects, report.records, report.adopted) == (2 * 2 * 3, produced, 0)
    assert report.roots[0] == DAY.isoformat() and report.missing_topics == []
    return Archive(settings, archiver, verifier, store, produced)


def test_archived_day_verifies_clean_and_a_rerun_writes_nothing(archive: Archive) -> None:
    assert archive.verify() == []
    assert archive.verify(DAY + dt.timedelta(days=1)) == []   # chains read from the heads DAY's root signed
    manifests = archive.keys("manifests")
    assert len(manifests) == 12 and len(archive.keys("data")) == 12
    again = Archiver(archive.archiver, store=archive.store).run_once()
    assert (again.objects, again.records, again.roots) == (0, 0, [])
    assert archive.keys("manifests") == manifests
    first = Manifest.from_bytes(archive.store.get(manifests[0]))
    assert (first.first_offset, first.last_offset, first.sequence, first.record_class) == (0, 9, 0, "trade_record")
    container = read_container(archive.store.get(first.objects[0].key))
    assert container.offsets == list(range(10))
    assert container.rows[0]["value"] == {"n": 0, "text": "fills/0/0"}
    assert container.rows[7]["value"] is None and container.rows[7]["undecoded_value"] == b"not avro"
    assert container.rows[1]["headers"] == [{"name": "source", "value": b"test"}]
    assert container.kafka_value(container.rows[3]) == _frame(int(container.metadata["tradestream.value_schema_id"]),
                                                              {"n": 3, "text": "fills/0/3"})
    # The slice of 09:00-10:00 on DAY, a trade record kept one year here: until midnight after DAY, a year on.
    day_after = DAY + dt.timedelta(days=1)
    expected = dt.datetime(day_after.year + 1, day_after.month, day_after.day, tzinfo=dt.timezone.utc)
    assert archive.store.retention(first.objects[0].key) == ("COMPLIANCE", expected)
    assert first.objects[0].retain_until == expected.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_cli_prints_the_report_and_exits_by_its_findings(archive: Archive) -> None:
    env = {**os.environ, "TOPIC_PREFIX": archive.archiver.kafka.topic_prefix, "ARCHIVE_KEY_PREFIX":
           archive.archiver.key_prefix, "ARCHIVE_TOPICS": ",".join(TOPICS), "ARCHIVE_SIGNING_KEY": SIGNING_KEY}
    clean = subprocess.run([sys.executable, "-m", "tradestream.cli", "audit", "verify", "--from", DAY.isoformat(),
                            "--to", DAY.isoformat()], env=env, capture_output=True, text=True, timeout=120)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "12 manifests, 12 objects, 120 records checked; 0 findings" in clean.stdout
    later = DAY + dt.timedelta(days=3)   # today or later: not sealed by a root yet
    unsealed = subprocess.run([sys.executable, "-m", "tradestream.cli", "audit", "verify", "--from",
                               later.isoformat(), "--to", later.isoformat()], env=env, capture_output=True,
                              text=True, timeout=120)
    assert unsealed.returncode == 1 and "has no signed root" in unsealed.stdout


def test_records_the_topic_no_longer_holds_are_still_verified_by_the_archive(archive: Archive) -> None:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka import TopicPartition

    admin = AdminClient(archive.archiver.kafka.client_config())
    topic = archive.archiver.kafka.topic("fills")
    for future in admin.delete_records([TopicPartition(topic, 0, 15)]).values():   # as retention would
        future.result(timeout=30)
    assert archive.verify() == []


def test_an_object_written_over_is_found(archive: Archive) -> None:
    key = archive.keys("data")[4]
    # A forged file, valid Avro with the same schema and metadata, one record's value changed.
    reader = fastavro.reader(io.BytesIO(archive.store.get(key)))
    rows = list(reader)
    rows[0]["value"]["text"] = "forged"
    forged = io.BytesIO()
    fastavro.writer(forged, reader.writer_schema, rows, codec="deflate",
                    metadata={k: v for k, v in reader.metadata.items() if not k.startswith("avro.")})
    s3 = s3_client(archive.settings.archive())
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    s3.put_object(Bucket=archive.settings.s3_bucket, Key=key, Body=forged.getvalue(), ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until)
    findings = archive.verify()
    assert any(f.startswith(f"tampered {key} SHA-256") for f in findings), findings
    assert any(f.startswith(f"version {key} 2 versions") for f in findings), findings
    assert any(f"1 archived records differ from the topic's (first at offset {rows[0]['offset']}: value;" in f
               for f in findings), findings


def test_a_deleted_object_is_found(archive: Archive) -> None:
    key = archive.keys("data")[2]
    s3_client(archive.settings.archive()).delete_object(Bucket=archive.settings.s3_bucket, Key=key)  # a marker
    findings = archive.verify()
    assert any(f.startswith(f"missing {key}") for f in findings), findings
    assert any(f.startswith(f"version {key} 1 delete marker") for f in findings), findings
    topic, partition = key.split("/")[-3], key.split("/")[-2]
    assert any(f.startswith(f"gap {topic}[{partition}] 10 records of the topic are not archived (offsets 20-29)")
               for f in findings), findings


def test_reordered_manifests_are_found(archive: Archive) -> None:
    first, second = archive.keys("manifests")[:2]
    body_first, body_second = archive.store.get(first), archive.store.get(second)
    s3 = s3_client(archive.settings.archive())
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    for key, body in ((first, body_second), (second, body_first)):
        s3.put_object(Bucket=archive.settings.s3_bucket, Key=key, Body=body, ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)
    findings = archive.verify()
    assert any(f.startswith(f"chain {first} key names offsets 0-9, the manifest 10-19") for f in findings), findings
    assert any(f.startswith(f"chain {first} sequence 1 at position 0") for f in findings), findings
    assert any(f.startswith(f"chain {second} previous-manifest hash") for f in findings), findings
    assert any(f.startswith(f"version {first} 2 versions") for f in findings), findings
    # Verifying the next day reads the chains from DAY's signed heads on; the new versions are still found.
    later = archive.verify(DAY + dt.timedelta(days=1))
    assert {f.split(" ")[0] for f in later} == {"version"} and len(later) == 2, later
    head = archive.keys("manifests")[2]   # the chain's head in DAY's root
    s3.put_object(Bucket=archive.settings.s3_bucket, Key=head, Body=body_first, ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until)
    later = archive.verify(DAY + dt.timedelta(days=1))
    assert f"root {head} the head manifest the day before's root signed has changed since" in later, later


def _write_over(archive: Archive, key: str, rows: list[dict]) -> None:
    """A forged object at `key`: valid Avro with the original's schema and metadata, holding `rows`."""
    reader = fastavro.reader(io.BytesIO(archive.store.get(key)))
    forged = io.BytesIO()
    fastavro.writer(forged, reader.writer_schema, rows, codec="deflate",
                    metadata={k: v for k, v in reader.metadata.items() if not k.startswith("avro.")})
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    s3_client(archive.settings.archive()).put_object(Bucket=archive.settings.s3_bucket, Key=key, Body=forged.getvalue(),
                                                     ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)


def test_a_gap_and_a_duplicate_across_two_slices_are_found(archive: Archive) -> None:
    # The three slices of one partition, offsets 0-9, 10-19 and 20-29: the first loses 8-9 and the second 10-11
    # (one gap across their boundary), the third holds 18-19 of the second again.
    first, second, third = archive.keys("data")[:3]
    rows = {key: list(fastavro.reader(io.BytesIO(archive.store.get(key)))) for key in (first, second, third)}
    _write_over(archive, first, rows[first][:8])
    _write_over(archive, second, rows[second][2:])
    _write_over(archive, third, rows[second][8:] + rows[third])
    findings = archive.verify()
    topic, partition = first.split("/")[-3], first.split("/")[-2]
    assert f"gap {topic}[{partition}] 4 records of the topic are not archived (offsets 8-11)" in findings, findings
    assert f"duplicate {topic}[{partition}] 2 offsets archived twice" in findings, findings
    assert f"tampered {third} 2 records outside offsets 20-29 (first 18)" in findings, findings
    assert not any(f.startswith(f"tampered {topic}[{partition}]") for f in findings), findings   # contents agree


def test_retention_cannot_be_shortened_and_an_object_without_its_own_is_found(archive: Archive) -> None:
    key = archive.keys("data")[0]
    s3 = s3_client(archive.settings.archive())
    bucket = archive.settings.s3_bucket
    version = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
    mode, until = archive.store.retention(key)
    refused = (
        lambda: s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": until - dt.timedelta(days=30)}),
        lambda: s3.put_object_retention(Bucket=bucket, Key=key, VersionId=version, Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until}, BypassGovernanceRetention=True),
        lambda: s3.delete_object(Bucket=bucket, Key=key, VersionId=version),
    )
    for call in refused:
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert archive.store.retention(key) == (mode, until)
    assert archive.verify() == []
    # What the server allows: the same bytes again as a new version, with no retention of its own.
    s3.put_object(Bucket=bucket, Key=key, Body=archive.store.get(key))
    findings = archive.verify()
    assert any(f.startswith(f"retention {key} the object has no retention of its own") for f in findings), findings
    assert not any(f.startswith(f"tampered {key}") for f in findings), findings


class _ManifestsRefused(ArchiveStore):
    """The bucket as a crash between an object and its manifest leaves it: manifest PUTs fail."""

    def put_locked(self, key, data, retain_until, content_type):  # noqa: ANN001, ANN201
        if "/manifests/" in key:
            raise ArchiveError("simulated stop before the manifest")
        return super().put_locked(key, data, retain_until, content_type)


def test_an_object_left_without_its_manifest_is_adopted_not_written_again(archive: Archive) -> None:
    producer = Producer(archive.archiver.kafka.client_config(acks="all"))
    topic = archive.archiver.kafka.topic("fills")
    producer.produce(topic, key=b"late", value=b"not avro either", partition=0, timestamp=_day_ms(13) + 86_400_000)
    assert producer.flush(30) == 0
    with pytest.raises(ArchiveError):
        Archiver(archive.archiver, store=_ManifestsRefused(archive.settings.archive())).run_once()
    orphan = [k for k in archive.keys("data") if ".fills/0/" in k][-1]
    assert orphan.endswith("00000000000000000030-00000000000000000030.avro")
    report = Archiver(archive.archiver, store=archive.store).run_once()
    assert (report.adopted, report.objects) == (1, 0)
    assert len(archive.keys("data")) == 13 and len(archive.keys("manifests")) == 13
    assert archive.verify() == []
    assert archive.verify(DAY + dt.timedelta(days=1)) == []


def test_a_record_dated_in_a_sealed_day_is_a_gap_until_archived_in_the_first_open_day(archive: Archive) -> None:
    producer = Producer(archive.archiver.kafka.client_config(acks="all"))
    topic = archive.archiver.kafka.topic("orders.events")
    producer.produce(topic, key=b"late", value=b"late bytes", partition=1, timestamp=_day_ms(12))
    assert producer.flush(30) == 0
    assert archive.verify() == [f"gap {topic}[1] offsets 30-30, dated before the end of the period, are not archived"]
    report = Archiver(archive.archiver, store=archive.store).run_once()
    assert (report.objects, report.records, report.roots) == (1, 1, [])
    newest = Manifest.from_bytes(archive.store.get([k for k in archive.keys("manifests") if ".orders.events/1/" in k][-1]))
    today = dt.datetime.combine(DAY + dt.timedelta(days=2), dt.time(0), dt.timezone.utc)
    assert newest.window_start_ms == int(today.timestamp() * 1000) and newest.first_offset == 30   # not in DAY
    assert archive.verify() == []


def test_archive_run_passes_until_sigterm(archive: Archive, tmp_path: Path) -> None:
    producer = Producer(archive.archiver.kafka.client_config(acks="all"))
    topic = archive.archiver.kafka.topic("fills")
    env = {**os.environ, "TOPIC_PREFIX": archive.archiver.kafka.topic_prefix, "ARCHIVE_KEY_PREFIX":
           archive.archiver.key_prefix, "ARCHIVE_TOPICS": ",".join(TOPICS), "ARCHIVE_SIGNING_KEY": SIGNING_KEY,
           "ARCHIVE_INTERVAL_S": "1", "ARCHIVE_TRADE_RECORD_YEARS": "1", "ARCHIVE_ORDER_YEARS": "1"}
    process = spawn(["archive", "run"], env, tmp_path / "archiver.log")
    try:
        for n in range(2):   # a record, archived by a pass; another, archived by a later pass
            producer.produce(topic, key=b"run", value=b"pass %d" % n, partition=0)
            assert producer.flush(30) == 0
            eventually(lambda n=n: len(archive.keys("manifests")) == 13 + n, timeout_s=60, what=f"pass {n} archived")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, (tmp_path / "archiver.log").read_text()[-3000:]


def test_records_older_than_their_retention_are_locked_from_the_day_archived(settings: Settings, unique: str) -> None:
    """A topic's history from before the archive began: a slice whose class date has passed is locked for the
    class's years from today, not refused (which would stop the partition's archive for good)."""
    prefix = f"old{unique}."
    spec = dataclasses.replace(next(s for s in CATALOGUE if s.name == "accounts"), partitions=1)
    ensure_topics(settings, prefix=prefix, catalogue=(spec,))
    kafka = settings.kafka(topic_prefix=prefix)
    long_ago = dt.datetime.combine(DAY - dt.timedelta(days=400), dt.time(9), dt.timezone.utc)
    producer = Producer(kafka.client_config(acks="all"))
    for n in range(3):
        producer.produce(kafka.topic("accounts"), key=b"a", value=b"old %d" % n, timestamp=int(long_ago.timestamp() * 1000))
    assert producer.flush(30) == 0
    archiver = ArchiverSettings(kafka=kafka, archive=settings.archive(), signing_key=SIGNING_KEY, topics=("accounts",),
                                key_prefix=f"tests/archive-{unique}/", retention=ArchiveRetention(other_years=1))
    store = ArchiveStore(settings.archive())
    report = Archiver(archiver, store=store).run_once()
    assert (report.objects, report.records, len(report.roots)) == (1, 3, 402)   # a root a day since, to yesterday
    [key] = store.keys(f"{archiver.key_prefix}data/")
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    assert store.retention(key) == ("COMPLIANCE", dt.datetime(tomorrow.year + 1, tomorrow.month, tomorrow.day,
                                                              tzinfo=dt.timezone.utc))
    verifier = VerifierSettings(kafka=kafka, archive=settings.archive(), topics=("accounts",), key_prefix=archiver.key_prefix,
                                verify_key=public_key_text(signing_key(SIGNING_KEY)))
    assert Verifier(verifier, store).verify(long_ago.date(), long_ago.date()).findings == []

"""The local stack's services, over real sockets: Kafka, PostgreSQL, S3 (the registry has its own tests)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import psycopg
import pytest
from botocore.exceptions import ClientError
from confluent_kafka import Consumer, Producer

from connectors.s3archive.bucket import ensure_archive_bucket, s3_client
from schemas.topics import CATALOGUE
from tradestream import db
from tradestream.config import Settings
from tradestream.topics import ensure_topics

pytestmark = pytest.mark.integration


def test_kafka_round_trip_on_a_fresh_topic(settings: Settings, unique: str) -> None:
    from tradestream.topics import TopicSpec

    spec = TopicSpec(f"it.{unique}", "TradeTick", "symbol", 3, 3_600_000)
    created = ensure_topics(settings, prefix="", catalogue=(spec,))
    assert created == [f"it.{unique}"]
    assert ensure_topics(settings, prefix="", catalogue=(spec,)) == []  # idempotent
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "acks": "all"})
    for i in range(10):
        producer.produce(spec.name, key=b"SPY", value=f"v{i}".encode())
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"it-{unique}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([spec.name])
    values = []
    while len(values) < 10:
        message = consumer.poll(10)
        assert message is not None, "no message within 10 s"
        assert message.error() is None
        values.append(message.value().decode())
    consumer.close()
    assert values == [f"v{i}" for i in range(10)]  # one key, one partition: order kept


def test_catalogue_topics_exist_with_their_settings(settings: Settings) -> None:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    topics = admin.list_topics(timeout=10).topics
    for spec in CATALOGUE:
        name = spec.full_name(settings.topic_prefix)
        assert name in topics, name
        assert len(topics[name].partitions) == (spec.partitions or settings.kafka_partitions)
        resource = ConfigResource(ConfigResource.Type.TOPIC, name)
        config = admin.describe_configs([resource])[resource].result()
        assert config["retention.ms"].value == str(spec.retention_ms)
        assert config["cleanup.policy"].value == spec.cleanup_policy


def test_kcat_lists_the_broker_and_topics(settings: Settings) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    assert kcat, "kcat is installed by scripts/install-system-deps.sh"
    listing = subprocess.run([kcat, "-L", "-b", settings.kafka_bootstrap], capture_output=True, text=True,
                             timeout=30, check=True).stdout
    assert "1 brokers:" in listing
    assert f'topic "{CATALOGUE[0].full_name(settings.topic_prefix)}"' in listing


def test_migrations_applied_on_the_plain_postgresql_path(settings: Settings) -> None:
    info = db.info(settings)
    assert info["path"] in ("plain-postgresql", "timescaledb")
    assert any(m.startswith("001_core") for m in info["migrations"])
    assert db.migrate(settings) == []  # idempotent
    with psycopg.connect(settings.database_url) as conn:
        tables = {row[0] for row in conn.execute(
            "select tablename from pg_tables where schemaname = 'public'")}
    assert {"trade_ticks", "bars", "indicator_snapshots", "signals", "dead_letters", "feed_status",
            "latency_metrics", "quote_ticks", "schema_migrations"} <= tables


def test_bars_reject_inconsistent_ohlc(settings: Settings) -> None:
    with psycopg.connect(settings.database_url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            """insert into bars (symbol, timeframe, start, "end", start_ns, end_ns, session, open, high, low,
                                 close, volume, vwap, trades, ts_init_ns)
               values ('X', '5m', now(), now(), 0, 0, 'regular', 10, 9, 8, 9, 1, 9, 1, 0)""")


def test_archive_bucket_has_object_lock_and_refuses_deletes(settings: Settings, unique: str) -> None:
    report = ensure_archive_bucket(settings.archive())
    assert report["object_lock"] == "COMPLIANCE"
    assert report["versioning"] == "Enabled"
    s3 = s3_client(settings.archive())
    key = f"tests/{unique}.txt"
    until = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(days=2)
    # As the archiver does: the lock on the PUT itself (a version written under the bucket's default rule
    # alone carries no retention of its own on versitygw).
    put = s3.put_object(Bucket=settings.s3_bucket, Key=key, Body=b"record", ObjectLockMode="COMPLIANCE",
                        ObjectLockRetainUntilDate=until)
    head = s3.head_object(Bucket=settings.s3_bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    retention = s3.get_object_retention(Bucket=settings.s3_bucket, Key=key, VersionId=put["VersionId"])["Retention"]
    assert (retention["Mode"], retention["RetainUntilDate"]) == ("COMPLIANCE", until)
    refused_calls = (
        lambda: s3.delete_object(Bucket=settings.s3_bucket, Key=key, VersionId=put["VersionId"]),
        lambda: s3.put_object_retention(Bucket=settings.s3_bucket, Key=key, VersionId=put["VersionId"], Retention={
            "Mode": "COMPLIANCE", "RetainUntilDate": until - dt.timedelta(days=1)}),
        lambda: s3.put_object_retention(Bucket=settings.s3_bucket, Key=key, VersionId=put["VersionId"], Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until}, BypassGovernanceRetention=True),
    )
    for call in refused_calls:  # delete the version, shorten its retention, downgrade it to GOVERNANCE
        with pytest.raises(ClientError) as refused:
            call()
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    retention = s3.get_object_retention(Bucket=settings.s3_bucket, Key=key, VersionId=put["VersionId"])["Retention"]
    assert (retention["Mode"], retention["RetainUntilDate"]) == ("COMPLIANCE", until)
    body = s3.get_object(Bucket=settings.s3_bucket, Key=key, VersionId=put["VersionId"])["Body"].read()
    assert body == b"record"

"""The audit replay from the compliance archive on the real stack: a simulated day run live (the worker and the
strategy runner trading in the example paper account, as tests/integration/test_audit_replay.py runs it), archived
to the stack's versitygw bucket, then replayed from the topics and from the archive: both reproduce every output
with no difference and the same counts, and the archive's replay opens no Kafka connection (every Kafka and
registry client class refused, the broker and the registry addresses pointing nowhere). An object changed after
it was archived, then one deleted, each stop the replay with a message naming it and exit status 2. Prints archived
under an older schema version replay from the archive through schema resolution. An archive whose last pass
ran mid-range is said to stop before the range's end, partition by partition, and compared only up to there."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import struct
import sys
import time
from pathlib import Path

import confluent_kafka
import confluent_kafka.admin
import confluent_kafka.schema_registry
import fastavro
import pytest
import yaml
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

import connectors.s3archive.reader
import streams.audit_archive
import streams.audit_replay
import tradestream.commands.audit_replay
from connectors.base import BatchingKafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from connectors.s3archive.archiver import Archiver, ArchiverSettings
from connectors.s3archive.bucket import ensure_archive_bucket, s3_client
from connectors.s3archive.store import ArchiveStore
from processors.archive.retention import ArchiveRetention
from processors.calendar import build_nyse_calendar
from processors.csvio import format_time
from processors.indicators import IndicatorSet
from streams.audit_replay import STAGES
from tradestream import cli
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .test_audit_replay import (ACCOUNT_FILE, DAY, EXIT_RULE, ROOT, closed_bars, counts, run_live, session_outputs,
                                simulated_days, strategy)

pytestmark = pytest.mark.integration
SIGNING_KEY = "HS/hHZzHzFwu0GQHtNGJ6LHPTOpArsRYVJLtDLgFD/w="   # the archive tests' key, not a secret of anyone's
CLIENTS = ("Consumer", "Producer", "AdminClient", "SchemaRegistryClient")
REPLAY_MODULES = (connectors.s3archive.reader, streams.audit_archive, streams.audit_replay,
                  tradestream.commands.audit_replay)
"""Loaded before `refuse_kafka`, so that their names for the client classes are replaced too."""


class NoClient:
    """Stands for every Kafka and schema registry client class during the archive's replay."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the replay from the archive made a Kafka or schema registry client")


def refuse_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Kafka client can be made from here on: the broker and the registry are addresses where nothing listens,
    and every module's name for a client class (those loaded now and those importing it later) is `NoClient`."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")
    monkeypatch.setenv("SCHEMA_REGISTRY_URL", "http://127.0.0.1:1")
    real = {getattr(module, name) for module in (confluent_kafka, confluent_kafka.admin,
                                                 confluent_kafka.schema_registry) for name in CLIENTS
            if hasattr(module, name)}
    for module in list(sys.modules.values()):
        for name in CLIENTS:
            if getattr(module, name, None) in real:
                monkeypatch.setattr(module, name, NoClient)


def replay(arguments: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str, float]:
    began = time.perf_counter()
    status = cli.main(["audit", "replay", *arguments])
    elapsed = time.perf_counter() - began
    captured = capsys.readouterr()
    return status, captured.out, captured.err, elapsed


def input_fact(report: Path) -> str:
    found = re.search(r"([\d,]+ records, [\d,]+ prints \([\d,]+ records that do not decode\); [\d,]+ prints evaluated)",
                      report.read_text())
    assert found, report.read_text()[:2000]
    return found.group(1)


def test_a_day_replays_from_the_archive_as_from_the_topics_and_a_changed_or_missing_object_stops_it(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    calendar = build_nyse_calendar(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=2))
    primary, correlated, ticks = simulated_days(unique, (DAY,), calendar)
    config = strategy(f"audit-{unique}", primary, correlated, EXIT_RULE)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    expected = session_outputs(config, ticks, calendar)
    assert len(expected["signals"]) >= 4 and len(expected["fills"]) >= 2, "the day must trade"
    closed = closed_bars(settings, ticks, calendar)
    run_live(settings, unique, tmp_path, config_file, ticks, expected, len(closed))

    key_prefix = f"tests/replay-{unique}/"
    store, records = archive_day(settings, prefix, key_prefix)
    assert records >= len(ticks)

    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    monkeypatch.setenv("ARCHIVE_KEY_PREFIX", key_prefix)
    day = ["--from", DAY.isoformat(), "--to", DAY.isoformat(), "--config", str(config_file), "--account",
           str(ACCOUNT_FILE)]
    capsys.readouterr()
    status, from_kafka, _, kafka_s = replay([*day, "--source", "kafka", "--out", str(tmp_path / "kafka")], capsys)
    assert status == 0, from_kafka

    refuse_kafka(monkeypatch)
    status, from_archive, errors, archive_s = replay([*day, "--source", "archive", "--out",
                                                      str(tmp_path / "archive")], capsys)
    assert status == 0, from_archive + errors
    for stage in STAGES:
        assert counts(from_archive, stage) == counts(from_kafka, stage), stage
        assert counts(from_archive, stage)[3] == 0, stage
    assert counts(from_archive, "bars")[:3] == (len(closed),) * 3
    for name, outputs in expected.items():
        assert counts(from_archive, name) == (len(outputs),) * 3 + (0,), name
    assert input_fact(tmp_path / "archive" / "report.html") == input_fact(tmp_path / "kafka" / "report.html")
    assert f"{len(ticks):,} prints" in input_fact(tmp_path / "archive" / "report.html")
    assert "objects read, each checked against the SHA-256 in its manifest" in (
        tmp_path / "archive" / "report.html").read_text()
    print(f"\nsimulated day of {len(ticks):,} prints: replay from Kafka {kafka_s:.1f} s, from the archive "
          f"{archive_s:.1f} s ({len(store.keys(key_prefix + 'data/'))} objects)", file=sys.__stdout__)

    # An object changed after it was archived (a new version written over it): refused, named. It is one of the
    # indicators (read after the prints); then one of the prints, read first, is deleted.
    s3 = s3_client(settings.archive())
    changed = store.keys(f"{key_prefix}data/{prefix}indicators/")[0]
    deleted = store.keys(f"{key_prefix}data/{prefix}ticks.trades/")[0]
    reader = fastavro.reader(io.BytesIO(store.get(changed)))
    rows = list(reader)
    rows[0]["timestamp_ms"] += 1
    forged = io.BytesIO()
    fastavro.writer(forged, reader.writer_schema, rows, codec="deflate",
                    metadata={k: v for k, v in reader.metadata.items() if not k.startswith("avro.")})
    until = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=400)
    s3.put_object(Bucket=settings.s3_bucket, Key=changed, Body=forged.getvalue(), ObjectLockMode="COMPLIANCE",
                  ObjectLockRetainUntilDate=until)
    status, printed, errors, _ = replay([*day, "--source", "archive", "--out", str(tmp_path / "changed")], capsys)
    assert status == 2, printed + errors
    assert f"archive object {changed} has SHA-256" in errors and "changed after it was archived" in errors, errors
    assert "Traceback" not in errors and not (tmp_path / "changed" / "report.html").exists()

    # An object deleted (a delete marker over its locked version): refused, named.
    s3.delete_object(Bucket=settings.s3_bucket, Key=deleted)
    status, printed, errors, _ = replay([*day, "--source", "archive", "--out", str(tmp_path / "deleted")], capsys)
    assert status == 2, printed + errors
    assert f"archive object {deleted} is not in the bucket" in errors, errors
    assert "Traceback" not in errors


def archive_day(settings: Settings, prefix: str, key_prefix: str) -> tuple[ArchiveStore, int]:
    """Every business topic of `prefix` archived under `key_prefix`; (the store, the records archived)."""
    ensure_archive_bucket(settings.archive())
    store = ArchiveStore(settings.archive())
    archived = Archiver(ArchiverSettings(kafka=settings.kafka(prefix), archive=settings.archive(),
                                         signing_key=SIGNING_KEY, key_prefix=key_prefix,
                                         retention=ArchiveRetention(trade_record_years=1, order_years=1,
                                                                    other_years=1)), store=store).run_once()
    assert archived.missing_topics == []
    return store, archived.records


def test_prints_archived_under_an_older_schema_version_replay_from_the_archive_through_schema_resolution(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The morning's prints batched under TradeTickBatch version 1, the afternoon's under the current version (as
    test_audit_replay.py records them): archived, each version's records are in objects of their own with their
    writer schema inside, and the replay from the archive, with no registry, resolves version 1 to the current
    one and gives the replay from the topics' report."""
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    version1 = json.loads((ROOT / "tests/schemas/history/trade_tick_batch.v1.avsc").read_text())
    old_id = SchemaRegistryClient({"url": settings.schema_registry_url}).register_schema(
        f"{prefix}ticks.batches-value", Schema(json.dumps(version1), "AVRO"))
    register_all(settings.schema_registry_url, prefix=prefix)
    parsed = fastavro.parse_schema(version1)
    calendar = build_nyse_calendar(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=2))
    primary, correlated, ticks = simulated_days(unique, (DAY,), calendar)
    config = strategy(f"audit-{unique}", primary, correlated, EXIT_RULE)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    expected = session_outputs(config, ticks, calendar)
    closed = closed_bars(settings, ticks, calendar)

    def publish(publisher: EventPublisher, prints: list) -> None:
        topic = publisher.kafka.topic("ticks.batches")
        for start in range(0, len(prints) // 2, 50):
            for symbol in (primary, correlated):
                batch = [t for t in prints[start:min(start + 50, len(prints) // 2)] if t.symbol == symbol]
                if not batch:
                    continue
                out = io.BytesIO()
                out.write(struct.pack(">bI", 0, old_id))
                fastavro.schemaless_writer(out, parsed, {"symbol": symbol, "feed": batch[0].feed, "ts_init": 0,
                                                         "ticks": [{"ts_event": t.ts_event, "ts_init": t.ts_init,
                                                                    "price": t.price, "size": t.size,
                                                                    "trade_id": t.trade_id, "exchange": t.exchange,
                                                                    "conditions": list(t.conditions)} for t in batch]})
                publisher.producer.produce(topic, key=symbol.encode(), value=out.getvalue())
        feed = BatchingKafkaFeedSink(publisher, max_ticks=50)
        for tick in prints[len(prints) // 2:]:
            feed.on_trade(tick)
        feed.flush()

    run_live(settings, unique, tmp_path, config_file, ticks, expected, len(closed), publish=publish,
             bar_input="batches")
    key_prefix = f"tests/replay-{unique}/"
    store, _ = archive_day(settings, prefix, key_prefix)
    headers = [fastavro.reader(io.BytesIO(store.get(key))).metadata["tradestream.value_schema_id"]
               for key in store.keys(f"{key_prefix}data/{prefix}ticks.batches/")]
    assert str(old_id) in headers and len(set(headers)) == 2, "objects of each version"

    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    monkeypatch.setenv("BAR_INPUT", "batches")
    monkeypatch.setenv("ARCHIVE_KEY_PREFIX", key_prefix)
    day = ["--from", DAY.isoformat(), "--to", DAY.isoformat(), "--config", str(config_file), "--account",
           str(ACCOUNT_FILE)]
    capsys.readouterr()
    status, from_kafka, _, _ = replay([*day, "--out", str(tmp_path / "kafka")], capsys)
    assert status == 0, from_kafka
    refuse_kafka(monkeypatch)
    status, from_archive, errors, _ = replay([*day, "--source", "archive", "--out", str(tmp_path / "archive")],
                                             capsys)
    assert status == 0, from_archive + errors
    for stage in STAGES:
        assert counts(from_archive, stage) == counts(from_kafka, stage), stage
    for name, outputs in expected.items():
        assert counts(from_archive, name) == (len(outputs),) * 3 + (0,), name
    assert counts(from_archive, "bars") == (len(closed),) * 3 + (0,)
    assert f"{len(ticks):,} prints (0 records that do not decode)" in input_fact(tmp_path / "archive" / "report.html")


def test_an_archive_without_the_replays_input_is_refused_with_what_to_check(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    ensure_archive_bucket(settings.archive())
    monkeypatch.setenv("TOPIC_PREFIX", f"a{unique}.")
    monkeypatch.setenv("ARCHIVE_KEY_PREFIX", f"tests/nothing-{unique}/")
    refuse_kafka(monkeypatch)
    status, printed, errors, _ = replay(["--from", DAY.isoformat(), "--to", DAY.isoformat(), "--source", "archive",
                                         "--out", str(tmp_path / "out")], capsys)
    assert status == 2, printed + errors
    assert "holds no record of" in errors and "ARCHIVE_KEY_PREFIX" in errors and "Traceback" not in errors


def test_an_archive_that_stops_before_the_range_ends_is_said_per_partition_and_compared_only_up_to_there(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The day's prints, bars and indicators recorded with their Kafka timestamps at the instants a live day
    leaves them (a print at its event time, a bar and its indicators when the print that closes it comes); the
    archiver's last pass ran at noon, New York, so the archive holds the morning only. The replay of the day from
    the archive names every partition it read and the instant it is archived to (its newest record), exits 3,
    and compares the bars and indicators settled before the earliest of those instants: all of them, none
    after. With --accept-partial-range it exits 0. The topics themselves give the whole day."""
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    kafka = settings.kafka(prefix)
    calendar = build_nyse_calendar(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=2))
    primary, correlated, ticks = simulated_days(unique, (DAY,), calendar)
    symbols = (primary, correlated)
    stage = settings.bars_stage()
    noon_ms = int(dt.datetime(DAY.year, DAY.month, DAY.day, 17, tzinfo=dt.timezone.utc).timestamp() * 1000)

    # (topic, partition, Kafka timestamp ms, key, event) of everything the live day records.
    records = [(kafka.topic("ticks.trades"), symbols.index(t.symbol), t.ts_event // 1_000_000, t.symbol, t)
               for t in ticks]
    indicators: dict[tuple[str, str], IndicatorSet] = {}
    bars = []   # (bar, the Kafka time it is recorded at)
    for bar in closed_bars(settings, ticks, calendar):
        closer = next(t for t in ticks if t.symbol == bar.symbol and t.ts_event >= bar.end + stage.lateness_ns)
        bars.append((bar, closer.ts_event // 1_000_000))
    for bar, stamp in sorted(bars, key=lambda item: (item[1], item[0].timeframe)):
        partition = symbols.index(bar.symbol)
        records.append((kafka.topic("bars"), partition, stamp, bar.symbol, bar))
        snapshot = indicators.setdefault((bar.symbol, bar.timeframe),
                                         IndicatorSet(bar.symbol, bar.timeframe)).handle_bar(bar)
        if snapshot is not None:
            records.append((kafka.topic("indicators"), partition, stamp, bar.symbol, snapshot))
    codec = AvroCodec(kafka.registry_config())
    producer = confluent_kafka.Producer(kafka.client_config())

    def produce(part: list) -> None:
        for topic, partition, stamp, key, event in part:
            producer.produce(topic, key=key.encode(), value=codec.encode(topic, event), partition=partition,
                             timestamp=stamp)
        assert producer.flush(30) == 0

    morning = [r for r in records if r[2] < noon_ms]
    produce(morning)
    ensure_archive_bucket(settings.archive())
    key_prefix = f"tests/partial-{unique}/"
    Archiver(ArchiverSettings(kafka=kafka, archive=settings.archive(), signing_key=SIGNING_KEY,
                              key_prefix=key_prefix, topics=("ticks.trades", "bars", "indicators"),
                              retention=ArchiveRetention(trade_record_years=1, order_years=1, other_years=1)),
             clock=lambda: noon_ms / 1000).run_once()
    produce([r for r in records if r[2] >= noon_ms])

    newest: dict[tuple[str, int], int] = {}
    for topic, partition, stamp, _, _ in morning:
        newest[(topic, partition)] = max(newest.get((topic, partition), 0), stamp)
    assert len(newest) == 6, "both partitions of each topic hold records of the morning"
    cut_ms = min(newest.values()) + 1
    day_start = int(dt.datetime(DAY.year, DAY.month, DAY.day, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    compared = [bar for bar, stamp in bars if stamp < noon_ms and bar.start >= day_start
                and bar.end + stage.lateness_ns < cut_ms * 1_000_000]
    assert 0 < len(compared) < len(bars) // 2

    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    monkeypatch.setenv("ARCHIVE_KEY_PREFIX", key_prefix)
    day = ["--from", DAY.isoformat(), "--to", DAY.isoformat()]
    capsys.readouterr()
    status, from_kafka, _, _ = replay([*day, "--out", str(tmp_path / "kafka")], capsys)
    assert status == 0, from_kafka
    assert counts(from_kafka, "bars")[0] > len(compared) and "archive stops" not in from_kafka

    refuse_kafka(monkeypatch)
    status, printed, errors, _ = replay([*day, "--source", "archive", "--out", str(tmp_path / "partial")], capsys)
    assert status == 3, printed + errors
    stops = re.findall(r"^archive stops before --to: (\S+) is archived to (\S+)$", printed, re.MULTILINE)
    assert sorted(stops) == sorted((f"{topic}[{partition}]", format_time(stamp_ms * 1_000_000 + 1_000_000))
                                   for (topic, partition), stamp_ms in newest.items()), printed
    assert f"compared up to {format_time(cut_ms * 1_000_000)} (exclusive)" in printed
    assert "--accept-partial-range" in printed
    assert counts(printed, "bars") == (len(compared),) * 3 + (0,)
    assert counts(printed, "indicators") == (len(compared),) * 3 + (0,)
    assert "archive stops before --to" in (tmp_path / "partial" / "report.html").read_text()

    status, printed, errors, _ = replay([*day, "--source", "archive", "--accept-partial-range", "--out",
                                         str(tmp_path / "accepted")], capsys)
    assert status == 0, printed + errors
    assert counts(printed, "bars") == (len(compared),) * 3 + (0,)

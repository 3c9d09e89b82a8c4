"""Archive throughput: TradeTick records read from Kafka and written to S3 by one archiver pass, records/s.

Run: .venv/bin/python benchmarks/bench_archive.py [--records 200000] [--partitions 2]
Needs the local stack (`make bench` starts it). The benchmark creates its own `ticks.trades` topic under a
fresh TOPIC_PREFIX, produces the prints (encoded by the project's codec, as the feeds do) with timestamps
spread over three hours of the day before yesterday, then times `Archiver.run_once()`: reading the
partitions, decoding every value with its writer schema, writing the Avro container files (deflate) and the
manifests with Object Lock to versitygw, and signing the daily roots. The figure printed is records archived
per second of that pass, with the bytes written; then `audit verify` of the day (every object re-read and
hashed, each record compared with the topic's, retention and versions read), records checked per second. The topic is deleted afterwards; the objects stay, locked for
one year (the shortest retention), under `benchmarks/archive-<token>/` in the archive bucket.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import time
import uuid
from decimal import Decimal

from confluent_kafka import Producer

from connectors.kafka.codec import AvroCodec
from connectors.s3archive.archiver import Archiver, ArchiverSettings
from connectors.s3archive.bucket import ensure_archive_bucket
from connectors.s3archive.store import ArchiveStore
from connectors.s3archive.verifier import Verifier, VerifierSettings
from processors.archive.retention import ArchiveRetention
from processors.archive.root import public_key_text, signing_key
from processors.model import TradeTick
from schemas.topics import CATALOGUE
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics


class CountingStore(ArchiveStore):
    """The archive store, counting the bytes it writes."""

    written_bytes = 0

    def put_locked(self, key, data, retain_until, content_type):  # noqa: ANN001, ANN201
        self.written_bytes += len(data)
        return super().put_locked(key, data, retain_until, content_type)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=2)
    args = parser.parse_args()
    settings = Settings.from_env()
    token = uuid.uuid4().hex[:8]
    prefix = f"bench{token}."
    spec = dataclasses.replace(next(s for s in CATALOGUE if s.name == "ticks.trades"), partitions=args.partitions)
    ensure_topics(settings, prefix=prefix, catalogue=(spec,))
    kafka = settings.kafka(topic_prefix=prefix)
    topic = kafka.topic("ticks.trades")
    try:
        codec = AvroCodec(kafka.registry_config())
        producer = Producer(kafka.client_config(**{"linger.ms": 20, "compression.type": "lz4"}))
        day = dt.datetime.combine(dt.date.today() - dt.timedelta(days=2), dt.time(14), dt.timezone.utc)
        start_ms = int(day.timestamp() * 1000)
        step_ms = max(1, 3 * 3_600_000 // args.records)
        symbols = ("SPY", "QQQ", "AAPL", "MSFT")
        for i in range(args.records):
            ts_ms = start_ms + i * step_ms
            tick = TradeTick(symbols[i % 4], ts_ms * 1_000_000, ts_ms * 1_000_000 + 500, Decimal("450.25") + i % 100,
                             100 + i % 7, "bench", str(i), "XNAS", ())
            producer.produce(topic, key=tick.symbol.encode(), value=codec.encode(topic, tick),
                             partition=i % args.partitions, timestamp=ts_ms)
            if i % 10_000 == 0:
                producer.poll(0)
        assert producer.flush(60) == 0
        ensure_archive_bucket(settings.archive())
        archiver_settings = ArchiverSettings(
            kafka=kafka, archive=settings.archive(), topics=("ticks.trades",), key_prefix=f"benchmarks/archive-{token}/",
            signing_key=os.environ.get("ARCHIVE_SIGNING_KEY") or "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            retention=ArchiveRetention(trade_record_years=1, order_years=1, other_years=1))
        store = CountingStore(settings.archive())
        began = time.perf_counter()
        report = Archiver(archiver_settings, store=store).run_once()
        elapsed = time.perf_counter() - began
        assert report.records == args.records, report
        print(f"archive: {report.records:,} TradeTick records in {report.objects} objects over {args.partitions} "
              f"partitions: {elapsed:.2f} s, {report.records / elapsed:,.0f} records/s written to S3 "
              f"({store.written_bytes / elapsed / 1e6:.1f} MB/s, {store.written_bytes / report.records:.1f} bytes "
              f"a record); load average {os.getloadavg()[0]:.1f}")
        verifier = Verifier(VerifierSettings(kafka=kafka, archive=settings.archive(), topics=("ticks.trades",),
                                             key_prefix=archiver_settings.key_prefix,
                                             verify_key=public_key_text(signing_key(archiver_settings.signing_key))))
        began = time.perf_counter()
        checked = verifier.verify(day.date(), day.date())
        elapsed = time.perf_counter() - began
        assert not checked.findings and checked.records == args.records, checked.lines()[:5]
        print(f"audit verify: {checked.records:,} records of {checked.objects} objects checked in {elapsed:.2f} s, "
              f"{checked.records / elapsed:,.0f} records/s, 0 findings")
    finally:
        delete_topics(settings, [topic])


if __name__ == "__main__":
    main()

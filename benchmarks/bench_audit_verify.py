"""`audit verify` at scale: a week of TradeTick records archived in hourly slices, then verified, records/s and
objects/s.

Run: .venv/bin/python benchmarks/bench_audit_verify.py [--records 300000] [--partitions 2] [--days 6]
[--repeats 3] [--profile]
Needs the local stack (`make bench` starts it). The benchmark creates its own `ticks.trades` topic under a fresh
TOPIC_PREFIX and produces the prints (the project's codec) stamped evenly over the `--days` whole UTC days before
yesterday, so that every hour of every day is a slice of its own in each partition; one archiver pass writes
them (objects and manifests locked, a signed root per day) under `benchmarks/verify-<token>/` in the archive
bucket, where they stay, locked for one year. Then `Verifier.verify` checks the days (every object read and
hashed with its retention, every record compared with the topic's, the chains, roots and versions) `--repeats`
times with one S3 request at a time, as before, and `--repeats` times with the verifier's default pool of S3
readers, alternately; each run, the medians and the spread are printed. Each run is a fresh process (spawned),
which reports its peak resident memory (`ru_maxrss`) after the verify and its resident memory just before it
(the interpreter and the imports), so the verify's own peak is the difference. `--python-heap` adds one run
with one request at a time under tracemalloc (several times slower) and prints the peak of the Python objects it
allocated, from the verifier's construction on: the resident figure also holds librdkafka's and OpenSSL's
buffers and the allocator's arenas, this one only what the verify keeps. `--profile` prints the 25 costliest
calls (cumulative) of one run with the default pool, in this process.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import os
import pstats
import resource
import statistics
import time
import tracemalloc
import uuid
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal
from multiprocessing import get_context

from confluent_kafka import Producer

from connectors.kafka.codec import AvroCodec
from connectors.s3archive.archiver import Archiver, ArchiverSettings
from connectors.s3archive.bucket import ensure_archive_bucket
from connectors.s3archive.store import ArchiveStore
from connectors.s3archive.verifier import Verifier, VerifierSettings, VerifyReport
from processors.archive.retention import ArchiveRetention
from processors.archive.root import public_key_text, signing_key
from processors.model import TradeTick
from schemas.topics import CATALOGUE
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics

BENCH_SIGNING_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="   # the benchmarks' own archive key


def python_heap_peak(settings: VerifierSettings, first_day: dt.date, last_day: dt.date) -> int:
    """The peak of the Python heap (bytes) during one verify with one request at a time, from the verifier's
    construction on; run in a fresh process."""
    tracemalloc.start()
    Verifier(settings, readers=1).verify(first_day, last_day)
    return tracemalloc.get_traced_memory()[1]


def verify_once(settings: VerifierSettings, readers: int | None, first_day: dt.date,
                last_day: dt.date) -> tuple[float, VerifyReport, int, int]:
    """One verify: (seconds, report, resident memory before it in KiB, peak resident memory after it in KiB); run
    in a fresh process, so the peak is this verify's own (Linux: the resident pages from /proc/self/statm)."""
    with open("/proc/self/statm") as statm:
        before_kib = int(statm.read().split()[1]) * resource.getpagesize() // 1024
    verifier = Verifier(settings) if readers is None else Verifier(settings, readers=readers)
    began = time.perf_counter()
    report = verifier.verify(first_day, last_day)
    elapsed = time.perf_counter() - began
    return elapsed, report, before_kib, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--partitions", type=int, default=2)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--python-heap", action="store_true")
    parser.add_argument("--profile", action="store_true")
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
        first_day = dt.date.today() - dt.timedelta(days=args.days + 1)
        last_day = dt.date.today() - dt.timedelta(days=2)
        start_ms = int(dt.datetime.combine(first_day, dt.time(0), dt.timezone.utc).timestamp() * 1000)
        step_ms = args.days * 86_400_000 // args.records
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
            kafka=kafka, archive=settings.archive(), topics=("ticks.trades",), key_prefix=f"benchmarks/verify-{token}/",
            signing_key=os.environ.get("ARCHIVE_SIGNING_KEY") or BENCH_SIGNING_KEY,
            retention=ArchiveRetention(trade_record_years=1, order_years=1, other_years=1))
        store = ArchiveStore(settings.archive())
        began = time.perf_counter()
        archived = Archiver(archiver_settings, store=store).run_once()
        print(f"archived {archived.records:,} records of {first_day}..{last_day} in {archived.objects} objects "
              f"({args.partitions} partitions, hourly slices), {len(archived.roots)} signed roots, in "
              f"{time.perf_counter() - began:.1f} s", flush=True)
        verifier_settings = VerifierSettings(kafka=kafka, archive=settings.archive(), topics=("ticks.trades",),
                                             key_prefix=archiver_settings.key_prefix,
                                             verify_key=public_key_text(signing_key(archiver_settings.signing_key)))

        def verify(readers: int | None) -> tuple[float, VerifyReport, int, int]:
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as fresh:
                elapsed, report, before_kib, peak_kib = fresh.submit(verify_once, verifier_settings, readers,
                                                                     first_day, last_day).result()
            assert not report.findings and report.records == args.records, report.lines()[:5]
            return elapsed, report, before_kib, peak_kib

        runs: dict[str, list[float]] = {"one request at a time": [], "default pool": []}
        peaks: dict[str, list[int]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, readers in (("one request at a time", 1), ("default pool", None)):
                elapsed, report, before_kib, peak_kib = verify(readers)
                runs[name].append(elapsed)
                peaks[name].append(peak_kib - before_kib)
                print(f"  {name:<22} {elapsed:6.2f} s: {report.records / elapsed:>9,.0f} records/s, "
                      f"{report.objects / elapsed:6.1f} objects/s; peak RSS {peak_kib / 1024:,.0f} MiB "
                      f"({(peak_kib - before_kib) / 1024:,.0f} MiB above the {before_kib / 1024:,.0f} MiB resident "
                      "before the verify)", flush=True)
        print(f"audit verify of {args.days} days: {report.records:,} records, {report.objects} objects, "
              f"{report.manifests} manifests, {report.roots} roots; 0 findings")
        for name, times in runs.items():
            median = statistics.median(times)
            print(f"  {name:<22} median {median:6.2f} s (min {min(times):.2f}, max {max(times):.2f}): "
                  f"{report.records / median:,.0f} records/s, {report.objects / median:.1f} objects/s; "
                  f"verify's peak memory {max(peaks[name]) / 1024:,.0f} MiB (largest of the runs)")
        before, after = (statistics.median(t) for t in runs.values())
        print(f"  the default pool takes {after / before:.2f}x the time of one request at a time; load average "
              f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        if args.python_heap:
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as fresh:
                peak = fresh.submit(python_heap_peak, verifier_settings, first_day, last_day).result()
            print(f"  the Python heap's peak during a verify (tracemalloc, one request at a time): "
                  f"{peak / 2**20:,.1f} MiB")
        if args.profile:
            profile = cProfile.Profile()
            profile.runcall(verify_once, verifier_settings, None, first_day, last_day)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)
    finally:
        delete_topics(settings, [topic])


if __name__ == "__main__":
    main()

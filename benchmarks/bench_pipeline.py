"""End to end on the real stack: ticks -> Kafka -> Faust worker (bars, indicators) -> sink -> PostgreSQL.

Needs the stack (`make stack-up`). Run: .venv/bin/python benchmarks/bench_pipeline.py [--ticks 1000000]
[--rate 60000] [--mode batched|single] [--records batches|single] [--batch-ticks 200] [--batch-ms 20]
[--compare-ticks 30000] [--compare-rate 5000]
BENCH_WORKER_PROFILE=FILE (BENCH_SINK_PROFILE=FILE) runs the worker (the sink) under cProfile (main thread only)
and writes its profile there.

Ticks are published at a fixed rate with event times following the wall clock, accelerated 30x and
shifted onto a regular NYSE session (a one-minute bar every 2 s), so a bar's end maps to a wall-clock
instant; the bar-close latency is the Kafka timestamp of the bar record minus that instant. Throughput is ticks divided by the time from the
first publish until the last expected indicator snapshot is stored. `--mode single` runs the same
aggregation as a plain one-event-at-a-time agent (table write per tick; the worker of
benchmarks/single_event_worker.py); by default the same run ends with that agent over `--compare-ticks`
ticks published one record per print, and a table of both.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg
from confluent_kafka import Consumer, ConsumerGroupState, KafkaException
from confluent_kafka.admin import AdminClient

from connectors.base import BatchingKafkaFeedSink, KafkaFeedSink
from connectors.kafka.settings import KafkaSettings
from connectors.kafka.publisher import EventPublisher
from processors.calendar import build_nyse_calendar
from processors.model import TradeTick
from connectors.kafka.codec import AvroCodec, register_all
from streams.sinks.rows import TABLES
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics, topic_names

NS = 1_000_000_000
ACCELERATION = 30
SINGLE_EVENT_WORKER = Path(__file__).resolve().with_name("single_event_worker.py")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(groups: dict[str, int]) -> dict[str, float]:
    """CPU time (user + system) used so far by each component, from /proc: the worker and the sink by
    their process groups, this process (the publisher and the bar reader), the Kafka broker JVM, and
    PostgreSQL (every postgres process, plus the reaped short-lived backends in the postmaster's
    children's time)."""
    totals = dict.fromkeys([*groups, "publisher (this process)", "kafka broker", "postgresql"], 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        pgid, utime, stime, cutime, cstime = int(fields[2]), *map(int, fields[11:15])
        own = (utime + stime) / CLOCK_TICKS
        name = next((n for n, group in groups.items() if pgid == group), None)
        if name is not None:
            totals[name] += own
        elif int(entry.name) == os.getpid():
            totals["publisher (this process)"] += own
        elif b"kafka.Kafka" in cmdline:
            totals["kafka broker"] += own
        elif comm == "postgres" or comm.startswith("postgres"):
            totals["postgresql"] += own + ((cutime + cstime) / CLOCK_TICKS if b" -D " in cmdline.replace(b"\0", b" ")
                                           else 0.0)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=60_000.0, help="ticks per second published")
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--mode", choices=("batched", "single"), default="batched",
                        help="bars stage: batched take_events agent, or a plain one-event-at-a-time agent")
    parser.add_argument("--records", choices=("batches", "single"), default="batches",
                        help="Kafka records: per-symbol TradeTickBatch (multi-record Avro) or one per print")
    parser.add_argument("--batch-ticks", type=int, default=200, help="prints per batch at most (FEED_BATCH_TICKS)")
    parser.add_argument("--batch-ms", type=int, default=20, help="a batch waits at most this long (FEED_BATCH_MS)")
    parser.add_argument("--no-trade-ids", action="store_true",
                        help="publish prints without trade ids (as IBKR does): no duplicate-id set in the bars' state")
    parser.add_argument("--compare-ticks", type=int, default=30_000,
                        help="then the same aggregation by a plain one-event-at-a-time agent over this many "
                             "ticks, one record per print (0: not run)")
    parser.add_argument("--compare-rate", type=float, default=5_000.0, help="ticks per second for the comparison")
    args = parser.parse_args()
    if (args.mode, args.records) == ("single", "batches"):
        parser.error("--mode single reads one record per print: give --records single")

    settings = Settings.from_env()
    # Ctrl-C or SIGTERM still stops the worker and sink this script started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = [pipeline(settings, args)]
    if args.compare_ticks and (args.mode, args.records) != ("single", "single"):
        print()
        plain = argparse.Namespace(**{**vars(args), "mode": "single", "records": "single",
                                      "ticks": args.compare_ticks, "rate": args.compare_rate})
        results.append(pipeline(settings, plain))
        print("\n| bars stage, Kafka records | published | end to end | bar close p50 / p99 | CPU per tick |")
        print("|---|---|---|---|---|")
        for result in results:
            print(f"| {result['label']} | {result['ticks']:,} at {result['published']:,.0f}/s | "
                  f"{result['throughput']:,.0f} ticks/s | {result['p50_ms']:,.0f} / {result['p99_ms']:,.0f} ms | "
                  f"{result['cpu_us']:.1f} us |")


def pipeline(settings: Settings, args: argparse.Namespace) -> dict:
    """One run on fresh topics with its own worker and sink; returns its figures."""
    run_id = uuid.uuid4().hex[:8]
    prefix = f"bench{run_id}."
    kafka = settings.kafka(prefix)  # the run's own topics, for the publisher and the readers here
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    env = {**os.environ, "TOPIC_PREFIX": prefix, "BAR_TIMEFRAMES": "1m,5m", "BAR_LATENESS_MS": "0",
           "BAR_INPUT": "batches" if args.records == "batches" else "trades"}
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def profile(component: str) -> list[str]:
        path = os.environ.get(f"BENCH_{component}_PROFILE")
        return ["-m", "cProfile", "-o", path] if path else []

    worker_group, sink_group = f"bench-worker-{run_id}", f"bench-sink-{run_id}"
    worker_command = ["-m", "tradestream.cli", "--log-level", "WARNING", "worker"] if args.mode == "batched" else \
        [str(SINGLE_EVENT_WORKER), "--log-level", "WARNING"]
    worker = subprocess.Popen([sys.executable, *profile("WORKER"), *worker_command, "--app-id", worker_group], env=env,
                              start_new_session=True, stdout=(logs / f"{worker_group}.log").open("w"),
                              stderr=subprocess.STDOUT)
    sink = subprocess.Popen([sys.executable, *profile("SINK"), "-m", "tradestream.cli", "--log-level", "WARNING", "sink",
                             "--group", sink_group], env=env, start_new_session=True,
                            stdout=(logs / f"{sink_group}.log").open("w"), stderr=subprocess.STDOUT)
    symbols = [f"B{run_id[:4].upper()}{i:02d}" for i in range(args.symbols)]
    try:
        # The clock starts once the worker and the sink own their input partitions.
        input_topic = kafka.topic("ticks.batches" if args.records == "batches" else "ticks.trades")
        wait_for_assignment(settings, {worker_group: input_topic, sink_group: kafka.topic("bars")},
                            {"worker": worker, "sink": sink})
        return run(settings, kafka, symbols, args, {"worker": worker.pid, "sink": sink.pid})
    finally:
        for process in (worker, sink):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        clean_up(settings, (prefix, f"{worker_group}-"), symbols)


def clean_up(settings: Settings, topic_prefixes: tuple[str, ...], symbols: list[str]) -> None:
    """Delete what a run made: its topics (the worker's changelogs too) and its rows. Each run uses fresh
    ones; left behind, a few dozen runs fill the disk and pass the broker's open-file limit."""
    delete_topics(settings, [name for name in topic_names(settings) if name.startswith(topic_prefixes)])
    with psycopg.connect(settings.database_url) as conn:
        for table in {table.name for table in TABLES.values() if "symbol" in table.columns}:
            conn.execute(f"delete from {table} where symbol = any(%s)", (symbols,))


def wait_for_assignment(settings: Settings, groups: dict[str, str], processes: dict[str, subprocess.Popen],
                        timeout_s: float = 120.0) -> None:
    """Until each consumer group is stable with every partition of its topic assigned."""
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    partitions = {group: len(admin.list_topics(topic, timeout=10).topics[topic].partitions)
                  for group, topic in groups.items()}
    deadline = time.monotonic() + timeout_s
    while True:
        for name, process in processes.items():
            if process.poll() is not None:
                raise SystemExit(f"the {name} stopped (exit {process.returncode}) before its group was ready; "
                                 f"see its log under {settings.home / 'logs'}")
        ready = []
        for group, future in admin.describe_consumer_groups(list(groups)).items():
            try:
                description = future.result()
            except KafkaException:
                ready.append(False)
                continue
            assigned = {(tp.topic, tp.partition) for member in description.members
                        for tp in member.assignment.topic_partitions if tp.topic == groups[group]}
            ready.append(description.state == ConsumerGroupState.STABLE and len(assigned) == partitions[group])
        if all(ready):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"consumer groups {sorted(groups)} not ready within {timeout_s:.0f} s")
        time.sleep(0.2)


def run(settings: Settings, kafka: KafkaSettings, symbols: list[str], args: argparse.Namespace,
        groups: dict[str, int]) -> dict:
    """Publish the ticks at the rate, wait for the snapshots of every bar they close; the run's figures."""
    calendar = build_nyse_calendar(dt.date(2026, 11, 23), dt.date(2026, 11, 25))
    session_open = calendar.day(dt.date(2026, 11, 24)).open
    origin = session_open + 30 * 60 * NS  # 10:00 ET on a trading day
    prices, sizes, trade_ids = synthetic_prints(args)
    codec = AvroCodec(settings.schema_registry_url)
    publisher = EventPublisher(kafka, codec, client_id=f"bench-{kafka.topic_prefix}")
    if args.records == "batches":
        feed: KafkaFeedSink = BatchingKafkaFeedSink(publisher, args.batch_ticks, args.batch_ms * 1_000_000)
    else:
        feed = KafkaFeedSink(publisher)
    cpu_before = cpu_seconds(groups)
    started_wall = time.time_ns()
    reader = BarCloseReader(settings, kafka, codec, origin, started_wall)
    reader.start()
    started = time.monotonic()
    for i in range(args.ticks):
        delay = started + i / args.rate - time.monotonic()
        if delay > 0.001:
            time.sleep(delay)
        now_ns = time.time_ns()
        ts_event = origin + (now_ns - started_wall) * ACCELERATION
        symbol = symbols[i % len(symbols)]
        feed.on_trade(TradeTick(symbol, ts_event, now_ns, prices[i], sizes[i], "bench", trade_ids[i]))
    feed.flush()
    publisher.flush()
    publish_s = time.monotonic() - started
    # Bars close when a later tick passes their end: the last one-minute bar that closed ends at or
    # before the last tick's minute (per symbol the last tick is within 20 ticks of the end).
    expected_end = (ts_event - session_open) // (60 * NS) * 60 * NS + session_open - 60 * NS
    want = max(0, len(symbols) * ((expected_end - origin) // (60 * NS)))  # 0: the run is too short for a bar
    deadline = time.monotonic() + 600
    while stored_snapshots(settings, symbols, expected_end) < want and time.monotonic() < deadline:
        time.sleep(0.5)
    elapsed = time.monotonic() - started
    cpu_after = cpu_seconds(groups)
    reader.stop()
    stored = stored_snapshots(settings, symbols, expected_end)
    used = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
    snapshots = f"{stored}/{want} one-minute snapshots stored" if want else "no one-minute bar closes in so few ticks"
    return report(args, len(symbols), publish_s, elapsed, snapshots, reader, started_wall, used)


def synthetic_prints(args: argparse.Namespace) -> tuple[list[Decimal], list[int], list[str | None]]:
    """Prices, sizes and trade ids of the ticks. What a feed parses from its source comes ready-made: the
    publisher's CPU is the feed sink, Avro and Kafka."""
    rng = np.random.default_rng(1)
    prices = [Decimal(f"{p:.2f}") for p in np.round(100 + rng.normal(0, 0.02, (args.ticks,)).cumsum(), 2)
              .clip(1, None).tolist()]
    sizes = (rng.integers(1, 10, args.ticks) * 100).tolist()
    trade_ids: list[str | None] = [None] * args.ticks if args.no_trade_ids else [str(i) for i in range(args.ticks)]
    return prices, sizes, trade_ids


def stored_snapshots(settings: Settings, symbols: list[str], expected_end: int) -> int:
    """One-minute indicator snapshots stored for bars ending at or before `expected_end`."""
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute(
            "select count(*) from indicator_snapshots where symbol = any(%s) and timeframe = '1m' "
            "and \"end\" <= to_timestamp(%s / 1e9)", (symbols, expected_end)).fetchone()[0]


class BarCloseReader(threading.Thread):
    """Reads the run's bars as they are written: each bar's latency is its Kafka timestamp minus the wall
    instant of its end (event times run ACCELERATION times the wall clock from `origin` at `started_wall`)."""

    def __init__(self, settings: Settings, kafka: KafkaSettings, codec: AvroCodec, origin: int,
                 started_wall: int) -> None:
        super().__init__(daemon=True)
        self.config = {"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"bench-bars-{kafka.topic_prefix}",
                       "auto.offset.reset": "earliest"}
        self.topic = kafka.topic("bars")
        self.codec, self.origin, self.started_wall = codec, origin, started_wall
        self.latencies: list[int] = []
        self.ends: list[int] = []  # wall time of each bar's end, for the latency over time
        self.done = threading.Event()

    def run(self) -> None:
        consumer = Consumer(self.config)
        consumer.subscribe([self.topic])
        while not self.done.is_set():
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            _, value, _ = self.codec.decode_record(message.value())
            end_wall = self.started_wall + (value["end"] - self.origin) // ACCELERATION
            self.latencies.append(message.timestamp()[1] * 1_000_000 - end_wall)
            self.ends.append(end_wall)
        consumer.close()

    def stop(self) -> None:
        self.done.set()
        self.join(timeout=10)


def report(args: argparse.Namespace, symbols: int, publish_s: float, elapsed: float, snapshots: str,
           reader: BarCloseReader, started_wall: int, used: dict[str, float]) -> dict:
    """Print the run's figures; return them for the comparison table."""
    latencies = np.array(reader.latencies, dtype=np.int64)
    records = f"batches of <= {args.batch_ticks} prints / {args.batch_ms} ms" if args.records == "batches" else \
        "one record per print"
    print(f"bars stage: {args.mode}; Kafka records: {records}; {args.ticks:,} ticks over {symbols} symbols "
          f"published at {args.ticks / publish_s:,.0f}/s (target {args.rate:,.0f}/s)")
    print(f"end to end (publish -> bars -> indicators -> PostgreSQL): {args.ticks / elapsed:,.0f} ticks/s "
          f"({elapsed:.1f} s; {snapshots})")
    if len(latencies):
        print(f"bar-close latency after the bar's end: p50 {np.percentile(latencies, 50) / 1e6:.1f} ms, "
              f"p99 {np.percentile(latencies, 99) / 1e6:.1f} ms over {len(latencies)} bars (target p99 < 250 ms)")
        buckets = (np.array(reader.ends, dtype=np.int64) - started_wall) // (5 * NS)
        print("  by the bar's end, seconds after the first publish: " + "; ".join(
            f"{5 * b}-{5 * b + 5} s: p50 {np.percentile(latencies[buckets == b], 50) / 1e6:.0f} / "
            f"p99 {np.percentile(latencies[buckets == b], 99) / 1e6:.0f} ms" for b in np.unique(buckets)))
    print(f"CPU over the run ({elapsed:.1f} s wall, {os.cpu_count()} cores = {elapsed * os.cpu_count():.1f} core-s):")
    for name, seconds in sorted(used.items(), key=lambda item: -item[1]):
        print(f"  {name:<26} {seconds:7.1f} s  {seconds / args.ticks * 1e6:6.1f} us/tick")
    print(f"  {'total':<26} {sum(used.values()):7.1f} s  {sum(used.values()) / args.ticks * 1e6:6.1f} us/tick")
    label = ("batched take_events agent" if args.mode == "batched" else "plain one-event agent") + ", " + \
        ("TradeTickBatch" if args.records == "batches" else "a record per print")
    return {"label": label, "ticks": args.ticks, "published": args.ticks / publish_s,
            "throughput": args.ticks / elapsed,
            "p50_ms": np.percentile(latencies, 50) / 1e6 if len(latencies) else float("nan"),
            "p99_ms": np.percentile(latencies, 99) / 1e6 if len(latencies) else float("nan"),
            "cpu_us": sum(used.values()) / args.ticks * 1e6}


if __name__ == "__main__":
    main()

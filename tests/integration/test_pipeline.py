"""The live path end to end on the real stack: ticks published to Kafka, the Faust worker (killed with
SIGKILL mid-stream and restarted), the sink, PostgreSQL — compared with the batch core on the same ticks.

Exactly-once effect is by idempotent keys: bars carry their natural key (symbol, timeframe, start),
the worker's state records the last applied offset per symbol, and the sink upserts; the database
must hold exactly the bars and indicator snapshots the batch core computes, none missing, none extra.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Producer

from connectors.base import BatchingKafkaFeedSink, KafkaFeedSink
from connectors.kafka.publisher import EventPublisher
from processors.bars import TickArrays, aggregate_batch
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.indicators import IndicatorSet
from processors.model import TradeTickBatch
from processors.simulation import MarketSimulator, SimulationConfig
from connectors.kafka.codec import AvroCodec, register_all
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration

LATENESS_MS = 2000
TIMEFRAMES = ("5m", "15m")


@pytest.mark.parametrize("records", ["single", "batches"])
def test_ticks_to_database_equal_the_batch_core_across_a_worker_crash(settings: Settings, unique: str,
                                                                        tmp_path: Path, records: str) -> None:
    """`records`: one Kafka record per print, or per-symbol multi-record batches (ts.ticks.batches)."""
    prefix = f"p{unique}."
    kafka = settings.kafka(prefix)  # the test's own topics; the worker and the sink get TOPIC_PREFIX below
    env = {**os.environ, "TOPIC_PREFIX": prefix, "BAR_TIMEFRAMES": ",".join(TIMEFRAMES),
           "BAR_INPUT": "batches" if records == "batches" else "trades",
           "BAR_LATENESS_MS": str(LATENESS_MS), "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)

    calendar = build_nyse_calendar(dt.date(2026, 11, 23), dt.date(2026, 11, 25))
    day = calendar.day(dt.date(2026, 11, 24))
    symbols = (f"A{unique[:5]}".upper(), f"B{unique[:5]}".upper())
    window = [w for w in calendar.windows(parse_sessions("regular")) if w.start_ns == day.open][0]
    short = type(window)(window.start_ns, window.start_ns + 90 * 60 * 10**9, "regular")
    ticks = list(MarketSimulator(SimulationConfig(symbols=symbols, seed=11, trades_per_minute=40,
                                                  bad_print_probability=0.002), [short]).ticks())
    assert len(ticks) > 5000

    codec = AvroCodec(settings.schema_registry_url)
    publisher = EventPublisher(kafka, codec, client_id=f"it-{unique}")
    topic = kafka.topic("ticks.batches" if records == "batches" else "ticks.trades")
    feed = BatchingKafkaFeedSink(publisher, max_ticks=100) if records == "batches" else KafkaFeedSink(publisher)
    app_id = f"tradestream-worker-{unique}"
    worker_log = tmp_path / "worker.log"
    sink = spawn(["sink", "--group", f"sink-{unique}"], env, tmp_path / "sink.log")
    worker = spawn(["worker", "--app-id", app_id], env, worker_log)
    try:
        # Two records the stage cannot decode, among the first ticks: dead-lettered, the stage goes on.
        raw = Producer({"bootstrap.servers": settings.kafka_bootstrap})
        raw.produce(topic, key=symbols[0].encode(), value=b"not an Avro record")
        raw.produce(topic, key=symbols[1].encode(), value=b"")
        assert raw.flush(30) == 0
        if records == "batches":  # valid Avro whose packed columns do not hold its three prints
            three = [t for t in ticks if t.symbol == symbols[0]][:3]
            publisher.publish(topic, symbols[0], dataclasses.replace(TradeTickBatch.of(three, 0), prices_e8=b"\x00" * 8))
        half = len(ticks) // 2
        for tick in ticks[:half]:
            feed.on_trade(tick)
        feed.flush()
        assert publisher.flush() == 0 and publisher.failed == 0

        def bars_in_db() -> int:
            with psycopg.connect(settings.database_url) as conn:
                return conn.execute("select count(*) from bars where symbol = any(%s)", (list(symbols),)).fetchone()[0]

        eventually(lambda: bars_in_db() >= 4, timeout_s=120, what="first bars in the database")
        os.killpg(worker.pid, signal.SIGKILL)  # a crash mid-stream
        worker.wait(timeout=30)
        worker = spawn(["worker", "--app-id", app_id], env, worker_log)
        for tick in ticks[half:]:
            feed.on_trade(tick)
        feed.flush()
        assert publisher.flush() == 0 and publisher.failed == 0

        batch = {tf: aggregate_batch(TickArrays.from_ticks(ticks), tf, parse_sessions("regular"), calendar,
                                     LATENESS_MS * 1_000_000).bars for tf in TIMEFRAMES}
        last_event = max(t.ts_event for t in ticks if t.price > 0 and t.size > 0)
        # Bars the stream can close: the watermark (last valid tick per symbol) passed end + lateness.
        watermark = {s: max(t.ts_event for t in ticks if t.symbol == s and t.price > 0 and t.size > 0) for s in symbols}
        expected = [b for tf in TIMEFRAMES for b in batch[tf]
                    if b.end + LATENESS_MS * 1_000_000 <= watermark[b.symbol]]
        assert last_event and len(expected) > 20

        eventually(lambda: bars_in_db() >= len(expected), timeout_s=180, what="every closed bar in the database")

        def snapshots_in_db() -> int:
            with psycopg.connect(settings.database_url) as conn:
                return conn.execute("select count(*) from indicator_snapshots where symbol = any(%s)",
                                    (list(symbols),)).fetchone()[0]
        eventually(lambda: snapshots_in_db() >= len(expected), timeout_s=120, what="every indicator snapshot")

        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute(
                "select symbol, timeframe, start_ns, end_ns, open, high, low, close, volume, vwap, trades from bars "
                "where symbol = any(%s) order by symbol, timeframe, start_ns", (list(symbols),)).fetchall()
            snapshots = conn.execute(
                "select symbol, timeframe, start_ns, atr, dc_upper, dc_lower, pivot, fractal_high, swing_low "
                "from indicator_snapshots where symbol = any(%s) order by symbol, timeframe, start_ns",
                (list(symbols),)).fetchall()
            rejected = conn.execute(
                "select count(*) from dead_letters where source_topic = %s and stage like 'bars:%%'",
                (topic,)).fetchone()[0]
            undecodable = conn.execute(
                "select error_class, reason from dead_letters where source_topic = %s and stage = 'bars' "
                "order by source_partition, source_offset", (topic,)).fetchall()
        want = sorted((b.symbol, b.timeframe, b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.vwap,
                       b.trades) for b in expected)
        assert rows == want  # nothing lost, nothing duplicated, exactly the batch core's values

        want_snapshots = []
        for symbol in symbols:
            for tf in TIMEFRAMES:
                indicator = IndicatorSet(symbol, tf)
                for bar in sorted((b for b in expected if b.symbol == symbol and b.timeframe == tf),
                                  key=lambda b: b.start):
                    s = indicator.handle_bar(bar)
                    want_snapshots.append((symbol, tf, s.start, s.atr, s.dc_upper, s.dc_lower, s.pivot,
                                           s.fractal_high, s.swing_low))
        assert snapshots == sorted(want_snapshots)
        bad_prints = sum(1 for t in ticks if not (t.price > 0 and t.size > 0))
        assert rejected == bad_prints * len(TIMEFRAMES)  # each bad print dead-lettered once per timeframe
        assert sorted(error for error, _ in undecodable) == ["DecodeError", "DecodeError", *(
            ["MalformedBatch"] if records == "batches" else [])]
        assert any("shorter than the 5-byte Confluent header" in reason for _, reason in undecodable)
    finally:
        for process in (worker, sink):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)

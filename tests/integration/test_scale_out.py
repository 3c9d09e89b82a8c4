"""Workers and sinks scale out as consumer groups: two `tradestream worker` (one app id) and two
`tradestream sink` (one group) split the partitions; SIGKILL of one of each (not restarted) moves its
partitions — and the worker's table state, from its changelog — to the survivor, and PostgreSQL then holds
exactly the batch core's bars: none lost, none duplicated."""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path

import psycopg
import pytest
from confluent_kafka.admin import AdminClient

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.bars import TickArrays, aggregate_batch
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.simulation import MarketSimulator, SimulationConfig
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration

LATENESS_MS = 2000
TIMEFRAMES = ("5m", "15m")


def members_with_partitions(admin: AdminClient, group: str) -> int:
    """How many members of `group` hold at least one partition."""
    description = admin.describe_consumer_groups([group])[group].result()
    return sum(1 for member in description.members if member.assignment.topic_partitions)


def test_two_workers_and_two_sinks_split_the_work_and_survive_one_of_each_killed(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"x{unique}."
    kafka = settings.kafka(prefix)
    env = {**os.environ, "TOPIC_PREFIX": prefix, "BAR_TIMEFRAMES": ",".join(TIMEFRAMES), "BAR_INPUT": "trades",
           "BAR_LATENESS_MS": str(LATENESS_MS), "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)

    calendar = build_nyse_calendar(dt.date(2026, 11, 23), dt.date(2026, 11, 25))
    day = calendar.day(dt.date(2026, 11, 24))
    symbols = tuple(f"{letter}{unique[:5]}".upper() for letter in "ABCDEF")
    window = [w for w in calendar.windows(parse_sessions("regular")) if w.start_ns == day.open][0]
    short = type(window)(window.start_ns, window.start_ns + 60 * 60 * 10**9, "regular")
    ticks = list(MarketSimulator(SimulationConfig(symbols=symbols, seed=13, trades_per_minute=20,
                                                  bad_print_probability=0.0), [short]).ticks())
    batch = {tf: aggregate_batch(TickArrays.from_ticks(ticks), tf, parse_sessions("regular"), calendar,
                                 LATENESS_MS * 1_000_000).bars for tf in TIMEFRAMES}
    watermark = {s: max(t.ts_event for t in ticks if t.symbol == s) for s in symbols}
    expected = sorted((b.symbol, b.timeframe, b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.vwap,
                       b.trades) for tf in TIMEFRAMES for b in batch[tf]
                      if b.end + LATENESS_MS * 1_000_000 <= watermark[b.symbol])

    publisher = EventPublisher(kafka, AvroCodec(settings.schema_registry_url), client_id=f"x-{unique}")
    feed = KafkaFeedSink(publisher)

    def publish(part: list) -> None:
        for tick in part:
            feed.on_trade(tick)
        assert publisher.flush() == 0 and publisher.failed == 0

    def stored() -> list[tuple]:
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute(
                "select symbol, timeframe, start_ns, end_ns, open, high, low, close, volume, vwap, trades from bars "
                "where symbol = any(%s) order by symbol, timeframe, start_ns", (list(symbols),)).fetchall()

    app_id, sink_group = f"tradestream-worker-{unique}", f"sink-{unique}"
    workers = [spawn(["worker", "--app-id", app_id], env, tmp_path / f"worker-{i}.log") for i in range(2)]
    sinks = [spawn(["sink", "--group", sink_group], env, tmp_path / f"sink-{i}.log") for i in range(2)]
    admin = AdminClient(kafka.client_config())
    try:
        eventually(lambda: members_with_partitions(admin, app_id) == 2, timeout_s=120,
                   what="two workers holding partitions")
        eventually(lambda: members_with_partitions(admin, sink_group) == 2, timeout_s=60,
                   what="two sinks holding partitions")
        half = len(ticks) // 2
        publish(ticks[:half])
        eventually(lambda: len({row[0] for row in stored()}) == len(symbols), timeout_s=120,
                   what="bars of every symbol (both workers at work)")
        for process in (workers[1], sinks[1]):  # one of each, mid-stream, never restarted
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        publish(ticks[half:])
        eventually(lambda: stored() == expected, timeout_s=240,
                   what="exactly the batch core's bars, by the surviving worker and sink")
    finally:
        for process in (*workers, *sinks):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=60)

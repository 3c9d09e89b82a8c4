"""The sink across a database outage: it pauses, retries with backoff, and stores every record exactly
once when PostgreSQL is back; nothing is acknowledged to Kafka before it is stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from connectors.kafka.publisher import EventPublisher
from processors.model import Bar
from connectors.kafka.codec import AvroCodec, register_all
from tradestream.config import Settings
from tradestream.stack.postgres import PostgresService
from tradestream.topics import ensure_topics

from .conftest import eventually

pytestmark = pytest.mark.integration
MINUTE = 60 * 10**9


def bar(symbol: str, i: int) -> Bar:
    start = 1_795_530_600 * 10**9 + i * MINUTE
    return Bar(symbol=symbol, timeframe="1m", session="regular", start=start, end=start + MINUTE,
               open=Decimal("10"), high=Decimal("11"), low=Decimal("9"), close=Decimal(f"10.{i % 100:02d}"),
               volume=100 + i, vwap=Decimal("10.5"), trades=3, ts_init=start + MINUTE)


def test_database_stopped_and_restarted_loses_and_duplicates_nothing(settings: Settings, unique: str,
                                                                      tmp_path: Path) -> None:
    prefix = f"o{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    symbol = f"O{unique[:6]}".upper()
    env = {**os.environ, "TOPIC_PREFIX": prefix}
    log = tmp_path / "sink.log"
    sink = subprocess.Popen([sys.executable, "-m", "tradestream.cli", "sink", "--group", f"sink-{unique}"], env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), f"outage-{unique}")
    postgres = PostgresService(settings)

    def stored() -> int:
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute("select count(*) from bars where symbol = %s", (symbol,)).fetchone()[0]

    try:
        for i in range(100):
            publisher.publish(f"{prefix}bars", symbol, bar(symbol, i))
        assert publisher.flush() == 0
        eventually(lambda: stored() == 100, timeout_s=60, what="first 100 bars stored")

        postgres.stop()
        try:
            for i in range(100, 300):
                publisher.publish(f"{prefix}bars", symbol, bar(symbol, i))
            assert publisher.flush() == 0
            # The outage lasts until the sink has retried several times with backoff (about 20 s).
            eventually(lambda: log.read_text().count("database unavailable") >= 8, timeout_s=90,
                       what="sink retrying during the outage")
            assert sink.poll() is None, "the sink must survive the outage"
        finally:
            postgres.start()
        eventually(lambda: stored() == 300, timeout_s=90, what="all 300 bars stored after the outage")
        for i in range(10):  # the same keys again: a replay changes nothing
            publisher.publish(f"{prefix}bars", symbol, bar(symbol, i))
        publisher.publish(f"{prefix}bars", symbol, bar(symbol, 300))  # same key, same partition: after them
        assert publisher.flush() == 0
        eventually(lambda: stored() == 301, timeout_s=60, what="the sentinel bar stored")
        with psycopg.connect(settings.database_url) as conn:
            rows = conn.execute("select count(*), count(distinct start), sum(volume) from bars where symbol = %s",
                                (symbol,)).fetchone()
        assert rows == (301, 301, sum(100 + i for i in range(301)))
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=60)

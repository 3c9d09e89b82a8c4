"""The sink stores the trading topics: risk decisions, order events, fills and trades, published through the real
codec and publisher to Kafka and written by the real sink to PostgreSQL. A trade's row is its highest version:
an older version published after a newer one does not overwrite it, and a redelivery of every record (a second
consumer group reading the topics again from the start) changes nothing."""

from __future__ import annotations

import os
import signal
import subprocess
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.probe import KafkaProbe
from connectors.kafka.publisher import EventPublisher
from processors.model import Bar
from streams.sinks.postgres import PostgresSink
from streams.sinks.rows import TABLES
from tests.streams.trading_events import D, deals_trades, fill, ns, order_event, risk_decision, trade, with_version
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration
TABLE_KEYS = {"risk_decisions": "intent_id", "order_events": "client_order_id, sequence", "fills": "exec_id",
              "trades": "trade_id"}


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def snapshot(settings: Settings, accounts: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every row of the four tables for `accounts`, by key."""
    with psycopg.connect(settings.database_url) as conn:
        return {table: conn.execute(f"select * from {table} where account_id = any(%s) order by {key}",
                                    (list(accounts),)).fetchall() for table, key in TABLE_KEYS.items()}


def test_the_sink_stores_trading_events_and_the_newest_version_of_each_trade(settings: Settings, unique: str,
                                                                            tmp_path: Path) -> None:
    prefix = f"tr{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    account, other = f"A-{unique}", f"B-{unique}"
    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), f"trading-{unique}")
    entry = f"{unique}-b"
    publisher.publish(f"{prefix}risk.decisions", account, risk_decision(entry, account))
    publisher.publish(f"{prefix}orders.events", account, order_event(f"{entry}-stop", 0, account, entry))
    publisher.publish(f"{prefix}orders.events", account,
                      order_event(f"{entry}-stop", 1, account, entry, event="MODIFIED"))
    publisher.publish(f"{prefix}fills", account, fill(f"{entry}-1", account, entry, "BUY", 100, "500.25", "1"))
    publisher.publish(f"{prefix}fills", account, fill(f"{entry}-stop-1", account, entry, "SELL", 100, "502.1", "1",
                                                      "0.03"))
    versions = deals_trades(unique, account, other)
    for event in versions:
        publisher.publish(f"{prefix}trades", event.account_id, event)
    # Refused, each a dead letter with its reason: a Bar (its schema registered for the bars topic) on the
    # trades topic, and a trade whose exits exceed its entries.
    bar = Bar(symbol="SPY", timeframe="1m", session="regular", start=0, end=60 * 10**9, open=D("1"), high=D("1"),
              low=D("1"), close=D("1"), volume=1, vwap=D("1"), trades=1, ts_init=0)
    publisher.producer.produce(f"{prefix}trades", key=account.encode(),
                               value=publisher.codec.encode(f"{prefix}bars", bar))
    publisher.publish(f"{prefix}trades", account, with_version(versions[2], trade_id=f"{unique}-bad", exit_qty=101))
    assert publisher.flush() == 0

    env = {**os.environ, "TOPIC_PREFIX": prefix}
    sink = spawn(["sink", "--group", f"sink-{unique}"], env, tmp_path / "sink.log")
    try:
        def counts() -> dict[str, int]:
            with psycopg.connect(settings.database_url) as conn:
                found = {table: conn.execute(f"select count(*) from {table} where account_id = any(%s)",
                                             ([account, other],)).fetchone()[0] for table in TABLE_KEYS}
                found["dead_letters"] = conn.execute("select count(*) from dead_letters where source_topic = %s",
                                                     (f"{prefix}trades",)).fetchone()[0]
            return found

        expected = {"risk_decisions": 1, "order_events": 2, "fills": 2, "trades": 7, "dead_letters": 2}
        eventually(lambda: sink.poll() is not None or counts() == expected, timeout_s=90,
                   what="every trading record stored or dead-lettered")
        assert sink.poll() is None, (tmp_path / "sink.log").read_text()[-3000:]

        with psycopg.connect(settings.database_url) as conn:
            letters = conn.execute("select error_class, reason from dead_letters where source_topic = %s "
                                   "order by source_offset", (f"{prefix}trades",)).fetchall()
            decision = conn.execute("select outcome, quantity, requested_quantity, check_names, check_values, "
                                    "check_limits, check_outcomes, check_allowed_quantities, reasons, signal_price, "
                                    "total_risk_pct, regime from risk_decisions where intent_id = %s",
                                    (entry,)).fetchone()
            events = conn.execute("select sequence, event, status, stop_price, reason, parent_order_id from "
                                  "order_events where client_order_id = %s order by sequence",
                                  (f"{entry}-stop",)).fetchall()
            fills = conn.execute("select exec_id, side, quantity, price, commission, regulatory_fees from fills "
                                 "where trade_id = %s order by exec_id", (entry,)).fetchall()
            trades = {row[0]: row[1:] for row in conn.execute(
                "select trade_id, version, change, status, exit_qty, exit_price, pnl, opened_ns, closed_ns, "
                "last_exit_ns from trades where account_id = any(%s)", ([account, other],))}
        assert [error_class for error_class, _ in letters] == ["UnexpectedRecordError", "DataError"]
        assert "exit_qty 101 is not between 0 and entry_qty 100" in letters[1][1]
        assert decision == ("RESIZE", 100, 150, ["risk_per_trade", "buying_power", "kill_switch"],
                            [Decimal("250"), Decimal("75037.5"), None], [Decimal("500"), Decimal("50025"), None],
                            ["passed", "capped", "passed"], [None, 100, None], [], Decimal("500.25"),
                            Decimal("0.25"), "intraday_margin")
        assert events == [(0, "ACCEPTED", "Placed", Decimal("497.75"), "", entry),
                          (1, "MODIFIED", "Placed", Decimal("497.75"), "stop moved to break-even", entry)]
        assert fills == [(f"{entry}-1", "BUY", 100, Decimal("500.25"), Decimal("1"), Decimal("0")),
                         (f"{entry}-stop-1", "SELL", 100, Decimal("502.1"), Decimal("1"), Decimal("0.03"))]
        t1, t2, t3 = (f"{unique}-{name}" for name in "bcd")
        assert trades[t1] == (2, "CLOSED", "Closed", 100, Decimal("502.1"), Decimal("185"),
                              ns("2026-03-10T13:45:00+00:00"), ns("2026-03-10T15:30:00.5+00:00"),
                              ns("2026-03-10T15:30:00.5+00:00"))
        # The stop moved after the reduction: the newest version, with the reduction's time as its last exit.
        assert trades[t2] == (2, "STOP_MOVED", "Running", 20, Decimal("399"), Decimal("22"),
                              ns("2026-03-10T18:00:00+00:00"), None, ns("2026-03-10T18:30:00+00:00"))
        assert trades[t3] == (0, "SUBMITTED", "Waiting", 0, None, Decimal("0"), None, None, None)

        # Older versions published after the newest (a replay of the producer) change nothing; a record
        # published after them on the same partition (same key) shows that the sink has read them.
        before = snapshot(settings, (account, other))
        for event in (versions[1], versions[0], versions[6], versions[5]):
            publisher.publish(f"{prefix}trades", account, event)
        marker = trade(f"{unique}-marker", account, "marker", 0, "SUBMITTED", "Waiting", "2026-03-12T14:00:00+00:00")
        publisher.publish(f"{prefix}trades", account, marker)
        assert publisher.flush() == 0

        def marker_stored() -> bool:
            with psycopg.connect(settings.database_url) as conn:
                return conn.execute("select 1 from trades where trade_id = %s", (marker.trade_id,)).fetchone()
        eventually(marker_stored, timeout_s=60, what="the record after the older versions stored")
        after = snapshot(settings, (account, other))
        assert after["trades"] == sorted(before["trades"] + [
            tuple(row) for row in after["trades"] if row[0] == marker.trade_id])
        assert {k: v for k, v in after.items() if k != "trades"} == {k: v for k, v in before.items() if k != "trades"}
    finally:
        stop(sink)

    # Every record delivered again: a second group reads the topics from the start.
    before = snapshot(settings, (account, other))
    again = spawn(["sink", "--group", f"again-{unique}"], env, tmp_path / "again.log")
    probe = KafkaProbe(settings.kafka(prefix))
    read = {f"{prefix}{name}" for name in ("risk.decisions", "orders.events", "fills", "trades")}
    try:
        def caught_up() -> bool:
            lag = probe.lag(f"again-{unique}")
            return read <= set(lag.by_topic) and all(lag.by_topic[topic] == 0 for topic in read)
        eventually(lambda: again.poll() is not None or caught_up(), timeout_s=90,
                   what="the second group reading every trading record")
        assert again.poll() is None, (tmp_path / "again.log").read_text()[-3000:]
    finally:
        stop(again)
    assert snapshot(settings, (account, other)) == before


def test_a_trade_keeps_its_last_exit_time_and_its_highest_version_across_batches(settings: Settings,
                                                                                  unique: str) -> None:
    """The write path alone, batch by batch: a later version replaces the row, an older one or the same one
    again changes nothing, and the last exit fill's time survives a newer version that is not an exit."""
    sink = PostgresSink(settings.sink(), codec=None)  # type: ignore[arg-type]  # write() needs no codec
    codec = AvroCodec(settings.schema_registry_url)
    trade_id, account = f"{unique}-w", f"W-{unique}"
    common = dict(symbol="QQQ", direction="short", entry_qty=50, entry_price="400.1",
                  opened="2026-03-10T18:00:00+00:00")
    opened = trade(trade_id, account, "s", 0, "OPENED", "Running", "2026-03-10T18:00:00+00:00", **common)
    reduced = trade(trade_id, account, "s", 1, "REDUCED", "Running", "2026-03-10T18:30:00+00:00", exit_qty=20,
                    exit_price="399", pnl="22", **common)
    moved = trade(trade_id, account, "s", 2, "STOP_MOVED", "Running", "2026-03-10T18:31:00+00:00", exit_qty=20,
                  exit_price="399", pnl="22", **common)

    def row(event: object) -> tuple:
        return TABLES["TradeUpdated"].row(codec.to_record(event))

    def stored() -> tuple:
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute("select version, change, exit_qty, last_exit_ns from trades where trade_id = %s",
                                (trade_id,)).fetchone()

    sink.write({"TradeUpdated": [row(opened)]})
    assert stored() == (0, "OPENED", 0, None)
    sink.write({"TradeUpdated": [row(reduced)]})
    assert stored() == (1, "REDUCED", 20, ns("2026-03-10T18:30:00+00:00"))
    sink.write({"TradeUpdated": [row(moved)]})
    assert stored() == (2, "STOP_MOVED", 20, ns("2026-03-10T18:30:00+00:00"))
    for older in ([row(opened)], [row(reduced), row(opened)], [row(moved)]):
        sink.write({"TradeUpdated": older})
        assert stored() == (2, "STOP_MOVED", 20, ns("2026-03-10T18:30:00+00:00"))

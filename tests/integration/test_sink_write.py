"""The sink's database half against the real PostgreSQL: batched upserts on natural keys."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from streams.sinks.postgres import PostgresSink
from streams.sinks.rows import TABLES, ts
from tradestream.config import Settings

pytestmark = pytest.mark.integration


def bar(symbol: str, start: int, close: str) -> dict:
    return {"symbol": symbol, "timeframe": "5m", "session": "regular", "start": start, "end": start + 300 * 10**9,
            "open": Decimal("10"), "high": Decimal("12"), "low": Decimal("9"), "close": Decimal(close),
            "volume": 100, "vwap": Decimal("10.5"), "trades": 3, "ts_init": 1}


def tick(symbol: str, ts_event: int, trade_id: str | None) -> dict:
    return {"symbol": symbol, "ts_event": ts_event, "ts_init": ts_event + 1, "price": Decimal("10.01"), "size": 100,
            "trade_id": trade_id, "exchange": None, "conditions": ["@"], "feed": "test"}


def test_upserts_are_idempotent_and_bars_take_the_latest(settings: Settings, unique: str) -> None:
    sink = PostgresSink(settings.sink(), codec=None)  # type: ignore[arg-type]  # write() needs no codec
    symbol = f"T{unique}".upper()
    t0 = 1_764_000_000 * 10**9
    rows = {
        "Bar": [TABLES["Bar"].row(bar(symbol, t0, "11")), TABLES["Bar"].row(bar(symbol, t0 + 300 * 10**9, "11.5"))],
        "TradeTick": [TABLES["TradeTick"].row(tick(symbol, t0 + i, f"id{i}")) for i in range(5)]
                     + [TABLES["TradeTick"].row(tick(symbol, t0 + 99, None))],
    }
    assert sink.write(rows) == 8
    assert (sink.stats.copied, sink.stats.upserted) == (1, 1)  # new ticks: COPY; bars: always upserted
    assert sink.write(rows) == 8  # the replay writes nothing new
    assert (sink.stats.copied, sink.stats.upserted) == (1, 3)  # stored ticks: the upsert way
    # New prints mixed with stored ones and a print repeated within the batch: each stored once.
    mixed = [TABLES["TradeTick"].row(tick(symbol, t0 + i, f"id{i}")) for i in (3, 4, 5, 6, 6)]
    assert sink.write({"TradeTick": mixed}) == 5
    # A re-emitted bar with a corrected close replaces the stored one; the same key twice in one
    # batch keeps the last.
    assert sink.write({"Bar": [TABLES["Bar"].row(bar(symbol, t0, "11.25")),
                               TABLES["Bar"].row(bar(symbol, t0, "11.75"))]}) == 2
    # A batch the database refuses rolls back the staging table created with it; the next batch still
    # finds (re-creates) its staging table.
    fresh = PostgresSink(settings.sink(), codec=None)  # type: ignore[arg-type]
    broken = TABLES["Bar"].row(bar(symbol, t0 + 600 * 10**9, "11"))
    with pytest.raises(psycopg.errors.NotNullViolation):
        fresh.write({"Bar": [(*broken[:7], None, *broken[8:])]})  # open is NULL
    assert fresh.write({"Bar": [TABLES["Bar"].row(bar(symbol, t0 + 600 * 10**9, "11"))]}) == 1
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("select count(*) from trade_ticks where symbol = %s", (symbol,)).fetchone()[0] == 8
        closes = conn.execute("select close from bars where symbol = %s order by start", (symbol,)).fetchall()
    assert [c[0] for c in closes] == [Decimal("11.75"), Decimal("11.5"), Decimal("11")]



def test_sale_conditions_are_stored_as_given_whatever_their_characters(settings: Settings, unique: str) -> None:
    """Conditions reach COPY as text[] literals: quotes, backslashes, commas, braces and spaces survive."""
    sink = PostgresSink(settings.sink(), codec=None)  # type: ignore[arg-type]
    symbol = f"C{unique}".upper()
    odd = [["@", "F"], ['"', "\\", ",", "{}", " a b ", "NULL"], [], ["\t"]]
    rows = [TABLES["TradeTick"].row({**tick(symbol, 1_764_000_000 * 10**9 + i, f"c{i}"), "conditions": conditions})
            for i, conditions in enumerate(odd)]
    assert sink.write({"TradeTick": rows}) == 4
    with psycopg.connect(settings.database_url) as conn:
        stored = conn.execute("select conditions, ts, ts_event_ns from trade_ticks where symbol = %s "
                              "order by trade_id", (symbol,)).fetchall()
    assert [row[0] for row in stored] == odd
    # The binary COPY's timestamps: the event's nanoseconds truncated to the microsecond, UTC.
    assert [(row[1], row[2]) for row in stored] == [(ts(t), t) for t in (1_764_000_000 * 10**9 + i for i in range(4))]
    late = 1_764_000_000_123_456_789
    assert sink.write({"TradeTick": [TABLES["TradeTick"].row(tick(symbol, late, "late"))]}) == 1
    with psycopg.connect(settings.database_url) as conn:
        when = conn.execute("select ts from trade_ticks where symbol = %s and trade_id = 'late'", (symbol,)).fetchone()[0]
    assert when == dt.datetime(2025, 11, 24, 16, 0, 0, 123456, tzinfo=dt.timezone.utc) == ts(late)

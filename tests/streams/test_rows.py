from __future__ import annotations

from decimal import Decimal

from streams.sinks.rows import TABLES, ts, upsert_sql


def tick(symbol: str, ts_event: int, trade_id: str | None) -> dict:
    return {"symbol": symbol, "ts_event": ts_event, "ts_init": ts_event + 1, "price": Decimal("10.01"), "size": 100,
            "trade_id": trade_id, "exchange": None, "conditions": ["@"], "feed": "test"}


def test_a_tick_without_trade_id_gets_a_deterministic_one() -> None:
    first = TABLES["TradeTick"].row(tick("SPY", 5, None))
    again = TABLES["TradeTick"].row(tick("SPY", 5, None))
    other = TABLES["TradeTick"].row(tick("SPY", 6, None))
    assert first[4] == again[4] != other[4]


def test_nanoseconds_become_utc_microseconds() -> None:
    value = ts(1_764_000_000_123_456_789)
    assert value.isoformat() == "2025-11-24T16:00:00.123456+00:00"


def test_every_table_row_has_its_columns_and_key() -> None:
    for table in TABLES.values():
        assert set(table.key) <= set(table.columns)
        sql = upsert_sql(table)
        assert f"on conflict ({', '.join(chr(34) + c + chr(34) for c in table.key)})" in sql

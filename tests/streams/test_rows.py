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


def test_implausible_rows_are_refused_with_the_reason() -> None:
    import pytest

    from tradestream.errors import DataError

    with pytest.raises(DataError, match="price 0"):
        TABLES["TradeTick"].row({**tick("SPY", 1, "x"), "price": Decimal("0")})
    with pytest.raises(DataError, match="size"):
        TABLES["TradeTick"].row({**tick("SPY", 1, "x"), "size": 0})
    bar = {"symbol": "S", "timeframe": "5m", "session": "regular", "start": 0, "end": 1, "open": Decimal(2),
           "high": Decimal(1), "low": Decimal(1), "close": Decimal(1), "volume": 1, "vwap": Decimal(1), "trades": 1,
           "ts_init": 0}
    with pytest.raises(DataError, match="inconsistent"):
        TABLES["Bar"].row(bar)

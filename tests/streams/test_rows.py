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

    from schemas.errors import DataError

    with pytest.raises(DataError, match="price 0"):
        TABLES["TradeTick"].row({**tick("SPY", 1, "x"), "price": Decimal("0")})
    with pytest.raises(DataError, match="size"):
        TABLES["TradeTick"].row({**tick("SPY", 1, "x"), "size": 0})
    bar = {"symbol": "S", "timeframe": "5m", "session": "regular", "start": 0, "end": 1, "open": Decimal(2),
           "high": Decimal(1), "low": Decimal(1), "close": Decimal(1), "volume": 1, "vwap": Decimal(1), "trades": 1,
           "ts_init": 0}
    with pytest.raises(DataError, match="inconsistent"):
        TABLES["Bar"].row(bar)


def test_a_batch_gives_the_rows_of_its_prints_sent_one_by_one_in_either_schema_version(registry_stub) -> None:
    """A print's trade_ticks row must not depend on how it travelled: same natural key, same values."""
    from processors.model import TradeTick, TradeTickBatch
    from connectors.kafka.codec import AvroCodec
    from streams.sinks.rows import trade_batch_rows

    ticks = [TradeTick("SPY", 1_764_000_000_123_456_789, 1_764_000_000_124_000_000, Decimal("600.01"), 100, "sim",
                       "T1", "ARCA", ("@", "F")),
             TradeTick("SPY", 1_764_000_000_223_456_789, 1_764_000_000_224_000_000, Decimal("600.12345678"), 5,
                       "sim")]
    codec = AvroCodec(registry_stub)
    singles = [TABLES["TradeTick"].row(codec.decode_record(codec.encode("t.trades", t))[1]) for t in ticks]
    rows, refused = trade_batch_rows(codec.decode(codec.encode("t.batches", TradeTickBatch.of(ticks, 9))))
    assert rows == singles and refused == []
    assert rows[1][4].startswith("syn-") and rows[1][7] is None  # no trade id, no exchange: as for a TradeTick
    version1 = TradeTickBatch("SPY", "sim", 9, ticks=tuple(
        {"ts_event": t.ts_event, "ts_init": t.ts_init, "price": t.price.quantize(Decimal("1E-8")), "size": t.size,
         "trade_id": t.trade_id, "exchange": t.exchange, "conditions": list(t.conditions)} for t in ticks))
    assert trade_batch_rows(version1) == (singles, [])


def test_a_batch_refuses_implausible_prints_by_index_and_malformed_columns_as_a_whole() -> None:
    import dataclasses

    import pytest

    from processors.model import TradeTick, TradeTickBatch
    from streams.sinks.rows import trade_batch_rows
    from schemas.errors import DataError

    batch = TradeTickBatch.of([TradeTick("SPY", 1, 1, Decimal(price), size, "sim", trade_id)
                               for price, size, trade_id in (("1", 1, "a"), ("0", 1, "b"), ("3", 0, "c"))], 9)
    rows, refused = trade_batch_rows(batch)
    assert [row[4] for row in rows] == ["a"]
    assert [(index, str(exc)) for index, exc in refused] == [
        (1, "price 0E-8 and size 1 must be positive"), (2, "price 3.00000000 and size 0 must be positive")]
    with pytest.raises(DataError, match="prices_e8 holds 16 bytes"):
        trade_batch_rows(dataclasses.replace(batch, prices_e8=batch.prices_e8[:16]))

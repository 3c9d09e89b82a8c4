"""`verify bars`: the database's recomputation from stored ticks against streamed bars."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest

from processors.bars import BarAggregator
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.model import TradeTick
from streams.sinks.postgres import PostgresSink
from streams.sinks.rows import TABLES
from tradestream.config import Settings
from tradestream.verify import verify_bars

pytestmark = pytest.mark.integration
S = 1_000_000_000


def test_recomputed_bars_match_the_aggregator_and_differences_are_reported(settings: Settings, unique: str) -> None:
    calendar = build_nyse_calendar(dt.date(2026, 11, 26), dt.date(2026, 11, 30))
    day = calendar.day(dt.date(2026, 11, 27))  # early close at 13:00 ET
    symbol = f"V{unique[:6]}".upper()
    ticks = []
    for i in range(0, int((day.close - day.open) / S) + 600, 7):  # runs past the close into post-market
        conditions = ("I",) if i % 11 == 0 else (("Q",) if i % 97 == 0 else ())
        ticks.append(TradeTick(symbol=symbol, ts_event=day.open + i * S + 123_456, ts_init=day.open + i * S,
                               price=Decimal(f"{100 + (i % 37) / 100:.2f}"), size=100 + i % 5, feed="t",
                               trade_id=str(i), conditions=conditions))
    aggregator = BarAggregator("15m", parse_sessions("regular"), calendar)
    for tick in ticks:
        aggregator.handle_tick(tick)
    aggregator.flush()
    bars, _ = aggregator.drain()
    assert len(bars) == 14  # 09:30-13:00 in 15-minute bars

    def record(tick: TradeTick) -> dict:
        return {f: getattr(tick, f) for f in ("symbol", "ts_event", "ts_init", "price", "size", "trade_id",
                                              "exchange", "conditions", "feed")}

    def bar_record(bar) -> dict:  # noqa: ANN001
        return {f: getattr(bar, f) for f in ("symbol", "timeframe", "session", "start", "end", "open", "high", "low",
                                             "close", "volume", "vwap", "trades", "ts_init")}

    sink = PostgresSink(settings, codec=None)  # type: ignore[arg-type]
    sink.write({"TradeTick": [TABLES["TradeTick"].row(record(t)) for t in ticks],
                "Bar": [TABLES["Bar"].row(bar_record(b)) for b in bars]})
    start = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    compared, differences = verify_bars(settings, start, end, ["15m"])
    ours = [d for d in differences if d.symbol == symbol]
    assert ours == []

    with psycopg.connect(settings.database_url) as conn:
        conn.execute("update bars set close = close + 0.01 where symbol = %s and start = %s",
                     (symbol, dt.datetime.fromtimestamp(bars[3].start / S, dt.timezone.utc)))
    _, differences = verify_bars(settings, start, end, ["15m"])
    ours = [d for d in differences if d.symbol == symbol]
    assert [(d.field, d.streamed - d.recomputed) for d in ours] == [("close", Decimal("0.01"))]

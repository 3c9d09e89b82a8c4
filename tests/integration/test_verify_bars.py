"""`verify bars`: the database's recomputation from stored ticks against streamed bars, bars the stream
has not closed yet, and bars_from_ticks() of sql/005 against sql/002's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from benchmarks.bench_verify import OLD_BARS_FROM_TICKS, old_bars_from_ticks
from processors.bars import BarAggregator
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.model import Bar, TradeTick
from processors.simulation import MarketSimulator, SimulationConfig
from streams.sinks.postgres import PostgresSink
from streams.sinks.rows import TABLES
from tradestream.cli import main
from tradestream.config import PROJECT_ROOT, Settings
from tradestream.verify import verify_bars

pytestmark = pytest.mark.integration
S = 1_000_000_000
MINUTE = 60 * S


def tick_record(tick: TradeTick) -> dict:
    return {f: getattr(tick, f) for f in ("symbol", "ts_event", "ts_init", "price", "size", "trade_id",
                                          "exchange", "conditions", "feed")}


def bar_record(bar: Bar) -> dict:
    return {f: getattr(bar, f) for f in ("symbol", "timeframe", "session", "start", "end", "open", "high", "low",
                                         "close", "volume", "vwap", "trades", "ts_init")}


def store(settings: Settings, ticks: list[TradeTick], bars: list[Bar]) -> None:
    sink = PostgresSink(settings.sink(), codec=None)  # type: ignore[arg-type]
    sink.write({"TradeTick": [TABLES["TradeTick"].row(tick_record(t)) for t in ticks],
                "Bar": [TABLES["Bar"].row(bar_record(b)) for b in bars]})


@pytest.fixture
def symbols(settings: Settings, unique: str) -> Iterator[list[str]]:
    """Symbols unique to the test; their ticks and bars are deleted afterwards."""
    names = [f"V{unique[:6]}{i}".upper() for i in range(3)]
    yield names
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("delete from trade_ticks where symbol = any(%s)", (names,))
        conn.execute("delete from bars where symbol = any(%s)", (names,))


def utc(ns: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=ns // 1000)


def test_recomputed_bars_match_the_aggregator_and_differences_are_reported(settings: Settings,
                                                                            symbols: list[str]) -> None:
    calendar = build_nyse_calendar(dt.date(2026, 11, 26), dt.date(2026, 11, 30))
    day = calendar.day(dt.date(2026, 11, 27))  # early close at 13:00 ET
    symbol = symbols[0]
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
    store(settings, ticks, bars)
    start = dt.datetime(2026, 11, 27, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    found = verify_bars(settings, start, end, ["15m"])
    assert [d for d in found.differences if d.symbol == symbol] == []
    assert [b for b in found.open_bars if b.symbol == symbol] == []  # post-market prints closed the last bar

    with psycopg.connect(settings.database_url) as conn:
        conn.execute("update bars set close = close + 0.01 where symbol = %s and start = %s",
                     (symbol, utc(bars[3].start)))
    found = verify_bars(settings, start, end, ["15m"])
    ours = [d for d in found.differences if d.symbol == symbol]
    assert [(d.field, d.streamed - d.recomputed) for d in ours] == [("close", Decimal("0.01"))]


def test_bars_the_stream_has_not_closed_are_open_not_differences(settings: Settings, symbols: list[str]) -> None:
    """Open is what the bars stage's aggregator still holds: a bar whose end plus the lateness is after the
    symbol's newest print. Symbol 0 stops 1 ns before 09:40 + lateness (09:35-09:40 still open), symbol 1
    exactly at it (09:35-09:40 closed, and lost on the way: a difference)."""
    day = dt.date(2025, 7, 9)
    calendar = build_nyse_calendar(day, day)
    open_ns = calendar.day(day).open
    lateness_ns = settings.bars_stage().lateness_ns
    aggregator = BarAggregator("5m", parse_sessions("regular"), calendar, lateness_ns=lateness_ns)
    ticks = []
    for n, (symbol, last) in enumerate(zip(symbols, (open_ns + 10 * MINUTE + lateness_ns - 1,
                                                    open_ns + 10 * MINUTE + lateness_ns))):
        times = [*range(open_ns, open_ns + 10 * MINUTE, 20 * S), last]
        ticks += [TradeTick(symbol=symbol, ts_event=ts, ts_init=ts + 1000, price=Decimal(100 + n + i % 7),
                            size=100, feed="t", trade_id=str(i)) for i, ts in enumerate(times)]
    for tick in ticks:
        aggregator.handle_tick(tick)
    closed, _ = aggregator.drain()
    assert [(b.symbol, b.start) for b in closed] == [(symbols[0], open_ns), (symbols[1], open_ns),
                                                     (symbols[1], open_ns + 5 * MINUTE)]
    streamed = closed[:2]  # symbol 1's 09:35 bar is lost
    store(settings, ticks, streamed)
    start = dt.datetime.combine(day, dt.time(0), dt.timezone.utc)
    end = start + dt.timedelta(days=1)

    found = verify_bars(settings, start, end, ["5m"])
    ours = [b for b in found.open_bars if b.symbol in symbols]
    assert [(b.symbol, b.start, b.end, b.newest_tick_ns) for b in ours] == [
        (symbols[0], utc(open_ns + 5 * MINUTE), utc(open_ns + 10 * MINUTE), open_ns + 10 * MINUTE + lateness_ns - 1),
        (symbols[0], utc(open_ns + 10 * MINUTE), utc(open_ns + 15 * MINUTE), open_ns + 10 * MINUTE + lateness_ns - 1),
        (symbols[1], utc(open_ns + 10 * MINUTE), utc(open_ns + 15 * MINUTE), open_ns + 10 * MINUTE + lateness_ns)]
    assert [(d.symbol, d.start, d.field, d.streamed) for d in found.differences if d.symbol in symbols] == [
        (symbols[1], utc(open_ns + 5 * MINUTE), "bar", "missing")]

    strict = verify_bars(settings, start, end, ["5m"], strict=True)
    assert [b for b in strict.open_bars if b.symbol in symbols] == []
    assert sorted((d.symbol, d.start) for d in strict.differences if d.symbol in symbols) == [
        (symbols[0], utc(open_ns + 5 * MINUTE)), (symbols[0], utc(open_ns + 10 * MINUTE)),
        (symbols[1], utc(open_ns + 5 * MINUTE)), (symbols[1], utc(open_ns + 10 * MINUTE))]


def test_the_command_prints_open_bars_on_their_own_lines_and_exits_0_unless_strict(
        settings: Settings, symbols: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    day = dt.date(2025, 7, 10)
    calendar = build_nyse_calendar(day, day)
    open_ns = calendar.day(day).open
    symbol = symbols[0]
    ticks = [TradeTick(symbol=symbol, ts_event=ts, ts_init=ts, price=Decimal("50.25"), size=10, feed="t",
                       trade_id=str(ts)) for ts in range(open_ns, open_ns + 7 * MINUTE, 30 * S)]
    aggregator = BarAggregator("5m", parse_sessions("regular"), calendar,
                               lateness_ns=settings.bars_stage().lateness_ns)
    for tick in ticks:
        aggregator.handle_tick(tick)
    closed, _ = aggregator.drain()
    store(settings, ticks, closed)
    argv = ["verify", "bars", "--from", day.isoformat(), "--to", day.isoformat(), "--timeframes", "5m", "--quiet"]

    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert [line for line in out.splitlines() if symbol in line] == [
        f"{symbol} 5m {utc(open_ns + 5 * MINUTE).isoformat()} open: not closed by the stream yet "
        f"(ends {utc(open_ns + 10 * MINUTE).isoformat()}; newest tick {utc(ticks[-1].ts_event).isoformat()})"]
    assert "0 difference(s), 1 still open" in err

    assert main([*argv, "--strict"]) == 1
    out, err = capsys.readouterr()
    assert [line for line in out.splitlines() if symbol in line] == [
        f"{symbol} 5m {utc(open_ns + 5 * MINUTE).isoformat()} bar: streamed=missing recomputed=present"]
    assert "1 difference(s)" in err and "still open" not in err


def simulated_days(symbols: list[str], first: dt.date, last: dt.date) -> list[TradeTick]:
    """About a thousand prints per symbol and day over the extended sessions, with condition codes of
    every kind (OHLC and volume, volume only, neither, unknown) and prints that tie on both timestamps
    (open and close then go by trade id)."""
    calendar = build_nyse_calendar(first, last)
    config = SimulationConfig(symbols=tuple(symbols), trades_per_minute=1.5, seed=5, bad_print_probability=0)
    ticks = list(MarketSimulator(config, calendar.windows(parse_sessions("extended"))).ticks())
    kinds = [("@",), ("I",), ("Q",), ("ZZ",), ("@", "W"), ()]
    ticks = [dataclasses.replace(t, conditions=kinds[i % len(kinds)]) if i % 5 == 0 else t
             for i, t in enumerate(ticks)]
    twins = [dataclasses.replace(t, trade_id=f"{t.trade_id}-twin", price=t.price + Decimal("0.03"))
             for t in ticks[::50]]
    return ticks + twins


def test_sql_005_gives_the_rows_of_sql_002(settings: Settings, symbols: list[str]) -> None:
    """The Friday after Thanksgiving (early close) and the next Monday, a weekend between: the whole
    range, and one cutting through both sessions. sql/002's function tests each print against every
    session of the calendar (seconds per call for these few thousand prints), hence two calls."""
    ticks = simulated_days(symbols, dt.date(2025, 11, 28), dt.date(2025, 12, 1))
    store(settings, ticks, [])
    first = dt.datetime(2025, 11, 28, tzinfo=dt.timezone.utc)
    whole = (first, first + dt.timedelta(days=4))
    cut = (first + dt.timedelta(hours=15, minutes=7), first + dt.timedelta(days=3, hours=19, minutes=33))
    query = "select f::text from {}(%s, %s, %s) f where f.symbol = any(%s) order by f.symbol, f.start"
    with old_bars_from_ticks(settings) as old_function, psycopg.connect(settings.database_url) as conn:
        for minutes, (start, end) in ((5, whole), (60, cut)):
            arguments = (dt.timedelta(minutes=minutes), start, end, symbols)
            new = conn.execute(query.format("bars_from_ticks"), arguments).fetchall()
            old = conn.execute(query.format(old_function), arguments).fetchall()
            assert new, (minutes, start, end)
            assert new == old, (minutes, start, end)


def test_the_benchmarks_copy_of_the_old_function_is_sql_002s() -> None:
    applied = (PROJECT_ROOT / "sql" / "002_bars_from_ticks.sql").read_text()
    old = applied[applied.index("create or replace function bars_from_ticks"):]
    copy = OLD_BARS_FROM_TICKS.strip().replace("{name}", "bars_from_ticks")
    assert re.sub(r"\s+", " ", copy) == re.sub(r"\s+", " ", old.strip())

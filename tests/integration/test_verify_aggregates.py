"""sql/013 on plain PostgreSQL: the migration applies (in a schema of its own, every migration from 001), its
5/15/30/60-minute aggregates of stored 1-minute bars are processors.bars.resample_bars' bars, session
alignment included, and `tradestream verify aggregates` reports the streamed bars that differ from them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from processors.bars import BarAggregator, resample_bars
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.model import Bar
from processors.simulation import MarketSimulator, SimulationConfig
from streams.sinks.postgres import PostgresSink
from streams.sinks.rows import TABLES
from tradestream import db
from tradestream.cli import main
from tradestream.config import Settings
from tradestream.verify import VWAP_TOLERANCE
from tradestream.verify_aggregates import verify_aggregates

pytestmark = pytest.mark.integration
NEW_YORK = dt.timezone(dt.timedelta(hours=-5))  # EST: the days below are after the end of DST
EDT = dt.timezone(dt.timedelta(hours=-4))
EXTENDED = parse_sessions("extended")
FIRST, LAST = dt.date(2025, 7, 9), dt.date(2026, 11, 27)
DAYS = (dt.date(2025, 7, 9), dt.date(2026, 11, 27))  # daylight saving time; an early close (13:00) in standard time


@pytest.fixture
def migrated(settings: Settings, unique: str) -> Iterator[Settings]:
    """Settings of a schema of the test's own, every migration applied to it with the plain variant."""
    schema = f"aggregates_{unique}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
    separator = "&" if "?" in settings.database_url else "?"
    ours = dataclasses.replace(settings, database_url=f"{settings.database_url}{separator}"
                                                      f"options=-csearch_path%3D{schema}")
    try:
        applied = db.migrate(ours, timescale_available=False)
        assert "013_bars_from_1m (plain)" in applied
        yield ours
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute(f"drop schema {schema} cascade")


def bar_record(bar: Bar) -> dict:
    return {f: getattr(bar, f) for f in ("symbol", "timeframe", "session", "start", "end", "open", "high", "low",
                                         "close", "volume", "vwap", "trades", "ts_init")}


def store(settings: Settings, bars: list[Bar]) -> None:
    PostgresSink(settings.sink(), codec=None).write(  # type: ignore[arg-type]
        {"Bar": [TABLES["Bar"].row(bar_record(b)) for b in bars]})


def utc(ns: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=ns // 1000)


def streamed_bars(symbols: tuple[str, ...], timeframes: list[str]) -> dict[str, list[Bar]]:
    """Bars of the simulated pre-market, regular and post-market prints of DAYS, by timeframe, as the bars
    stage cuts them. The prints carry no sale conditions: each then reaches every timeframe (see sql/013)."""
    calendar = build_nyse_calendar(FIRST, LAST)
    windows = [w for w in calendar.windows(EXTENDED) if utc(w.start_ns).date() in DAYS]
    config = SimulationConfig(symbols=symbols, trades_per_minute=3, seed=11, bad_print_probability=0)
    ticks = [dataclasses.replace(t, conditions=()) for t in MarketSimulator(config, windows).ticks()]
    out = {}
    for timeframe in timeframes:
        aggregator = BarAggregator(timeframe, EXTENDED, calendar)
        for tick in ticks:
            aggregator.handle_tick(tick)
        aggregator.flush()
        out[timeframe] = aggregator.drain()[0]
    return out


def key(bar: Bar) -> tuple:
    return (bar.symbol, bar.timeframe, bar.session, utc(bar.start), bar.open, bar.high, bar.low, bar.close,
            bar.volume, bar.trades)


def test_the_aggregates_of_1m_bars_are_the_resampled_bars_aligned_to_each_session(migrated: Settings,
                                                                                  unique: str) -> None:
    symbols = (f"A{unique[:5]}".upper(), f"B{unique[:5]}".upper())
    minute_bars = streamed_bars(symbols, ["1m"])["1m"]
    store(migrated, minute_bars)
    calendar = build_nyse_calendar(FIRST, LAST)
    with psycopg.connect(migrated.database_url) as conn:
        for timeframe in ("5m", "15m", "30m", "60m"):
            expected = resample_bars(minute_bars, timeframe, calendar, EXTENDED)
            rows = conn.execute(
                "select symbol, timeframe, session, start, open, high, low, close, volume, trades, vwap "
                "from bars_from_1m(%s, %s) where timeframe = %s order by symbol, start",
                (dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc),
                 timeframe)).fetchall()
            assert [row[:10] for row in rows] == [key(b) for b in expected], timeframe
            assert all(abs(row[10] - bar.vwap) <= VWAP_TOLERANCE for row, bar in zip(rows, expected)), timeframe
        view = conn.execute("select symbol, '5m', session, start, open, high, low, close, volume, trades "
                            "from bars_5m_from_1m order by symbol, start").fetchall()
        assert view == [key(b) for b in resample_bars(minute_bars, "5m", calendar, EXTENDED)]
        # The alignment, read off the 60-minute bars of the early close: pre-market from 04:00 to a last bar
        # 09:00-09:30, regular from 09:30 (12:30 the last, to the 13:00 close), post-market from 13:00.
        starts = conn.execute(
            "select session, start from bars_60m_from_1m where symbol = %s and start >= '2026-11-27' "
            "order by start", (symbols[0],)).fetchall()
    by_session: dict[str, list[dt.time]] = {}
    for session, start in starts:
        by_session.setdefault(session, []).append(start.astimezone(NEW_YORK).time())
    assert by_session == {"pre": [dt.time(h) for h in range(4, 10)],
                          "regular": [dt.time(h, 30) for h in range(9, 13)],
                          "post": [dt.time(h) for h in range(13, 17)]}


def test_verify_aggregates_reports_the_streamed_bars_that_differ(migrated: Settings, unique: str,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    symbols = (f"C{unique[:5]}".upper(),)
    streamed = streamed_bars(symbols, ["1m", "5m", "15m", "30m", "60m"])
    store(migrated, [bar for bars in streamed.values() for bar in bars])
    start = dt.datetime(2025, 7, 9, tzinfo=dt.timezone.utc)
    end = start + dt.timedelta(days=1)
    found = verify_aggregates(migrated, start, end, ["5m", "15m", "30m", "1h"])
    assert (found.differences, found.open_bars) == ([], [])
    assert found.compared == sum(1 for tf in ("5m", "15m", "30m", "60m") for b in streamed[tf]
                                 if utc(b.start).date() == start.date())

    # The regular session's second 15-minute bar (09:45 EDT) with a wrong high, its first 60-minute bar lost.
    fifteen = dt.datetime(2025, 7, 9, 9, 45, tzinfo=EDT)
    sixty = dt.datetime(2025, 7, 9, 9, 30, tzinfo=EDT)
    with psycopg.connect(migrated.database_url) as conn:
        high = conn.execute("update bars set high = high + 1 where timeframe = '15m' and start = %s "
                            "returning high", (fifteen,)).fetchone()[0]
        conn.execute("delete from bars where timeframe = '60m' and start = %s", (sixty,))
    found = verify_aggregates(migrated, start, end, ["5m", "15m", "30m", "60m"])
    assert [(d.timeframe, d.start, d.field, d.streamed, d.recomputed) for d in found.differences] == [
        ("15m", fifteen, "high", high, high - 1), ("60m", sixty, "bar", "missing", "present")]

    monkeypatch.setenv("DATABASE_URL", migrated.database_url)
    assert main(["verify", "aggregates", "--from", "2025-07-09", "--to", "2025-07-09", "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        f"{symbols[0]} 15m {fifteen.astimezone(dt.timezone.utc).isoformat()} high: streamed={high} "
        f"aggregated={high - 1}",
        f"{symbols[0]} 60m {sixty.astimezone(dt.timezone.utc).isoformat()} bar: streamed=missing aggregated=present"]
    assert "2 difference(s)" in err
    assert main(["verify", "aggregates", "--from", "2026-11-27", "--to", "2026-11-27", "--quiet"]) == 0

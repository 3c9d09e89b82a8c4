"""`tradestream verify bars`: streamed bars compared with bars recomputed from the stored ticks.

The database recomputes regular-session bars with `bars_from_ticks()` (sql/002, redefined by sql/005),
using the trading calendar and trade-condition rules that `stack up` writes from processors/ (one
source of truth). Differences are reported per bar; late ticks (stored but excluded from the stream)
show up here. The range is compared one UTC day at a time (a regular-session bar never crosses
midnight UTC, and `bars_from_ticks` anchors bars to the session's open, not to the query's start),
which bounds each query and lets the command show progress. A day's query reads that day's sessions
and their ticks through an index on time, so it costs what the day holds, not the whole calendar:
about 3 s per timeframe for a day of 20 symbols (480,000 prints) on a busy 2-CPU machine
(benchmarks/bench_verify.py).

Bars still open. The bars stage closes a symbol's bar when a print of that symbol with ts_event at or
after the bar's end plus the lateness (BAR_LATENESS_MS) arrives: the stage's watermark is its newest
valid print, and every print the database holds is valid (trade_ticks refuses a non-positive price
or size). So a recomputed bar with no streamed counterpart whose `end + lateness` is later than the
newest stored tick of its symbol (ts_event, in nanoseconds) cannot have been closed by the stream
yet, whatever the wall clock says (the stage never closes bars on wall-clock time): it is reported
as *open*, apart from the differences and not counted among them. With `strict` it is a missing bar
like any other. A missing bar that the stored ticks do close is a difference; if the pipeline is
still catching up (ticks stored ahead of the bars that they close), it goes once the bars arrive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from psycopg import sql

from processors.bars import Timeframe
from processors.calendar import build_nyse_calendar
from processors.conditions import RULES
from tradestream.config import Settings
from tradestream.db import connect

FIELDS = ("open", "high", "low", "close", "volume", "vwap", "trades")
VWAP_TOLERANCE = Decimal("0.00000001")
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class BarDifference:
    symbol: str
    timeframe: str
    start: dt.datetime
    field: str
    streamed: object
    recomputed: object


@dataclass(frozen=True, slots=True)
class OpenBar:
    """A recomputed bar that the stream has not closed yet (see the module docstring)."""

    symbol: str
    timeframe: str
    start: dt.datetime
    end: dt.datetime
    newest_tick_ns: int  # ts_event of the symbol's newest stored tick: the stage's watermark at most


@dataclass(frozen=True, slots=True)
class BarsVerification:
    """What `verify_bars` found: differences and open bars by timeframe, then symbol, then start."""

    compared: int  # bars compared: streamed or recomputed, open ones included
    differences: list[BarDifference]
    open_bars: list[OpenBar]


def write_reference_data(conn: psycopg.Connection, first: dt.date, last: dt.date) -> None:
    """The trading calendar and the condition rules, as tables the SQL functions read."""
    calendar = build_nyse_calendar(first, last)
    rows = [(d.date, *(dt.datetime.fromtimestamp(ns / 1e9, dt.timezone.utc)
                       for ns in (d.pre_open, d.open, d.close, d.post_close)), d.early_close) for d in calendar.days]
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into trading_sessions (day, pre_open, open, close, post_close, early_close) "
            "values (%s, %s, %s, %s, %s, %s) on conflict (day) do update set pre_open = excluded.pre_open, "
            "open = excluded.open, close = excluded.close, post_close = excluded.post_close, "
            "early_close = excluded.early_close", rows)
        cursor.executemany(
            "insert into trade_condition_rules (code, updates_ohlc, updates_volume) values (%s, %s, %s) "
            "on conflict (code) do update set updates_ohlc = excluded.updates_ohlc, "
            "updates_volume = excluded.updates_volume", [(code, ohlc, vol) for code, (ohlc, vol) in RULES.items()])


def verify_bars(settings: Settings, start: dt.datetime, end: dt.datetime, timeframes: list[str],
                on_step: Callable[[int, int], None] | None = None, strict: bool = False,
                recompute_with: str = "bars_from_ticks") -> BarsVerification:
    """Regular-session bars starting in [start, end), by timeframe. `on_step(done, total)` is called
    after each (timeframe, day) compared. `strict`: bars still open are missing bars (differences).
    `recompute_with`: the SQL function recomputing bars (a schema-qualified name is accepted; the
    benchmark times an earlier version with it)."""
    intervals = {}
    for timeframe in timeframes:
        length = Timeframe.parse(timeframe).length_ns
        if length is None:
            raise ValueError("verify compares intraday timeframes (Nm/Nh), not 1d")
        intervals[timeframe] = dt.timedelta(microseconds=length // 1000)
    days = []
    day = start
    while day < end:
        days.append((day, min(day + dt.timedelta(days=1), end)))
        day += dt.timedelta(days=1)
    lateness_ns = None if strict else settings.bars_stage().lateness_ns
    query = sql.SQL(
        'select symbol, start, "end", open, high, low, close, volume, vwap, trades from {}(%s, %s, %s) '
        "where start >= %s and start < %s").format(sql.Identifier(*recompute_with.split(".")))
    total, done = len(days) * len(intervals), 0
    compared = 0
    differences: list[BarDifference] = []
    open_bars: list[OpenBar] = []
    with connect(settings) as conn:
        for timeframe, interval in intervals.items():
            timeframe_differences: list[BarDifference] = []
            timeframe_open: list[OpenBar] = []
            for day_start, day_end in days:
                found = _compare_day(conn, query, timeframe, interval, day_start, day_end, lateness_ns)
                compared += found.compared
                timeframe_differences += found.differences
                timeframe_open += found.open_bars
                done += 1
                if on_step is not None:
                    on_step(done, total)
            timeframe_differences.sort(key=lambda d: (d.symbol, d.start))  # stable: a bar's fields keep their order
            timeframe_open.sort(key=lambda b: (b.symbol, b.start))
            differences += timeframe_differences
            open_bars += timeframe_open
    return BarsVerification(compared, differences, open_bars)


def _compare_day(conn: psycopg.Connection, query: sql.Composed, timeframe: str, interval: dt.timedelta,
                 start: dt.datetime, end: dt.datetime, lateness_ns: int | None) -> BarsVerification:
    """The comparison of the bars starting in [start, end); no open bars when `lateness_ns` is None (strict)."""
    streamed = {(r[0], r[1]): r[2:] for r in conn.execute(
        "select symbol, start, open, high, low, close, volume, vwap, trades from bars "
        "where timeframe = %s and session = 'regular' and start >= %s and start < %s",
        (timeframe, start, end))}
    ends: dict[tuple[str, dt.datetime], dt.datetime] = {}
    recomputed = {}
    for r in conn.execute(query, (interval, start, end + interval, start, end)):
        ends[(r[0], r[1])] = r[2]
        recomputed[(r[0], r[1])] = r[3:]
    differences: list[BarDifference] = []
    open_bars: list[OpenBar] = []
    if lateness_ns is not None:
        missing = [key for key in recomputed if key not in streamed]
        newest = _newest_ticks_ns(conn, {symbol for symbol, _ in missing})
        for key in missing:
            end_ns = (ends[key] - EPOCH) // dt.timedelta(microseconds=1) * 1000
            newest_ns = newest.get(key[0])  # None only if the symbol's ticks were deleted meanwhile
            if newest_ns is not None and end_ns + lateness_ns > newest_ns:
                open_bars.append(OpenBar(key[0], timeframe, key[1], ends[key], newest_ns))
    still_open = {(b.symbol, b.start) for b in open_bars}
    keys = sorted(set(streamed) | set(recomputed))
    for key in keys:
        ours, theirs = streamed.get(key), recomputed.get(key)
        if key in still_open:
            continue
        if ours is None or theirs is None:
            differences.append(BarDifference(key[0], timeframe, key[1], "bar", "present" if ours else "missing",
                                             "present" if theirs else "missing"))
            continue
        for name, a, b in zip(FIELDS, ours, theirs):
            if name == "vwap":
                if abs(Decimal(a) - Decimal(b)) > VWAP_TOLERANCE:
                    differences.append(BarDifference(key[0], timeframe, key[1], name, a, b))
            elif Decimal(a) != Decimal(b):
                differences.append(BarDifference(key[0], timeframe, key[1], name, a, b))
    return BarsVerification(len(keys), differences, open_bars)


def _newest_ticks_ns(conn: psycopg.Connection, symbols: set[str]) -> dict[str, int]:
    """Each symbol's newest stored tick, as ts_event nanoseconds. `ts` is ts_event truncated to the
    microsecond, so the newest ts_event is among the rows of the newest ts: two probes of the primary
    key (symbol, ts, ...) per symbol, wherever the symbol's ticks are."""
    if not symbols:
        return {}
    return dict(conn.execute(
        "select s.symbol, (select max(t.ts_event_ns) from trade_ticks t where t.symbol = s.symbol "
        "and t.ts = (select max(ts) from trade_ticks where symbol = s.symbol)) "
        "from unnest(%s::text[]) as s(symbol)", (sorted(symbols),)).fetchall())

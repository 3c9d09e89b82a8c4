"""`tradestream verify bars`: streamed bars compared with bars recomputed from the stored ticks.

The database recomputes regular-session bars with `bars_from_ticks()` (sql/002), using the trading
calendar and trade-condition rules that `stack up` writes from processors/ (one source of truth).
Differences are reported per bar; late ticks (stored but excluded from the stream) show up here.
The range is compared one UTC day at a time (a regular-session bar never crosses midnight UTC, and
`bars_from_ticks` anchors bars to the session's open, not to the query's start), which bounds each
query and lets the command show progress.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from processors.bars import Timeframe
from processors.calendar import build_nyse_calendar
from processors.conditions import RULES
from tradestream.config import Settings
from tradestream.db import connect

FIELDS = ("open", "high", "low", "close", "volume", "vwap", "trades")
VWAP_TOLERANCE = Decimal("0.00000001")


@dataclass(frozen=True, slots=True)
class BarDifference:
    symbol: str
    timeframe: str
    start: dt.datetime
    field: str
    streamed: object
    recomputed: object


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
                on_step: Callable[[int, int], None] | None = None) -> tuple[int, list[BarDifference]]:
    """(bars compared, differences) for regular-session bars starting in [start, end), by timeframe,
    then symbol, then start. `on_step(done, total)` is called after each (timeframe, day) compared."""
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
    total, done = len(days) * len(intervals), 0
    differences: list[BarDifference] = []
    compared = 0
    with connect(settings) as conn:
        for timeframe, interval in intervals.items():
            found: list[BarDifference] = []
            for day_start, day_end in days:
                compared += _compare_day(conn, timeframe, interval, day_start, day_end, found)
                done += 1
                if on_step is not None:
                    on_step(done, total)
            found.sort(key=lambda d: (d.symbol, d.start))  # stable: a bar's fields keep their order
            differences += found
    return compared, differences


def _compare_day(conn: psycopg.Connection, timeframe: str, interval: dt.timedelta, start: dt.datetime,
                 end: dt.datetime, differences: list[BarDifference]) -> int:
    """Compare the bars starting in [start, end); append the differences; return the bars compared."""
    streamed = {(r[0], r[1]): r[2:] for r in conn.execute(
        "select symbol, start, open, high, low, close, volume, vwap, trades from bars "
        "where timeframe = %s and session = 'regular' and start >= %s and start < %s",
        (timeframe, start, end))}
    recomputed = {(r[0], r[1]): r[2:] for r in conn.execute(
        "select symbol, start, open, high, low, close, volume, vwap, trades from bars_from_ticks(%s, %s, %s)"
        " where start >= %s and start < %s", (interval, start, end + interval, start, end))}
    keys = sorted(set(streamed) | set(recomputed))
    for key in keys:
        ours, theirs = streamed.get(key), recomputed.get(key)
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
    return len(keys)

"""`tradestream verify bars`: streamed bars compared with bars recomputed from the stored ticks.

The database recomputes regular-session bars with `bars_from_ticks()` (sql/002), using the trading
calendar and trade-condition rules that `stack up` writes from processors/ (one source of truth).
Differences are reported per bar; late ticks (stored but excluded from the stream) show up here.
"""

from __future__ import annotations

import datetime as dt
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


def verify_bars(settings: Settings, start: dt.datetime, end: dt.datetime,
                timeframes: list[str]) -> tuple[int, list[BarDifference]]:
    """(bars compared, differences) for regular-session bars starting in [start, end)."""
    differences: list[BarDifference] = []
    compared = 0
    with connect(settings) as conn:
        for timeframe in timeframes:
            length = Timeframe.parse(timeframe).length_ns
            if length is None:
                raise ValueError("verify compares intraday timeframes (Nm/Nh), not 1d")
            interval = dt.timedelta(microseconds=length // 1000)
            streamed = {(r[0], r[1]): r[2:] for r in conn.execute(
                "select symbol, start, open, high, low, close, volume, vwap, trades from bars "
                "where timeframe = %s and session = 'regular' and start >= %s and start < %s",
                (timeframe, start, end))}
            recomputed = {(r[0], r[1]): r[2:] for r in conn.execute(
                "select symbol, start, open, high, low, close, volume, vwap, trades from bars_from_ticks(%s, %s, %s)"
                " where start >= %s and start < %s", (interval, start, end + interval, start, end))}
            for key in sorted(set(streamed) | set(recomputed)):
                compared += 1
                ours, theirs = streamed.get(key), recomputed.get(key)
                if ours is None or theirs is None:
                    differences.append(BarDifference(key[0], timeframe, key[1], "bar",
                                                     "present" if ours else "missing",
                                                     "present" if theirs else "missing"))
                    continue
                for name, a, b in zip(FIELDS, ours, theirs):
                    if name == "vwap":
                        if abs(Decimal(a) - Decimal(b)) > VWAP_TOLERANCE:
                            differences.append(BarDifference(key[0], timeframe, key[1], name, a, b))
                    elif Decimal(a) != Decimal(b):
                        differences.append(BarDifference(key[0], timeframe, key[1], name, a, b))
    return compared, differences

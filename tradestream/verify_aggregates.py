"""`tradestream verify aggregates`: streamed 5/15/30/60-minute bars compared with the database's own
aggregates of the streamed 1-minute bars (`bars_from_1m()`, sql/013: TimescaleDB continuous aggregates, or
plain views on plain PostgreSQL).

`verify bars` recomputes bars from the stored ticks; this check needs no ticks, only the 1-minute bars (the
bars stage makes them when BAR_TIMEFRAMES lists 1m): it finds a coarse bar that lost or gained a minute on
the way, in every session, not only the regular one. A print that reached one timeframe and not the other
(see sql/013_bars_from_1m.sql) is a difference too, which is what it is.

Compared per bar (symbol, timeframe, start): open, high, low, close, volume and trades exactly, vwap within
VWAP_TOLERANCE (the aggregate's vwap is the volume-weighted mean of the minutes' rounded vwaps, rounded
again: at most 1e-8 from the streamed one, which is exact from the prints). A bar on one side only is a
difference, except a streamed-side gap at the end of the data: an aggregated bar missing from the stream
that ends after the newest streamed bar of its symbol and timeframe is *open* (the stream has not closed it
yet), reported apart and not counted; with no streamed bar of its kind at all, it is missing. The range is
read one UTC day at a time, as `verify bars` does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import psycopg

from processors.bars import Timeframe
from tradestream.config import Settings
from tradestream.db import connect
from tradestream.verify import VWAP_TOLERANCE, BarDifference

AGGREGATED = ("5m", "15m", "30m", "60m")
"""The timeframes sql/013 aggregates, as the bars table names them."""
FIELDS = ("open", "high", "low", "close", "volume", "vwap", "trades")


@dataclass(frozen=True, slots=True)
class OpenAggregate:
    """An aggregated bar the stream has not closed yet: it ends after the newest streamed bar of its kind."""

    symbol: str
    timeframe: str
    start: dt.datetime
    minutes: int


@dataclass(frozen=True, slots=True)
class AggregatesVerification:
    compared: int  # bars compared: streamed or aggregated
    differences: list[BarDifference]
    open_bars: list[OpenAggregate]
    minute_bars: int  # 1-minute bars read: none means the check had nothing to aggregate


def check_timeframes(timeframes: list[str]) -> list[str]:
    """The timeframes named as the bars table names them; ValueError for one sql/013 does not aggregate."""
    names = []
    for text in timeframes:
        name = Timeframe.parse(text).text
        name = "60m" if name == "1h" else name
        if name not in AGGREGATED:
            raise ValueError(f"timeframe {text!r}: the database aggregates {', '.join(AGGREGATED)} from 1m bars")
        names.append(name)
    return names


def verify_aggregates(settings: Settings, start: dt.datetime, end: dt.datetime, timeframes: list[str],
                      on_step: Callable[[int, int], None] | None = None) -> AggregatesVerification:
    """Bars starting in [start, end) of `timeframes`, streamed against aggregated; `on_step(done, total)` after
    each day."""
    names = check_timeframes(timeframes)
    days = []
    day = start
    while day < end:
        days.append((day, min(day + dt.timedelta(days=1), end)))
        day += dt.timedelta(days=1)
    compared, minute_bars = 0, 0
    differences: list[BarDifference] = []
    open_bars: list[OpenAggregate] = []
    with connect(settings) as conn:
        newest = _newest_streamed(conn, names)
        for done, (day_start, day_end) in enumerate(days, 1):
            found = _compare_day(conn, names, day_start, day_end, newest)
            compared += found.compared
            minute_bars += found.minute_bars
            differences += found.differences
            open_bars += found.open_bars
            if on_step is not None:
                on_step(done, len(days))
    order = {name: i for i, name in enumerate(names)}
    differences.sort(key=lambda d: (order[d.timeframe], d.symbol, d.start))  # stable: a bar's fields keep order
    open_bars.sort(key=lambda b: (order[b.timeframe], b.symbol, b.start))
    return AggregatesVerification(compared, differences, open_bars, minute_bars)


def _newest_streamed(conn: psycopg.Connection, names: list[str]) -> dict[tuple[str, str], dt.datetime]:
    """The end of the newest streamed bar of each (symbol, timeframe)."""
    return {(r[0], r[1]): r[2] for r in conn.execute(
        'select symbol, timeframe, max("end") from bars where timeframe = any(%s) group by symbol, timeframe',
        (names,))}


def _compare_day(conn: psycopg.Connection, names: list[str], start: dt.datetime, end: dt.datetime,
                 newest: dict[tuple[str, str], dt.datetime]) -> AggregatesVerification:
    streamed = {(r[0], r[1], r[2]): r[3:] for r in conn.execute(
        "select symbol, timeframe, start, open, high, low, close, volume, vwap, trades from bars "
        "where timeframe = any(%s) and start >= %s and start < %s", (names, start, end))}
    aggregated, minutes = {}, {}
    for r in conn.execute(
            "select symbol, timeframe, start, open, high, low, close, volume, vwap, trades, minutes "
            "from bars_from_1m(%s, %s) where timeframe = any(%s)", (start, end, names)):
        aggregated[(r[0], r[1], r[2])] = r[3:10]
        minutes[(r[0], r[1], r[2])] = r[10]
    minute_bars = conn.execute("select count(*) from bars where timeframe = '1m' and start >= %s and start < %s",
                               (start, end)).fetchone()[0]
    differences: list[BarDifference] = []
    open_bars: list[OpenAggregate] = []
    keys = sorted(set(streamed) | set(aggregated))
    for key in keys:
        symbol, timeframe, bar_start = key
        ours, theirs = streamed.get(key), aggregated.get(key)
        if ours is None:
            length = dt.timedelta(microseconds=Timeframe.parse(timeframe).length_ns // 1000)
            last = newest.get((symbol, timeframe))
            if last is not None and bar_start + length > last:
                open_bars.append(OpenAggregate(symbol, timeframe, bar_start, minutes[key]))
                continue
        if ours is None or theirs is None:
            differences.append(BarDifference(symbol, timeframe, bar_start, "bar", "present" if ours else "missing",
                                             "present" if theirs else "missing"))
            continue
        for name, a, b in zip(FIELDS, ours, theirs):
            gap = abs(Decimal(a) - Decimal(b))
            if gap > (VWAP_TOLERANCE if name == "vwap" else 0):
                differences.append(BarDifference(symbol, timeframe, bar_start, name, a, b))
    return AggregatesVerification(len(keys), differences, open_bars, minute_bars)

"""The engine events of the incremental run, found vectorised: every input bar, every strategy bar
the resampler closes (on time, late, or at `finish`) and every indicator snapshot, each with its place
in the processing order (the input bar that causes it, then its position within that bar's step)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from processors.calendar import MarketCalendar, Session
from processors.indicators import IndicatorParams, compute_indicators
from processors.strategies.vectorized.table import BarTable

OPEN_END = 2 ** 62  # the end of a bucket outside the calendar's windows, as in `StrategyPipeline._bucket`

# Position of an event within the step of the input bar that causes it: the pending daily bar its
# bucket change flushes (daily strategies), the bar itself, the pending strategy bar its bucket
# change flushes (intraday strategies), then the strategy bar it closes. A snapshot follows its bar
# (position + 1). A bar of the strategy's timeframe takes the positions of a flushed intraday bar.
(DAILY_FLUSHED_BAR, DAILY_FLUSHED_SNAPSHOT, FINER, FLUSHED_BAR, FLUSHED_SNAPSHOT, CLOSED_BAR,
 CLOSED_SNAPSHOT) = range(7)
DIRECT_BAR = FLUSHED_BAR


@dataclass(slots=True)
class StrategyBars:
    """Bars of the strategy's timeframe as the engine sees them (input bars of that timeframe and
    resampled ones), each with its processing key."""

    code: np.ndarray
    start: np.ndarray
    end: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    close_row: np.ndarray       # the input row whose close (a Decimal) is the bar's close
    volume: np.ndarray
    session: np.ndarray
    ts_init: np.ndarray
    key: np.ndarray             # processing key: step * stride + position within the step

    def take(self, index: np.ndarray) -> StrategyBars:
        return StrategyBars(*(getattr(self, name)[index] for name in self.__slots__))


class EventStream:
    """Every engine event of the incremental run, with its place in the processing order."""

    def __init__(self, table: BarTable, timeframe: str, tf_ns: int | None, calendar: MarketCalendar,
                 params: IndicatorParams) -> None:
        self.table = table
        self.stride = max(CLOSED_SNAPSHOT + 1, 2 * len(table.symbols) + 2)
        direct = table.timeframe == timeframe
        finer = np.flatnonzero(~direct)
        strategy_bars = self._resample(finer, tf_ns, calendar)
        rows = np.flatnonzero(direct)
        direct_bars = StrategyBars(
            code=table.code[rows], start=table.start[rows], end=table.end[rows], open=table.open[rows],
            high=table.high[rows], low=table.low[rows], close=table.close[rows], close_row=rows,
            volume=table.volume[rows], session=table.session[rows], ts_init=table.ts_init[rows],
            key=rows * self.stride + DIRECT_BAR)
        merged = StrategyBars(*(np.concatenate([getattr(direct_bars, name), getattr(strategy_bars, name)])
                                for name in StrategyBars.__slots__))
        bars = merged.take(np.lexsort((merged.key, merged.code)))  # per symbol, in processing order
        # IndicatorSet.handle_bar refuses a bar starting at or before the last one it took; the last
        # one taken has the largest start so far, so a bar is taken when it starts after all before it.
        new_symbol = np.r_[True, bars.code[1:] != bars.code[:-1]] if len(bars.code) else np.zeros(0, bool)
        running = pd.Series(bars.start).groupby(bars.code).cummax().to_numpy()
        accepted = new_symbol | (bars.start > np.r_[np.iinfo(np.int64).min, running[:-1]])
        self.strategy_bars = bars
        snapshots = bars.take(np.flatnonzero(accepted))
        keys = np.concatenate([finer * self.stride + FINER, bars.key, snapshots.key + 1])
        times = np.concatenate([table.end[finer], bars.end, snapshots.end])
        inits = np.concatenate([table.ts_init[finer], bars.ts_init, snapshots.ts_init])
        order = np.argsort(keys, kind="stable")
        position = np.empty(len(keys), dtype=np.int64)
        position[order] = np.arange(len(keys))
        self.time = times[order]
        self.ts_init = inits[order]
        self.finish_position = int(np.count_nonzero(keys < table.size * self.stride))  # finish()'s events follow
        self.finer = finer
        self.finer_position = position[:len(finer)]
        self.bar_position = position[len(finer):len(finer) + len(bars.key)]
        self.snapshot_position = position[len(finer) + len(bars.key):]
        self.indicators = self._indicators(snapshots, params)
        self.snapshot_code = snapshots.code

    def _resample(self, finer: np.ndarray, tf_ns: int | None, calendar: MarketCalendar) -> StrategyBars:
        """`StrategyPipeline.on_bar`'s resampler: a bar joins the pending ones while its bucket is
        theirs; they are merged when a bar ends at the bucket's end, else when the symbol's next bar
        is in another bucket (before that bar's closing), else at `finish`. For a daily strategy
        (`tf_ns` None) a bar outside the regular sessions has no bucket: it is a group of its own
        (so it closes the pending one) that makes no strategy bar."""
        table = self.table
        rows = finer[np.argsort(table.code[finer], kind="stable")]  # per symbol, in processing order
        start = table.start[rows]
        bucket_start, bucket_end, in_bucket = _buckets(start, tf_ns, calendar)
        code = table.code[rows]
        count = len(rows)
        closes_bucket = (table.end[rows] == bucket_end) & in_bucket
        new_symbol = np.r_[True, code[1:] != code[:-1]] if count else np.zeros(0, dtype=bool)
        new_group = new_symbol | ~in_bucket
        if count:
            new_group[1:] |= ((bucket_start[1:] != bucket_start[:-1]) | (bucket_end[1:] != bucket_end[:-1])
                              | closes_bucket[:-1] | ~in_bucket[:-1])
        first = np.flatnonzero(new_group)
        last = np.r_[first[1:] - 1, count - 1].astype(np.int64) if count else np.zeros(0, dtype=np.int64)
        symbol_last = np.r_[new_symbol[1:], True] if count else np.zeros(0, dtype=bool)
        # finish() closes the pending bars in the order the symbols' first finer bars came
        first_rows = rows[new_symbol]
        finish_rank = np.zeros(len(table.symbols), dtype=np.int64)
        finish_rank[table.code[first_rows[np.argsort(first_rows)]]] = np.arange(len(first_rows))
        closed_here = closes_bucket[last]
        has_next = ~symbol_last[last]
        next_local = np.minimum(last + 1, max(count - 1, 0))
        flushed = DAILY_FLUSHED_BAR if tf_ns is None else FLUSHED_BAR
        key = np.where(closed_here, rows[last] * self.stride + CLOSED_BAR,
                       np.where(has_next, rows[next_local] * self.stride + flushed,
                                table.size * self.stride + 2 * finish_rank[code[last]]))
        if count:
            high = np.maximum.reduceat(table.high[rows], first)
            low = np.minimum.reduceat(table.low[rows], first)
            volume = np.add.reduceat(table.volume[rows], first)
        else:
            high = low = np.zeros(0)
            volume = np.zeros(0, dtype=np.int64)
        return StrategyBars(code=code[first], start=bucket_start[first], end=bucket_end[first],
                            open=table.open[rows[first]], high=high, low=low, close=table.close[rows[last]],
                            close_row=rows[last], volume=volume,
                            session=(np.full(len(first), "regular", dtype=object) if tf_ns is None
                                     else table.session[rows[first]]),
                            ts_init=table.ts_init[rows[last]], key=key).take(np.flatnonzero(in_bucket[first]))

    @staticmethod
    def _indicators(snapshots: StrategyBars, params: IndicatorParams) -> pd.DataFrame:
        sessions = np.array([s or "regular" for s in snapshots.session.tolist()], dtype=object)
        frame = pd.DataFrame({"symbol": snapshots.code, "start": snapshots.start, "high": snapshots.high,
                              "low": snapshots.low, "close": snapshots.close, "session": sessions})
        return compute_indicators(frame, params, session_pivots_enabled=False)


def _buckets(start: np.ndarray, tf_ns: int | None,
             calendar: MarketCalendar) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`StrategyPipeline._bucket` of each start, and whether it has one: aligned to its session window's
    open, cut at its close; aligned to the epoch outside the windows. Daily (`tf_ns` None): the regular
    session holding the start; none outside the regular sessions."""
    window_starts, window_ends, kinds = calendar.window_arrays()
    if tf_ns is None:
        regular = np.array([kind is Session.REGULAR for kind in kinds], dtype=bool)
        return _daily_buckets(start, window_starts[regular], window_ends[regular])
    inside = np.zeros(len(start), dtype=bool)
    window_start = start // tf_ns * tf_ns
    window_end = np.full(len(start), OPEN_END, dtype=np.int64)
    if len(window_starts):
        index = np.searchsorted(window_starts, start, side="right") - 1
        clipped = np.clip(index, 0, None)
        inside = (index >= 0) & (start < window_ends[clipped])
        window_start = np.where(inside, window_starts[clipped], window_start)
        window_end = np.where(inside, window_ends[clipped], window_end)
    bucket_start = window_start + (start - window_start) // tf_ns * tf_ns
    return bucket_start, np.minimum(bucket_start + tf_ns, window_end), np.ones(len(start), dtype=bool)


def _daily_buckets(start: np.ndarray, session_starts: np.ndarray,
                   session_ends: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The regular session [open, close) holding each start, and whether one does (elsewhere: the start)."""
    if not len(session_starts):
        return start.copy(), start.copy(), np.zeros(len(start), dtype=bool)
    index = np.searchsorted(session_starts, start, side="right") - 1
    clipped = np.clip(index, 0, None)
    inside = (index >= 0) & (start < session_ends[clipped])
    return (np.where(inside, session_starts[clipped], start), np.where(inside, session_ends[clipped], start),
            inside)

"""The batch aggregator: the incremental aggregator's vectorised twin (numpy), for backtests and checks.

`aggregate_batch` gives the same bars (every field, `ts_init` too) and the same rejection codes as
`BarAggregator` fed the same ticks in the same order and flushed at the end; property tests prove it.
It runs in phases, each a function below:

    locate_bars            each tick's session window and bar
    watermarks             each symbol's watermark before and after each tick (valid ticks move it)
    refuse_out_of_bounds   INVALID, OUTSIDE_SESSION and LATE ticks
    refuse_by_conditions   EXCLUDED_CONDITION ticks; which of the others count for OHLC and for volume
    refuse_duplicates      DUPLICATE ticks (a trade id again in its symbol's bar)
    group_by_bar           the accepted ticks by (symbol, bar), each group in (ts_event, input order)
    sum_groups             each group's open, high, low, close, volume, price x volume and prints
    closing_ts_init        the ts_init of the tick whose watermark closed each bar (or the flush's)
    build_bars             the Bar records
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from processors.bars.prices import PRICE_SCALE, to_decimal, vwap_decimal
from processors.bars.rejections import (
    ACCEPTED,
    DUPLICATE,
    EXCLUDED_CONDITION,
    INVALID,
    LATE,
    OUTSIDE_SESSION,
)
from processors.bars.timeframe import Timeframe
from processors.calendar import MarketCalendar, Session
from processors.conditions import eligibility
from processors.model import Bar, TradeTick

_NO_WATERMARK = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class TickArrays:
    """Ticks as columns (input order is arrival order)."""

    symbol: np.ndarray     # object (str)
    ts_event: np.ndarray   # int64 ns
    ts_init: np.ndarray    # int64 ns
    price: np.ndarray      # float64
    size: np.ndarray       # int64
    trade_id: np.ndarray | None = None    # object (str or None)
    conditions: list[tuple[str, ...]] | None = None

    @classmethod
    def from_ticks(cls, ticks: list[TradeTick]) -> TickArrays:
        return cls(
            symbol=np.array([t.symbol for t in ticks], dtype=object),
            ts_event=np.array([t.ts_event for t in ticks], dtype=np.int64),
            ts_init=np.array([t.ts_init for t in ticks], dtype=np.int64),
            price=np.array([float(t.price) for t in ticks], dtype=np.float64),
            size=np.array([t.size for t in ticks], dtype=np.int64),
            trade_id=np.array([t.trade_id for t in ticks], dtype=object),
            conditions=[t.conditions for t in ticks],
        )


@dataclass(frozen=True, slots=True)
class BatchResult:
    bars: list[Bar]
    rejected_codes: np.ndarray  # per input tick: ACCEPTED or a rejection code


def aggregate_batch(ticks: TickArrays, timeframe: str, sessions: frozenset[Session], calendar: MarketCalendar,
                    lateness_ns: int = 0, flush_ts_init: int = 0) -> BatchResult:
    """Vectorised twin of BarAggregator (same input order, then flush at the end)."""
    tf = Timeframe.parse(timeframe)
    codes = np.zeros(len(ticks.ts_event), dtype=np.int8)
    if len(codes) == 0:
        return BatchResult([], codes)
    valid = (ticks.price > 0) & (ticks.size > 0) & np.isfinite(ticks.price)
    located = locate_bars(ticks.ts_event, tf, sessions, calendar)
    marks = watermarks(ticks, valid)
    refuse_out_of_bounds(codes, ticks.ts_event, valid, located, marks, lateness_ns)
    ohlc, volume = refuse_by_conditions(codes, ticks)
    refuse_duplicates(codes, ticks, marks.symbol_index, located.bar_start)
    groups = group_by_bar(codes, ticks.ts_event, marks.symbol_index, located.bar_start)
    if groups is None:
        return BatchResult([], codes)
    sums = sum_groups(groups, ticks, ohlc, volume)
    closing = closing_ts_init(groups, located.bar_end, marks, ticks.ts_init, lateness_ns, flush_ts_init)
    return BatchResult(build_bars(groups, sums, closing, ticks.price, located, marks.symbols, tf.text), codes)


@dataclass(frozen=True, slots=True)
class LocatedBars:
    window: np.ndarray      # index of the tick's calendar window (meaningful where the tick is inside one)
    in_session: np.ndarray  # bool: inside a window of a selected session
    bar_start: np.ndarray
    bar_end: np.ndarray
    window_sessions: list[str]  # the session of each calendar window


def locate_bars(ts: np.ndarray, tf: Timeframe, sessions: frozenset[Session], calendar: MarketCalendar) -> LocatedBars:
    n = len(ts)
    starts, ends, kinds = calendar.window_arrays()
    window = np.searchsorted(starts, ts, side="right") - 1
    inside = (window >= 0) & (ts < ends[np.clip(window, 0, None)]) if len(starts) else np.zeros(n, dtype=bool)
    selected_windows = np.array([k in sessions for k in kinds] + [False], dtype=bool)
    w = np.where(inside, window, len(kinds))
    in_session = selected_windows[w] if len(kinds) else np.zeros(n, dtype=bool)
    w_start = np.where(inside, starts[np.clip(window, 0, len(starts) - 1)] if len(starts) else 0, 0)
    w_end = np.where(inside, ends[np.clip(window, 0, len(ends) - 1)] if len(ends) else 0, 0)
    if tf.length_ns is None:
        bar_start, bar_end = w_start, w_end
    else:
        bar_start = w_start + (ts - w_start) // tf.length_ns * tf.length_ns
        bar_end = np.minimum(bar_start + tf.length_ns, w_end)
    return LocatedBars(window, in_session, bar_start, bar_end, [k.value for k in kinds])


@dataclass(frozen=True, slots=True)
class Watermarks:
    symbol_index: np.ndarray     # each tick's symbol, as an index into `symbols`
    symbols: pd.Index
    order_by_symbol: np.ndarray  # tick indices sorted by symbol (input order within one)
    bounds: np.ndarray           # symbol s has order_by_symbol[bounds[s]:bounds[s + 1]]
    before: np.ndarray           # the symbol's watermark before each tick (_NO_WATERMARK: none yet)
    after: np.ndarray            # ... and after it


def watermarks(ticks: TickArrays, valid: np.ndarray) -> Watermarks:
    n = len(ticks.ts_event)
    symbol_index, symbols = pd.factorize(ticks.symbol)
    before = np.full(n, _NO_WATERMARK, dtype=np.int64)
    after = np.full(n, _NO_WATERMARK, dtype=np.int64)
    order_by_symbol = np.argsort(symbol_index, kind="stable")
    bounds = np.searchsorted(symbol_index[order_by_symbol], np.arange(len(symbols) + 1))
    for s in range(len(symbols)):
        idx = order_by_symbol[bounds[s]:bounds[s + 1]]
        moved = np.where(valid[idx], ticks.ts_event[idx], _NO_WATERMARK)
        including = np.maximum.accumulate(moved)
        after[idx] = including
        before[idx] = np.concatenate(([_NO_WATERMARK], including[:-1]))
    return Watermarks(symbol_index, symbols, order_by_symbol, bounds, before, after)


def refuse_out_of_bounds(codes: np.ndarray, ts: np.ndarray, valid: np.ndarray, located: LocatedBars,
                         marks: Watermarks, lateness_ns: int) -> None:
    codes[~valid] = INVALID
    codes[valid & ~located.in_session] = OUTSIDE_SESSION
    has_previous = marks.before != _NO_WATERMARK
    codes[valid & located.in_session & has_previous & (located.bar_end + lateness_ns <= marks.before)] = LATE


def refuse_by_conditions(codes: np.ndarray, ticks: TickArrays) -> tuple[np.ndarray, np.ndarray]:
    """Per tick: eligible for OHLC, eligible for volume (False for ticks refused already)."""
    n = len(codes)
    candidates = np.flatnonzero(codes == ACCEPTED)
    ohlc = np.zeros(n, dtype=bool)
    volume = np.zeros(n, dtype=bool)
    if ticks.conditions is None:
        ohlc[candidates] = True
        volume[candidates] = True
    elif len(candidates):
        flags = [eligibility(ticks.conditions[i]) for i in candidates]
        ohlc[candidates] = [f[0] for f in flags]
        volume[candidates] = [f[1] for f in flags]
    excluded = np.zeros(n, dtype=bool)
    excluded[candidates] = ~(ohlc[candidates] | volume[candidates])
    codes[excluded] = EXCLUDED_CONDITION
    return ohlc, volume


def refuse_duplicates(codes: np.ndarray, ticks: TickArrays, symbol_index: np.ndarray, bar_start: np.ndarray) -> None:
    """The same trade id again in the same (symbol, bar), after the first counted one."""
    if ticks.trade_id is None:
        return
    rows = np.flatnonzero(codes == ACCEPTED)
    rows = rows[~pd.isna(ticks.trade_id[rows])]
    if len(rows):
        id_codes, _ = pd.factorize(ticks.trade_id[rows])
        frame = pd.DataFrame({"s": symbol_index[rows], "b": bar_start[rows], "t": id_codes})
        codes[rows[frame.duplicated(keep="first").to_numpy()]] = DUPLICATE


@dataclass(frozen=True, slots=True)
class Groups:
    ticks: np.ndarray     # accepted tick indices, grouped by (symbol, bar start), in (ts_event, input order)
    symbol: np.ndarray    # symbol index of each
    start: np.ndarray     # bar start of each
    boundary: np.ndarray  # each group's first position in `ticks`
    stop: np.ndarray      # each group's end position (exclusive)


def group_by_bar(codes: np.ndarray, ts: np.ndarray, symbol_index: np.ndarray, bar_start: np.ndarray) -> Groups | None:
    """None when no tick is accepted."""
    accepted = np.flatnonzero(codes == ACCEPTED)
    if len(accepted) == 0:
        return None
    a_sym = symbol_index[accepted]
    a_start = bar_start[accepted]
    order = np.lexsort((accepted, ts[accepted], a_start, a_sym))
    g_sym, g_start = a_sym[order], a_start[order]
    boundary = np.flatnonzero(np.r_[True, (g_sym[1:] != g_sym[:-1]) | (g_start[1:] != g_start[:-1])])
    return Groups(accepted[order], g_sym, g_start, boundary, np.r_[boundary[1:], len(order)])


@dataclass(frozen=True, slots=True)
class GroupSums:
    open_tick: np.ndarray  # tick index of each group's open (meaningful where has_ohlc)
    close_tick: np.ndarray
    highs: np.ndarray
    lows: np.ndarray
    volumes: np.ndarray
    pv_high: np.ndarray    # price x volume in units of 1e-8, as two sums that cannot overflow int64:
    pv_low: np.ndarray     # pv = (pv_high << 24) + pv_low
    trades: np.ndarray
    has_ohlc: np.ndarray


def sum_groups(groups: Groups, ticks: TickArrays, ohlc_flag: np.ndarray, volume_flag: np.ndarray) -> GroupSums:
    g_idx, boundary = groups.ticks, groups.boundary
    price = ticks.price[g_idx]
    units = np.rint(price * PRICE_SCALE).astype(np.int64)
    high_bits, low_bits = units >> 24, units & ((1 << 24) - 1)
    sizes = np.where(volume_flag[g_idx], ticks.size[g_idx], 0)
    ohlc_mask = ohlc_flag[g_idx]
    positions = np.arange(len(g_idx))
    first_pos = np.minimum.reduceat(np.where(ohlc_mask, positions, len(g_idx)), boundary)
    last_pos = np.maximum.reduceat(np.where(ohlc_mask, positions, -1), boundary)
    has_ohlc = first_pos < len(g_idx)
    return GroupSums(
        open_tick=g_idx[np.where(has_ohlc, first_pos, 0)], close_tick=g_idx[np.where(has_ohlc, last_pos, 0)],
        highs=np.maximum.reduceat(np.where(ohlc_mask, price, -np.inf), boundary),
        lows=np.minimum.reduceat(np.where(ohlc_mask, price, np.inf), boundary),
        volumes=np.add.reduceat(sizes, boundary), pv_high=np.add.reduceat(high_bits * sizes, boundary),
        pv_low=np.add.reduceat(low_bits * sizes, boundary), trades=groups.stop - boundary, has_ohlc=has_ohlc)


def closing_ts_init(groups: Groups, bar_end: np.ndarray, marks: Watermarks, ts_init: np.ndarray, lateness_ns: int,
                    flush_ts_init: int) -> np.ndarray:
    """Per group: the ts_init of its symbol's first tick with watermark >= bar end + lateness (the flush's if none)."""
    group_symbol = groups.symbol[groups.boundary]
    group_end = bar_end[groups.ticks[groups.boundary]]
    closing = np.full(len(groups.boundary), flush_ts_init, dtype=np.int64)
    for sym in np.unique(group_symbol):
        which = np.flatnonzero(group_symbol == sym)
        sym_rows = marks.order_by_symbol[marks.bounds[sym]:marks.bounds[sym + 1]]
        pos = np.searchsorted(marks.after[sym_rows], group_end[which] + lateness_ns, side="left")
        found = pos < len(sym_rows)
        closing[which[found]] = ts_init[sym_rows[pos[found]]]
    return closing


def build_bars(groups: Groups, sums: GroupSums, closing: np.ndarray, price: np.ndarray, located: LocatedBars,
               symbols: pd.Index, timeframe_text: str) -> list[Bar]:
    """One Bar per group with at least one OHLC-eligible tick."""
    bars: list[Bar] = []
    for k in np.flatnonzero(sums.has_ohlc).tolist():
        first_tick = groups.ticks[groups.boundary[k]]
        volume = int(sums.volumes[k])
        pv = (int(sums.pv_high[k]) << 24) + int(sums.pv_low[k])
        close = to_decimal(float(price[sums.close_tick[k]]))
        bars.append(Bar(
            symbol=str(symbols[groups.symbol[groups.boundary[k]]]), timeframe=timeframe_text,
            session=located.window_sessions[int(located.window[first_tick])],
            start=int(groups.start[groups.boundary[k]]), end=int(located.bar_end[first_tick]),
            open=to_decimal(float(price[sums.open_tick[k]])),
            high=to_decimal(float(sums.highs[k])), low=to_decimal(float(sums.lows[k])), close=close, volume=volume,
            vwap=vwap_decimal(pv, volume) if volume else close, trades=int(sums.trades[k]),
            ts_init=int(closing[k])))
    return bars

"""A backtest over bars computed with numpy: the batch twin of driving `StrategyPipeline.on_bar`.

    decisions = backtest_bars(config, bars, calendar)

gives the same `Decisions` (signals, suppressed signals and order intents, field for field, in the
same order) as

    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    decisions = Decisions()
    for bar in sorted(bars, key=event_order_key):
        decisions.extend(pipeline.on_bar(bar))
    decisions.extend(pipeline.finish())

`bars` is a sequence of `Bar`s or a DataFrame of bars (see `backtest_bars`). The tests prove the
identity on simulated and real data; the incremental pipeline stays the definition.

How. The incremental run is a sequence of engine events: each bar (finer bars set the price at their
end), each strategy bar the resampler closes (when a bar ends at its bucket's end, or late, when the
next bar of the symbol starts another bucket, or at `finish`) and each indicator snapshot. Here:
1. the strategy bars are found with vectorised grouping, and every event gets its place in the
   processing order (the input bar that causes it, then its position within that bar's step);
2. the instants evaluated follow from the events' times alone: an event evaluates an instant when
   its interval slot is later than that of every event before it (the engine's `_next_ns` is one
   interval after the running maximum of event times) and it is not one of `finish`'s; the instant
   is the earliest one due if it is in the schedule, else the latest one due, and it is evaluated
   only inside the schedule;
3. each rule requirement becomes a column with one value per evaluated instant: the value the
   `MarketState` would answer after the events before the instant's triggering event (an as-of join
   on the processing order, never on time, since a late strategy bar is processed after a later
   finer bar); indicators come from `compute_indicators`, Donchian channels of another period from
   rolling windows of the bar history, correlations from `rolling_correlation` over the bars the
   two symbols share;
4. the rules are evaluated over the whole series with `evaluate_series`;
5. only the instants where a rule that matters in the current position fired are visited in a
   Python loop: positions, staleness, deviation from the reference price, `SignalLimiter`, and
   order intents through `build_intent`.

Semantics of the incremental pipeline reproduced here on purpose:
- A strategy bar closed late (its bucket's last finer bar missing) is merged when the symbol's next
  bar arrives, *after* that bar set the price. It joins the bar history and makes its snapshot, but
  leaves the price, its time and the reference price as the newer bar set them: `MarketState`
  ignores a price update older than the symbol's latest (here: a price event is dropped when its
  time is below the running maximum of the times before it).
- `finish()` closes the last, incomplete strategy bars into the state without evaluating an instant:
  its events are never an evaluation's trigger here.
- `donchian_*(SYM, TF, N)` reads the indicator snapshot only when TF is the strategy timeframe and N
  the configured Donchian period (or is omitted); otherwise the last N bars of the kept history (512
  bars: a larger N is never defined). Bar functions and Donchian channels on the input bars'
  timeframe (e.g. `close(SPY, 1m)`) read the input bars.
- A strategy bar starting at or before the previous one of its symbol joins the bar history (and
  sets the price unless it is older than the latest update) but makes no indicator snapshot
  (`IndicatorSet.handle_bar` refuses it).

Cost: linear in the bars apart from the sorts. Python-level work per bar only reads `Bar` objects
(a DataFrame of floats avoids it) and runs the ATR recursion of `compute_indicators`; the rest
loops over emitted signals. A correlation over bars whose starts are not strictly
increasing per symbol falls back to replaying those bars into a `MarketState`, which is exact but
slow. `in_schedule`, when given, must be a pure function of the instant (it is called on every
candidate instant, though not in the engine's order); by default the configuration's schedule is
computed vectorised.

Not matched: no known difference. Prices that are not finite numbers raise NotImplementedError
(the incremental run compares Decimal NaNs, which raises or orders them in ways not reproduced here).
`et_date` reads ts/1e9 as a float: instants that are whole microseconds (all bar ends in practice)
are converted vectorised, others through `et_date` itself, so that corner is matched too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from processors.bars import Timeframe
from processors.calendar import MarketCalendar
from processors.indicators import IndicatorParams, compute_indicators
from processors.instruments.options import OptionChain
from processors.model import Bar, SignalGenerated, SignalSuppressed
from processors.orders.intents import IntentError, build_intent
from processors.rules import Rule, SeriesResult, evaluate_series, rolling_correlation
from processors.scanner import SignalLimiter
from processors.strategies.engine import (FLAT, LONG, SHORT, Condition, StrategyEngine, sanity_suppression,
                                         signal_id)
from processors.strategies.market import BAR_FIELDS, EASTERN, SNAPSHOT_FIELDS, MarketState, et_date
from processors.strategies.pipeline import Decisions

__all__ = ["backtest_bars", "bars_frame"]

NS = 1_000_000_000
DAY_NS = 86_400 * NS
HOUR_NS = 3_600 * NS
HISTORY = MarketState().history  # the bars per symbol and timeframe the incremental state keeps
OPEN_END = 2 ** 62  # the end of a bucket outside the calendar's windows, as in `StrategyPipeline._bucket`

# Position of an event within the step of the input bar that causes it: the bar itself, the pending
# strategy bar its bucket change flushes, then the strategy bar it closes. A snapshot follows its bar
# (position + 1). A bar of the strategy's timeframe takes positions 1 and 2.
FINER, FLUSHED_BAR, FLUSHED_SNAPSHOT, CLOSED_BAR, CLOSED_SNAPSHOT = 0, 1, 2, 3, 4
DIRECT_BAR = FLUSHED_BAR

FRAME_COLUMNS = ("symbol", "timeframe", "start", "end", "open", "high", "low", "close", "volume")


def bars_frame(bars: Sequence[Bar]) -> pd.DataFrame:
    """The bars as the DataFrame `backtest_bars` also takes (prices stay Decimal, in object columns)."""
    return pd.DataFrame({
        "symbol": [b.symbol for b in bars], "timeframe": [b.timeframe for b in bars],
        "session": [b.session for b in bars], "start": np.array([b.start for b in bars], dtype=np.int64),
        "end": np.array([b.end for b in bars], dtype=np.int64), "open": [b.open for b in bars],
        "high": [b.high for b in bars], "low": [b.low for b in bars], "close": [b.close for b in bars],
        "volume": np.array([b.volume for b in bars], dtype=np.int64),
        "ts_init": np.array([b.ts_init for b in bars], dtype=np.int64)})


def backtest_bars(config: Any, bars: Sequence[Bar] | pd.DataFrame, calendar: MarketCalendar,
                  limiter: Any = None, in_schedule: Callable[[int], bool] | None = None,
                  params: IndicatorParams = IndicatorParams(),
                  option_chain: Callable[[str], OptionChain | None] = lambda symbol: None) -> Decisions:
    """The decisions of the strategy `config` (a `ScannerConfig`) over `bars`, exactly as
    `StrategyPipeline(config, calendar, limiter, in_schedule, params=params, option_chain=...)` takes
    them when fed the bars in `event_order_key` order with `on_bar`, then `finish()`.

    `bars`: `Bar`s in any order, or a DataFrame with the columns symbol, timeframe, start, end
    (integer ns), open, high, low, close (Decimal, or floats standing for `Decimal(repr(x))`), volume
    (whole numbers) and optionally session (default: the calendar's session at the start) and
    ts_init (default 0). Bars of symbols the strategy does not watch are ignored.
    `limiter`: default `SignalLimiter.from_config(config)`; it is called as the engine calls it.
    `in_schedule`: default the configuration's days and hours (`processors.scanner.in_schedule`).

    Raises ValueError for a timeframe that is not intraday (as the pipeline does) and for malformed
    frames, NotImplementedError for prices that are not finite numbers."""
    tf_ns = Timeframe.parse(config.timeframe).length_ns
    if tf_ns is None:
        raise ValueError(f"timeframe {config.timeframe}: strategies run on intraday bars (e.g. 5m, 15m, 1h)")
    limiter = SignalLimiter.from_config(config) if limiter is None else limiter
    engine = StrategyEngine(config, limiter, lambda ts: True)  # the compiled conditions, nothing else
    table = _BarTable.build(bars, config, calendar)
    decisions = Decisions()
    if table.size == 0:
        return decisions
    stream = _EventStream(table, config.timeframe, tf_ns, calendar, params)
    evaluations = _Evaluations.build(stream, engine.interval_ns,
                                     in_schedule or (lambda instants: _config_schedule(config, instants)),
                                     vectorised=in_schedule is None)
    if evaluations.size == 0:
        return decisions
    columns = _Columns(stream, evaluations, config.timeframe, params)
    results = {id(condition): _evaluate(condition, columns, evaluations.size)
               for condition in (engine.buy, engine.sell, *engine.exits) if condition is not None}
    _Decider(config, engine, limiter, columns, results, option_chain, decisions, calendar.holidays()).run()
    return decisions


# -- the input -------------------------------------------------------------------------------------

@dataclass(slots=True)
class _BarTable:
    """The watched symbols' bars as columns, in the pipeline's processing (`event_order_key`) order."""

    symbols: list[str]          # code -> symbol
    code: np.ndarray            # int64 index into symbols
    timeframe: np.ndarray       # object (str)
    session: np.ndarray         # object (str)
    start: np.ndarray           # int64 ns
    end: np.ndarray
    open: np.ndarray            # float64: float() of the Decimal prices
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray          # int64
    ts_init: np.ndarray         # int64
    close_decimal: Callable[[int], Decimal]

    @property
    def size(self) -> int:
        return len(self.start)

    @classmethod
    def build(cls, bars: Sequence[Bar] | pd.DataFrame, config: Any, calendar: MarketCalendar) -> _BarTable:
        frame = bars if isinstance(bars, pd.DataFrame) else None
        if frame is not None:
            missing = [name for name in FRAME_COLUMNS if name not in frame.columns]
            if missing:
                raise ValueError(f"the bars frame lacks the column(s) {', '.join(missing)}")
            symbol = frame["symbol"].to_numpy(dtype=object)
        else:
            bars = list(bars)
            symbol = np.array([b.symbol for b in bars], dtype=object)
        watched = set(config.symbols)
        keep = np.flatnonzero(pd.Series(symbol, dtype=object).isin(watched).to_numpy())
        symbol = symbol[keep]
        if frame is not None:
            rows = frame.iloc[keep]
            start = rows["start"].to_numpy(dtype=np.int64)
            end = rows["end"].to_numpy(dtype=np.int64)
            timeframe = rows["timeframe"].to_numpy(dtype=object)
            session = (rows["session"].to_numpy(dtype=object) if "session" in rows.columns
                       else np.array([s.value for s in calendar.sessions_at(start)], dtype=object))
            ts_init = (rows["ts_init"].to_numpy(dtype=np.int64) if "ts_init" in rows.columns
                       else np.zeros(len(rows), dtype=np.int64))
            volume_values = rows["volume"].to_numpy()
            volume = volume_values.astype(np.int64)
            if not np.array_equal(volume, volume_values):
                raise ValueError("bar volumes must be whole numbers")
            prices = {name: _price_column(rows[name].to_numpy()) for name in ("open", "high", "low", "close")}
            decimals = rows["close"].to_numpy(dtype=object)
        else:
            kept = [bars[i] for i in keep.tolist()]
            start = np.array([b.start for b in kept], dtype=np.int64)
            end = np.array([b.end for b in kept], dtype=np.int64)
            timeframe = np.array([b.timeframe for b in kept], dtype=object)
            session = np.array([b.session for b in kept], dtype=object)
            ts_init = np.array([b.ts_init for b in kept], dtype=np.int64)
            volume = np.array([b.volume for b in kept], dtype=np.int64)
            columns = {name: [getattr(b, name) for b in kept] for name in ("open", "high", "low", "close")}
            prices = {name: np.fromiter(map(float, values), dtype=np.float64, count=len(values))
                      for name, values in columns.items()}
            decimals = np.array(columns["close"], dtype=object)
        if not all(np.isfinite(values).all() for values in prices.values()):
            raise NotImplementedError("bars with prices that are not finite numbers: use the incremental pipeline")
        names = sorted(set(symbol.tolist()))
        code = pd.Series(symbol, dtype=object).map({name: i for i, name in enumerate(names)}).to_numpy(np.int64)
        order = np.lexsort((np.arange(len(start)), code, end))  # event_order_key (end, 0, symbol), stable
        ordered_decimals = decimals[order]

        def close_decimal(row: int) -> Decimal:
            value = ordered_decimals[row]
            return value if isinstance(value, Decimal) else Decimal(repr(float(value)))

        return cls(symbols=names, code=code[order], timeframe=timeframe[order], session=session[order],
                   start=start[order], end=end[order], open=prices["open"][order], high=prices["high"][order],
                   low=prices["low"][order], close=prices["close"][order], volume=volume[order],
                   ts_init=ts_init[order], close_decimal=close_decimal)


def _price_column(values: np.ndarray) -> np.ndarray:
    """float() of each price (Decimal or float), as `float(bar.close)` gives it."""
    if values.dtype.kind in "fiu":
        return values.astype(np.float64)
    return np.fromiter(map(float, values.tolist()), dtype=np.float64, count=len(values))


# -- the events ------------------------------------------------------------------------------------

@dataclass(slots=True)
class _StrategyBars:
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

    def take(self, index: np.ndarray) -> _StrategyBars:
        return _StrategyBars(*(getattr(self, name)[index] for name in self.__slots__))


class _EventStream:
    """Every engine event of the incremental run, with its place in the processing order."""

    def __init__(self, table: _BarTable, timeframe: str, tf_ns: int, calendar: MarketCalendar,
                 params: IndicatorParams) -> None:
        self.table = table
        self.stride = max(CLOSED_SNAPSHOT + 1, 2 * len(table.symbols) + 2)
        direct = table.timeframe == timeframe
        finer = np.flatnonzero(~direct)
        strategy_bars = self._resample(finer, tf_ns, calendar)
        rows = np.flatnonzero(direct)
        direct_bars = _StrategyBars(
            code=table.code[rows], start=table.start[rows], end=table.end[rows], open=table.open[rows],
            high=table.high[rows], low=table.low[rows], close=table.close[rows], close_row=rows,
            volume=table.volume[rows], session=table.session[rows], ts_init=table.ts_init[rows],
            key=rows * self.stride + DIRECT_BAR)
        merged = _StrategyBars(*(np.concatenate([getattr(direct_bars, name), getattr(strategy_bars, name)])
                                 for name in _StrategyBars.__slots__))
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

    def _resample(self, finer: np.ndarray, tf_ns: int, calendar: MarketCalendar) -> _StrategyBars:
        """`StrategyPipeline.on_bar`'s resampler: a bar joins the pending ones while its bucket is
        theirs; they are merged when a bar ends at the bucket's end, else when the symbol's next bar
        is in another bucket (before that bar's closing), else at `finish`."""
        table = self.table
        rows = finer[np.argsort(table.code[finer], kind="stable")]  # per symbol, in processing order
        start = table.start[rows]
        bucket_start, bucket_end = _buckets(start, tf_ns, calendar)
        code = table.code[rows]
        count = len(rows)
        closes_bucket = table.end[rows] == bucket_end
        new_symbol = np.r_[True, code[1:] != code[:-1]] if count else np.zeros(0, dtype=bool)
        new_group = new_symbol.copy()
        if count:
            new_group[1:] |= ((bucket_start[1:] != bucket_start[:-1]) | (bucket_end[1:] != bucket_end[:-1])
                              | closes_bucket[:-1])
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
        key = np.where(closed_here, rows[last] * self.stride + CLOSED_BAR,
                       np.where(has_next, rows[next_local] * self.stride + FLUSHED_BAR,
                                table.size * self.stride + 2 * finish_rank[code[last]]))
        if count:
            high = np.maximum.reduceat(table.high[rows], first)
            low = np.minimum.reduceat(table.low[rows], first)
            volume = np.add.reduceat(table.volume[rows], first)
        else:
            high = low = np.zeros(0)
            volume = np.zeros(0, dtype=np.int64)
        return _StrategyBars(code=code[first], start=bucket_start[first], end=bucket_end[first],
                             open=table.open[rows[first]], high=high, low=low, close=table.close[rows[last]],
                             close_row=rows[last], volume=volume, session=table.session[rows[first]],
                             ts_init=table.ts_init[rows[last]], key=key)

    @staticmethod
    def _indicators(snapshots: _StrategyBars, params: IndicatorParams) -> pd.DataFrame:
        sessions = np.array([s or "regular" for s in snapshots.session.tolist()], dtype=object)
        frame = pd.DataFrame({"symbol": snapshots.code, "start": snapshots.start, "high": snapshots.high,
                              "low": snapshots.low, "close": snapshots.close, "session": sessions})
        return compute_indicators(frame, params, session_pivots_enabled=False)


def _buckets(start: np.ndarray, tf_ns: int, calendar: MarketCalendar) -> tuple[np.ndarray, np.ndarray]:
    """`StrategyPipeline._bucket` of each start: aligned to its session window's open, cut at its close;
    aligned to the epoch outside the windows."""
    window_starts, window_ends, _ = calendar.window_arrays()
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
    return bucket_start, np.minimum(bucket_start + tf_ns, window_end)


# -- the evaluated instants ------------------------------------------------------------------------

@dataclass(slots=True)
class _Evaluations:
    position: np.ndarray   # processing index of the event that evaluates (the state is the events before it)
    instant: np.ndarray    # int64 ns
    ts_init: np.ndarray    # the engine's _last_ts_init then

    @property
    def size(self) -> int:
        return len(self.instant)

    @classmethod
    def build(cls, stream: _EventStream, interval_ns: int, schedule: Callable[..., Any],
              vectorised: bool) -> _Evaluations:
        times = stream.time
        latest = np.maximum.accumulate(times)
        slot_before = latest[:-1] // interval_ns
        candidates = np.flatnonzero(times[1:] // interval_ns > slot_before) + 1
        candidates = candidates[candidates < stream.finish_position]  # finish() evaluates nothing
        next_due = (latest[candidates - 1] // interval_ns + 1) * interval_ns
        last_due = times[candidates] // interval_ns * interval_ns

        def in_schedule(instants: np.ndarray) -> np.ndarray:
            if vectorised:
                return schedule(instants)
            return np.fromiter((bool(schedule(int(t))) for t in instants.tolist()), dtype=bool, count=len(instants))

        next_ok = in_schedule(next_due)
        instant = np.where(next_ok, next_due, last_due)
        evaluated = next_ok.copy()
        evaluated[~next_ok] = in_schedule(last_due[~next_ok])
        position = candidates[evaluated]
        seen_init = np.maximum(np.maximum.accumulate(stream.ts_init), 0)
        return cls(position=position, instant=instant[evaluated], ts_init=seen_init[position - 1])


def _config_schedule(config: Any, instants: np.ndarray) -> np.ndarray:
    """`processors.scanner.in_schedule(config, t)` of each instant: the ET weekday and wall time of
    the whole second."""
    if len(instants) == 0:
        return np.zeros(0, dtype=bool)
    local = _local_ns(instants // NS * NS)
    days = local // DAY_NS
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    second = local % DAY_NS // NS
    begin = config.start_time.hour * 3600 + config.start_time.minute * 60 + config.start_time.second
    finish = config.end_time.hour * 3600 + config.end_time.minute * 60 + config.end_time.second
    return np.isin(weekday, sorted(config.weekdays)) & (second >= begin) & (second < finish)


def _local_ns(ts_ns: np.ndarray) -> np.ndarray:
    """ET wall-clock nanoseconds since the epoch of each UTC instant. America/New_York changes its
    offset on whole UTC hours, so one offset per hour the instants touch is enough."""
    hours, inverse = np.unique(ts_ns // HOUR_NS, return_inverse=True)
    offsets = np.array([dt.datetime.fromtimestamp(hour * 3600, EASTERN).utcoffset() // dt.timedelta(seconds=1)
                        for hour in hours.tolist()], dtype=np.int64)
    return ts_ns + offsets[inverse.reshape(-1)] * NS


def _et_days(ts_ns: np.ndarray) -> np.ndarray:
    """`market.et_date` of each instant as days since 1970-01-01. It reads ts/1e9 as a float rounded
    to the microsecond, so whole microseconds are exact here; others go through the function."""
    days = _local_ns(ts_ns) // DAY_NS if len(ts_ns) else np.zeros(0, dtype=np.int64)
    odd = np.flatnonzero(ts_ns % 1000 != 0)
    epoch = dt.date(1970, 1, 1)
    for i in odd.tolist():
        days[i] = (et_date(int(ts_ns[i])) - epoch).days
    return days


# -- the columns -----------------------------------------------------------------------------------

@dataclass(slots=True)
class _Series:
    """One sequence of engine events (e.g. the bars of one symbol and timeframe), in processing order,
    and for each evaluation the index of the last of them before it (-1: none yet)."""

    position: np.ndarray
    rows: np.ndarray  # index into the source arrays
    asof: np.ndarray

    @classmethod
    def of(cls, position: np.ndarray, rows: np.ndarray, evaluations: _Evaluations) -> _Series:
        order = np.argsort(position, kind="stable")
        position = position[order]
        return cls(position, rows[order], np.searchsorted(position, evaluations.position, side="left") - 1)

    def column(self, values: np.ndarray) -> np.ndarray:
        """values (one per event of the series) as known at each evaluation, NaN before the first."""
        out = np.full(len(self.asof), np.nan)
        known = self.asof >= 0
        out[known] = values[self.asof[known]]
        return out


class _Columns:
    """The value of each rule requirement at each evaluation, as `MarketState.value` answers it."""

    def __init__(self, stream: _EventStream, evaluations: _Evaluations, timeframe: str,
                 params: IndicatorParams) -> None:
        self.stream = stream
        self.evaluations = evaluations
        self.timeframe = timeframe
        self.params = params
        self.codes = {symbol: code for code, symbol in enumerate(stream.table.symbols)}
        self._cache: dict[tuple[str, str, str | None, int | None], np.ndarray] = {}
        self._bar_series: dict[tuple[int, str], _BarSeries] = {}
        self._price_series: dict[int, _PriceSeries] = {}
        self._snapshots: dict[int, _Series] = {}

    @property
    def size(self) -> int:
        return self.evaluations.size

    def get(self, kind: str, symbol: str, timeframe: str | None, period: int | None) -> np.ndarray:
        key = (kind, symbol, timeframe, period)
        if key not in self._cache:
            self._cache[key] = self._compute(kind, symbol, timeframe, period)
        return self._cache[key]

    def _compute(self, kind: str, symbol: str, timeframe: str | None, period: int | None) -> np.ndarray:
        if kind == "price":
            series = self.prices(symbol)
            return np.full(self.size, np.nan) if series is None else series.series.column(series.close)
        if kind == "correlation":
            first, second = symbol.split("|")
            return self._correlation(first, second, timeframe or "", period or 20)
        timeframe = timeframe or ""
        if kind in BAR_FIELDS:
            bars = self.bars(symbol, timeframe)
            return np.full(self.size, np.nan) if bars is None else bars.series.column(bars.field(kind))
        if kind.startswith("donchian_") and period is not None:
            # the snapshot's channel only when its period is the one asked for; else the bar history
            history = self._donchian(kind, symbol, timeframe, period)
            if timeframe != self.timeframe or period != self.params.donchian_period:
                return history
            return np.where(self._has_snapshot(symbol), self._snapshot_column(kind, symbol, timeframe), history)
        return self._snapshot_column(kind, symbol, timeframe)

    # the event sequences, built on first use
    def prices(self, symbol: str) -> _PriceSeries | None:
        code = self.codes.get(symbol)
        if code is None:
            return None
        if code not in self._price_series:
            self._price_series[code] = _PriceSeries.build(self.stream, code, self.evaluations)
        return self._price_series[code]

    def bars(self, symbol: str, timeframe: str) -> _BarSeries | None:
        code = self.codes.get(symbol)
        if code is None:
            return None
        key = (code, timeframe)
        if key not in self._bar_series:
            self._bar_series[key] = _BarSeries.build(self.stream, code, timeframe, timeframe == self.timeframe,
                                                     self.evaluations)
        return self._bar_series[key]

    def _snapshot_series(self, symbol: str) -> _Series | None:
        code = self.codes.get(symbol)
        if code is None:
            return None
        if code not in self._snapshots:
            mine = np.flatnonzero(self.stream.snapshot_code == code)
            self._snapshots[code] = _Series.of(self.stream.snapshot_position[mine], mine, self.evaluations)
        return self._snapshots[code]

    def _has_snapshot(self, symbol: str) -> np.ndarray:
        series = self._snapshot_series(symbol)
        return np.zeros(self.size, dtype=bool) if series is None else series.asof >= 0

    def _snapshot_column(self, kind: str, symbol: str, timeframe: str) -> np.ndarray:
        series = self._snapshot_series(symbol)
        if timeframe != self.timeframe or series is None:
            return np.full(self.size, np.nan)
        values = self.stream.indicators[SNAPSHOT_FIELDS[kind]].to_numpy(dtype=np.float64)
        return series.column(values[series.rows])

    def _donchian(self, kind: str, symbol: str, timeframe: str, period: int) -> np.ndarray:
        """`MarketState._donchian`: the last `period` kept bars' highest high / lowest low."""
        bars = self.bars(symbol, timeframe)
        if bars is None or period > HISTORY or len(bars.series.rows) < period:
            return np.full(self.size, np.nan)
        upper = np.full(len(bars.series.rows), np.nan)
        lower = np.full(len(bars.series.rows), np.nan)
        upper[period - 1:] = sliding_window_view(bars.field("high"), period).max(axis=1)
        lower[period - 1:] = sliding_window_view(bars.field("low"), period).min(axis=1)
        values = {"donchian_upper": upper, "donchian_lower": lower, "donchian_mid": (upper + lower) / 2}[kind]
        return bars.series.column(values)

    def _correlation(self, first: str, second: str, timeframe: str, period: int) -> np.ndarray:
        """`MarketState._correlation`: the last period + 1 of the bars both symbols have (same start)
        among the kept ones."""
        a, b = self.bars(first, timeframe), self.bars(second, timeframe)
        out = np.full(self.size, np.nan)
        if a is None or b is None or not len(a.series.rows) or not len(b.series.rows):
            return out
        start_a, start_b = a.field("start"), b.field("start")
        close_a, close_b = a.field("close"), b.field("close")
        if (np.diff(start_a) <= 0).any() or (np.diff(start_b) <= 0).any():
            return self._replayed_correlation(first, second, timeframe, period)
        match = np.searchsorted(start_b, start_a)
        matched = np.flatnonzero((match < len(start_b)) & (start_b[np.minimum(match, len(start_b) - 1)] == start_a))
        in_b = match[matched]
        pair_a, pair_b = close_a[matched], close_b[in_b]
        if not (np.isfinite(pair_a).all() and np.isfinite(pair_b).all() and (pair_a > 0).all()
                and (pair_b > 0).all()):
            return self._replayed_correlation(first, second, timeframe, period)
        values = rolling_correlation(pair_a, pair_b, period)
        last_a, last_b = a.series.asof, b.series.asof
        # the kept bars are indices [last - HISTORY + 1, last]; the pairs among them are a contiguous
        # run of the matched pairs, since both symbols' starts increase
        end = np.minimum(np.searchsorted(matched, last_a, side="right"), np.searchsorted(in_b, last_b, side="right"))
        begin = np.maximum(np.searchsorted(matched, last_a - HISTORY + 1, side="left"),
                           np.searchsorted(in_b, last_b - HISTORY + 1, side="left"))
        known = (last_a >= 0) & (last_b >= 0) & (end - begin >= period + 1)
        out[known] = values[end[known] - 1]
        return out

    def _replayed_correlation(self, first: str, second: str, timeframe: str, period: int) -> np.ndarray:
        """The incremental computation itself, for bars this module does not align vectorised."""
        a, b = self.bars(first, timeframe), self.bars(second, timeframe)
        assert a is not None and b is not None
        events = sorted([(p, a, i) for i, p in enumerate(a.series.position.tolist())]
                        + [(p, b, i) for i, p in enumerate(b.series.position.tolist())], key=lambda e: e[0])
        market = MarketState()
        out = np.full(self.size, np.nan)
        cursor = 0
        for k, position in enumerate(self.evaluations.position.tolist()):
            while cursor < len(events) and events[cursor][0] < position:
                _, series, i = events[cursor]
                market.on_bar(series.bar(i))
                cursor += 1
            value = market.value("correlation", f"{first}|{second}", timeframe, period)
            out[k] = np.nan if value is None else value
        return out


@dataclass(slots=True)
class _BarSeries:
    """The bars of one symbol and timeframe the engine saw, in processing order: the strategy bars
    for the strategy's timeframe, else the input bars of that timeframe."""

    series: _Series
    fields: dict[str, np.ndarray]
    symbol: str
    timeframe: str
    close_decimal: Callable[[int], Decimal]
    close_rows: np.ndarray
    sessions: np.ndarray

    @classmethod
    def build(cls, stream: _EventStream, code: int, timeframe: str, strategy: bool,
              evaluations: _Evaluations) -> _BarSeries:
        table = stream.table
        if strategy:
            bars = stream.strategy_bars
            mine = np.flatnonzero(bars.code == code)
            series = _Series.of(stream.bar_position[mine], mine, evaluations)
            rows = series.rows
            fields = {"open": bars.open[rows], "high": bars.high[rows], "low": bars.low[rows],
                      "close": bars.close[rows], "volume": bars.volume[rows].astype(np.float64),
                      "start": bars.start[rows], "end": bars.end[rows]}
            close_rows, sessions = bars.close_row[rows], bars.session[rows]
        else:
            finer = stream.finer
            mine = np.flatnonzero((table.code[finer] == code) & (table.timeframe[finer] == timeframe))
            series = _Series.of(stream.finer_position[mine], mine, evaluations)
            rows = finer[series.rows]
            fields = {"open": table.open[rows], "high": table.high[rows], "low": table.low[rows],
                      "close": table.close[rows], "volume": table.volume[rows].astype(np.float64),
                      "start": table.start[rows], "end": table.end[rows]}
            close_rows, sessions = rows, table.session[rows]
        return cls(series, fields, table.symbols[code], timeframe, table.close_decimal, close_rows, sessions)

    def field(self, name: str) -> np.ndarray:
        return self.fields[name]

    def bar(self, i: int) -> Bar:
        """Bar i of the series, with the fields `MarketState` reads (for the replayed correlation)."""
        close = self.close_decimal(int(self.close_rows[i]))
        return Bar(self.symbol, self.timeframe, str(self.sessions[i]), int(self.fields["start"][i]),
                   int(self.fields["end"][i]), close, close, close, close, 0, close, 0)


@dataclass(slots=True)
class _PriceSeries:
    """The bar events of one symbol that set its price (at the bar's end: every one but those older
    than the latest update), in processing order, with the reference price (previous ET day's last
    regular-session price) known after each."""

    series: _Series
    close: np.ndarray          # float64
    close_row: np.ndarray      # input row of the close Decimal
    updated: np.ndarray        # int64 ns: the bar's end
    reference_row: np.ndarray  # input row of the reference price Decimal, -1: none

    @classmethod
    def build(cls, stream: _EventStream, code: int, evaluations: _Evaluations) -> _PriceSeries:
        table, bars = stream.table, stream.strategy_bars
        finer = stream.finer[table.code[stream.finer] == code]
        finer_index = np.flatnonzero(table.code[stream.finer] == code)
        mine = np.flatnonzero(bars.code == code)
        position = np.concatenate([stream.finer_position[finer_index], stream.bar_position[mine]])
        close = np.concatenate([table.close[finer], bars.close[mine]])
        close_row = np.concatenate([finer, bars.close_row[mine]])
        updated = np.concatenate([table.end[finer], bars.end[mine]])
        regular = np.concatenate([table.session[finer], bars.session[mine]]) == "regular"
        order = np.argsort(position, kind="stable")
        position, close, close_row = position[order], close[order], close_row[order]
        updated, regular = updated[order], regular[order]
        # `MarketState._price` ignores an update older than the latest one (a strategy bar closed late)
        kept = np.ones(len(updated), dtype=bool)
        kept[1:] = updated[1:] >= np.maximum.accumulate(updated)[:-1]
        position, close, close_row, updated, regular = (
            position[kept], close[kept], close_row[kept], updated[kept], regular[kept])
        series = _Series.of(position, np.arange(len(position)), evaluations)
        return cls(series, close, close_row, updated, _references(updated, regular, close_row))


def _references(updated: np.ndarray, regular: np.ndarray, close_row: np.ndarray) -> np.ndarray:
    """`MarketState._price` over a symbol's price updates: the input row of the reference price after
    each update (-1: none). The last regular price is kept per run of updates on the same ET day;
    when the day changes, the previous run's last regular price becomes the reference."""
    count = len(updated)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    day = _et_days(updated)
    index = np.arange(count)
    run_start = np.maximum.accumulate(np.where(np.r_[True, day[1:] != day[:-1]], index, 0))
    last_regular = np.maximum.accumulate(np.where(regular, index, -1))
    regular_index = np.where(last_regular >= run_start, last_regular, -1)
    changes = np.zeros(count, dtype=bool)
    changes[1:] = (day[1:] != day[:-1]) & (regular_index[:-1] >= 0)
    source = np.full(count, -1, dtype=np.int64)
    source[1:][changes[1:]] = regular_index[:-1][changes[1:]]
    latest_change = np.maximum.accumulate(np.where(changes, index, -1))
    reference = np.full(count, -1, dtype=np.int64)
    known = latest_change >= 0
    reference[known] = close_row[source[latest_change[known]]]
    return reference


def _evaluate(condition: Condition, columns: _Columns, size: int) -> SeriesResult:
    rule: Rule = condition.rule
    values = {req: columns.get(req[0], req[1], req[2], rule.period(req)) for req in rule.requirements}
    return evaluate_series(rule, values, length=size)


# -- the sequential part ---------------------------------------------------------------------------

class _Decider:
    """`StrategyEngine.evaluate` and `_emit`, and `StrategyPipeline._decide`, over the evaluated
    instants where a rule that can act in the current position fired."""

    def __init__(self, config: Any, engine: StrategyEngine, limiter: Any, columns: _Columns,
                 results: dict[int, SeriesResult], option_chain: Callable[[str], OptionChain | None],
                 decisions: Decisions, holidays: frozenset = frozenset()) -> None:
        self.config = config
        self.engine = engine
        self.limiter = limiter
        self.stream = columns.stream
        self.evaluations = columns.evaluations
        self.results = results
        self.option_chain = option_chain
        self.holidays = holidays
        self.decisions = decisions
        self.columns = columns
        self.price = self.columns.prices(engine.symbol)
        self.position = FLAT

    def fired(self, condition: Condition | None) -> np.ndarray:
        if condition is None:
            return np.zeros(self.evaluations.size, dtype=bool)
        return self.results[id(condition)].fired

    def run(self) -> None:
        engine, direction = self.engine, self.config.direction
        buy, sell = self.fired(engine.buy), self.fired(engine.sell)
        exits = np.zeros(self.evaluations.size, dtype=bool)
        for condition in engine.exits:
            exits |= self.fired(condition)
        # the instants where something can happen, per position
        entries = np.zeros(self.evaluations.size, dtype=bool)
        if direction in ("long", "both"):
            entries |= buy
        if direction in ("short", "both"):
            entries |= sell
        wanted = {FLAT: np.flatnonzero(entries), LONG: np.flatnonzero(exits | sell),
                  SHORT: np.flatnonzero(exits | buy)}
        index = -1
        while True:
            candidates = wanted[self.position]
            at = int(np.searchsorted(candidates, index, side="right"))
            if at == len(candidates):
                return
            index = int(candidates[at])
            self.evaluate(index)

    def evaluate(self, index: int) -> None:
        engine, direction = self.engine, self.config.direction
        if self.position == FLAT:
            if engine.buy is not None and self.fired(engine.buy)[index] and direction in ("long", "both"):
                self.emit("BUY", "ENTRY", engine.buy, index)
            elif engine.sell is not None and self.fired(engine.sell)[index] and direction in ("short", "both"):
                self.emit("SELL", "ENTRY", engine.sell, index)
            return
        closing = "SELL" if self.position == LONG else "BUY"
        opposite = engine.sell if self.position == LONG else engine.buy
        for condition in [*engine.exits, opposite]:
            if condition is not None and self.fired(condition)[index]:
                self.emit(closing, "EXIT", condition, index)
                return

    def _price_at(self, index: int) -> tuple[Decimal | None, int | None, Decimal | None]:
        """The signal symbol's price, its time and its reference price, as known at evaluation `index`."""
        if self.price is None:
            return None, None, None
        last = int(self.price.series.asof[index])
        if last < 0:
            return None, None, None
        table = self.stream.table
        reference_row = int(self.price.reference_row[last])
        reference = None if reference_row < 0 else table.close_decimal(reference_row)
        return table.close_decimal(int(self.price.close_row[last])), int(self.price.updated[last]), reference

    def _updated_at(self, symbol: str, index: int) -> int | None:
        series = self.columns.prices(symbol)
        if series is None:
            return None
        last = int(series.series.asof[index])
        return None if last < 0 else int(series.updated[last])

    def emit(self, side: str, action: str, condition: Condition, index: int) -> None:
        engine, config = self.engine, self.config
        instant = int(self.evaluations.instant[index])
        ts_init = int(self.evaluations.ts_init[index])
        price, _, reference = self._price_at(index)
        identifier = signal_id(engine.name, engine.symbol, side, action, instant)
        values = {k: v for k, v in self.results[id(condition)].values_at(index).items() if v is not None}
        suppression = self._suppression(condition.rule, price, reference, instant, index, action)
        if suppression is None and action == "ENTRY":
            allowed, why = self.limiter.allow(engine.symbol, instant)
            suppression = None if allowed else why
        if suppression is not None or price is None:
            self.decisions.suppressed.append(SignalSuppressed(
                signal_id=identifier, strategy=engine.name, symbol=engine.symbol, side=side, ts_event=instant,
                ts_init=ts_init, price=price, rule=condition.rule.text, suppression=suppression or "no price yet",
                rule_values=values, action=action))
            return
        self.position = (LONG if side == "BUY" else SHORT) if action == "ENTRY" else FLAT
        signal = SignalGenerated(signal_id=identifier, strategy=engine.name, symbol=engine.symbol, side=side,
                                 ts_event=instant, ts_init=ts_init, price=price, reason=condition.rule.text,
                                 rule_values=values, action=action)
        self.decisions.signals.append(signal)
        try:
            self.decisions.intents.append(build_intent(signal, config, et_date(instant), self.option_chain,
                                                       self.holidays))
        except (IntentError, ValueError) as exc:
            self.decisions.suppressed.append(SignalSuppressed(
                signal_id=signal.signal_id, strategy=signal.strategy, symbol=signal.symbol, side=signal.side,
                ts_event=signal.ts_event, ts_init=signal.ts_init, price=signal.price, rule=signal.reason,
                suppression=f"no order intent: {exc}", rule_values=signal.rule_values, action=signal.action))

    def _suppression(self, rule: Rule, price: Decimal | None, reference: Decimal | None, instant: int, index: int,
                     action: str) -> str | None:
        return sanity_suppression(self.config.sanity, rule, price, reference, instant, action,
                                  lambda symbol: self._updated_at(symbol, index))

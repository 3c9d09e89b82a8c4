"""`backtest_bars`: the vectorised backtest's steps put together (see the package docstring), and
`bars_frame`, the DataFrame of bars it also takes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from processors.bars import Timeframe
from processors.calendar import MarketCalendar
from processors.indicators import IndicatorParams
from processors.instruments.options import OptionChain
from processors.model import Bar
from processors.scanner import SignalLimiter
from processors.strategies.clock import strategy_clock
from processors.strategies.engine import StrategyEngine
from processors.strategies.pipeline import Decisions
from processors.strategies.vectorized.columns import Columns
from processors.strategies.vectorized.decider import Decider, evaluate_condition
from processors.strategies.vectorized.events import EventStream
from processors.strategies.vectorized.instants import Evaluations, config_schedule
from processors.strategies.vectorized.table import BarTable

__all__ = ["backtest_bars", "bars_frame"]


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

    `bars`: `Bar`s in any order (a `processors.csvio.BarColumns` is read as its columns), or a DataFrame
    with the columns symbol, timeframe, start, end (integer ns), open, high, low, close (Decimal, or
    floats standing for `Decimal(repr(x))`), volume (whole numbers) and optionally session (default:
    the calendar's session at the start) and ts_init (default 0). Bars of symbols the strategy does not watch are ignored.
    `limiter`: default `SignalLimiter.from_config(config)`; it is called as the engine calls it.
    `in_schedule`: default the configuration's days and hours (`processors.scanner.in_schedule`).

    Raises ValueError for malformed frames, NotImplementedError for prices that are not finite numbers."""
    tf_ns = Timeframe.parse(config.timeframe).length_ns  # None: daily, one bar per regular session
    limiter = SignalLimiter.from_config(config) if limiter is None else limiter
    engine = StrategyEngine(config, limiter, lambda ts: True)  # the compiled conditions, nothing else
    table = BarTable.build(bars, config, calendar)
    decisions = Decisions()
    if table.size == 0:
        return decisions
    stream = EventStream(table, config.timeframe, tf_ns, calendar, params)
    evaluations = Evaluations.build(stream, strategy_clock(config, calendar),
                                    in_schedule or (lambda instants: config_schedule(config, instants)),
                                    vectorised=in_schedule is None)
    if evaluations.size == 0:
        return decisions
    columns = Columns(stream, evaluations, config.timeframe, params)
    results = {id(condition): evaluate_condition(condition, columns, evaluations.size)
               for condition in (engine.buy, engine.sell, *engine.exits) if condition is not None}
    Decider(config, engine, limiter, columns, results, option_chain, decisions, calendar.holidays()).run()
    return decisions

"""Sequences of engine events, and what the engine knew of them at each evaluation: the bars of one
symbol and timeframe (`BarSeries`) and the price updates of one symbol with its reference price
(`PriceSeries`), both over `Series` (the events in processing order and an as-of index per evaluation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from processors.model import Bar
from processors.strategies.vectorized.events import EventStream
from processors.strategies.vectorized.instants import Evaluations, et_days

@dataclass(slots=True)
class Series:
    """One sequence of engine events (e.g. the bars of one symbol and timeframe), in processing order,
    and for each evaluation the index of the last of them before it (-1: none yet)."""

    position: np.ndarray
    rows: np.ndarray  # index into the source arrays
    asof: np.ndarray

    @classmethod
    def of(cls, position: np.ndarray, rows: np.ndarray, evaluations: Evaluations) -> Series:
        order = np.argsort(position, kind="stable")
        position = position[order]
        return cls(position, rows[order], np.searchsorted(position, evaluations.position, side="left") - 1)

    def column(self, values: np.ndarray) -> np.ndarray:
        """values (one per event of the series) as known at each evaluation, NaN before the first."""
        out = np.full(len(self.asof), np.nan)
        known = self.asof >= 0
        out[known] = values[self.asof[known]]
        return out



@dataclass(slots=True)
class BarSeries:
    """The bars of one symbol and timeframe the engine saw, in processing order: the strategy bars
    for the strategy's timeframe, else the input bars of that timeframe."""

    series: Series
    fields: dict[str, np.ndarray]
    symbol: str
    timeframe: str
    close_decimal: Callable[[int], Decimal]
    close_rows: np.ndarray
    sessions: np.ndarray

    @classmethod
    def build(cls, stream: EventStream, code: int, timeframe: str, strategy: bool,
              evaluations: Evaluations) -> BarSeries:
        table = stream.table
        if strategy:
            bars = stream.strategy_bars
            mine = np.flatnonzero(bars.code == code)
            series = Series.of(stream.bar_position[mine], mine, evaluations)
            rows = series.rows
            fields = {"open": bars.open[rows], "high": bars.high[rows], "low": bars.low[rows],
                      "close": bars.close[rows], "volume": bars.volume[rows].astype(np.float64),
                      "start": bars.start[rows], "end": bars.end[rows]}
            close_rows, sessions = bars.close_row[rows], bars.session[rows]
        else:
            finer = stream.finer
            mine = np.flatnonzero((table.code[finer] == code) & (table.timeframe[finer] == timeframe))
            series = Series.of(stream.finer_position[mine], mine, evaluations)
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
class PriceSeries:
    """The bar events of one symbol that set its price (at the bar's end: every one but those older
    than the latest update), in processing order, with the reference price (previous ET day's last
    regular-session price) known after each."""

    series: Series
    close: np.ndarray          # float64
    close_row: np.ndarray      # input row of the close Decimal
    updated: np.ndarray        # int64 ns: the bar's end
    reference_row: np.ndarray  # input row of the reference price Decimal, -1: none

    @classmethod
    def build(cls, stream: EventStream, code: int, evaluations: Evaluations) -> PriceSeries:
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
        series = Series.of(position, np.arange(len(position)), evaluations)
        return cls(series, close, close_row, updated, _references(updated, regular, close_row))


def _references(updated: np.ndarray, regular: np.ndarray, close_row: np.ndarray) -> np.ndarray:
    """`MarketState._price` over a symbol's price updates: the input row of the reference price after
    each update (-1: none). The last regular price is kept per run of updates on the same ET day;
    when the day changes, the previous run's last regular price becomes the reference."""
    count = len(updated)
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    day = et_days(updated)
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

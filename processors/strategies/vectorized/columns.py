"""The value of each rule requirement at each evaluated instant, as `MarketState.value` answers it:
prices, bar fields, indicator snapshots, Donchian channels of other periods (rolling windows of the
bar history) and correlations (`rolling_correlation` over the bars both symbols have)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from processors.indicators import IndicatorParams
from processors.rules import rolling_correlation
from processors.strategies.market import BAR_FIELDS, SNAPSHOT_FIELDS, MarketState
from processors.strategies.vectorized.events import EventStream
from processors.strategies.vectorized.instants import Evaluations
from processors.strategies.vectorized.series import BarSeries, PriceSeries, Series

HISTORY = MarketState().history  # the bars per symbol and timeframe the incremental state keeps


class Columns:
    """The value of each rule requirement at each evaluation, as `MarketState.value` answers it."""

    def __init__(self, stream: EventStream, evaluations: Evaluations, timeframe: str,
                 params: IndicatorParams) -> None:
        self.stream = stream
        self.evaluations = evaluations
        self.timeframe = timeframe
        self.params = params
        self.codes = {symbol: code for code, symbol in enumerate(stream.table.symbols)}
        self._cache: dict[tuple[str, str, str | None, int | None], np.ndarray] = {}
        self._bar_series: dict[tuple[int, str], BarSeries] = {}
        self._price_series: dict[int, PriceSeries] = {}
        self._snapshots: dict[int, Series] = {}

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
    def prices(self, symbol: str) -> PriceSeries | None:
        code = self.codes.get(symbol)
        if code is None:
            return None
        if code not in self._price_series:
            self._price_series[code] = PriceSeries.build(self.stream, code, self.evaluations)
        return self._price_series[code]

    def bars(self, symbol: str, timeframe: str) -> BarSeries | None:
        code = self.codes.get(symbol)
        if code is None:
            return None
        key = (code, timeframe)
        if key not in self._bar_series:
            self._bar_series[key] = BarSeries.build(self.stream, code, timeframe, timeframe == self.timeframe,
                                                    self.evaluations)
        return self._bar_series[key]

    def _snapshot_series(self, symbol: str) -> Series | None:
        code = self.codes.get(symbol)
        if code is None:
            return None
        if code not in self._snapshots:
            mine = np.flatnonzero(self.stream.snapshot_code == code)
            self._snapshots[code] = Series.of(self.stream.snapshot_position[mine], mine, self.evaluations)
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

"""Latency percentiles over sliding windows, per (feed, symbol, hop).

Samples are recorded with the time they were observed (`at_ns`, supplied by the caller: wall-clock
in the live stages, anything in tests); a snapshot covers the samples observed in the last
`window_ns`. Percentiles use the nearest-rank definition (the smallest sample with at least p% of
the samples at or below it), so every reported value is an observed latency.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from processors.model import LatencyMeasured

HOPS = ("EXCHANGE_TO_ARRIVAL", "ARRIVAL_TO_KAFKA", "TICK_TO_BAR_CLOSE", "BAR_TO_INDICATOR")


def nearest_rank(sorted_values: np.ndarray, percentile: float) -> int:
    """The nearest-rank percentile of an ascending array (1 <= rank <= n)."""
    n = len(sorted_values)
    rank = max(1, math.ceil(percentile / 100 * n))
    return int(sorted_values[rank - 1])


@dataclass(slots=True)
class _Series:
    times: deque[int]
    values: deque[int]


class LatencyWindows:
    """Sliding-window latency samples; `snapshot(now_ns)` gives one LatencyMeasured per series."""

    def __init__(self, window_ns: int = 60_000_000_000, max_samples: int = 100_000) -> None:
        if window_ns <= 0:
            raise ValueError("window_ns must be positive")
        if max_samples <= 0:
            raise ValueError("max_samples must be positive")
        self.window_ns = window_ns
        self.max_samples = max_samples
        self._series: dict[tuple[str, str, str], _Series] = {}

    def record(self, feed: str, symbol: str, hop: str, latency_ns: int, at_ns: int) -> None:
        if hop not in HOPS:
            raise ValueError(f"hop must be one of {HOPS}, not {hop!r}")
        series = self._series.get((feed, symbol, hop))
        if series is None:
            series = self._series[(feed, symbol, hop)] = _Series(deque(maxlen=self.max_samples),
                                                                 deque(maxlen=self.max_samples))
        series.times.append(at_ns)
        series.values.append(latency_ns)

    def _evict(self, series: _Series, now_ns: int) -> None:
        horizon = now_ns - self.window_ns
        while series.times and series.times[0] < horizon:
            series.times.popleft()
            series.values.popleft()

    def snapshot(self, now_ns: int) -> list[LatencyMeasured]:
        measured = []
        for (feed, symbol, hop), series in sorted(self._series.items()):
            self._evict(series, now_ns)
            if not series.values:
                continue
            values = np.sort(np.fromiter(series.values, dtype=np.int64, count=len(series.values)))
            measured.append(LatencyMeasured(
                feed=feed, symbol=symbol, hop=hop, window_start=now_ns - self.window_ns, window_end=now_ns,
                count=len(values), p50_ns=nearest_rank(values, 50), p95_ns=nearest_rank(values, 95),
                p99_ns=nearest_rank(values, 99), max_ns=int(values[-1])))
        return measured

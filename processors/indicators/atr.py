"""Average true range, Wilder's smoothing (the TA-Lib / backtrader convention).

TR_t = max(H_t - L_t, |H_t - C_{t-1}|, |L_t - C_{t-1}|) from the second bar on; the first ATR(n) is
the mean of the first n TRs, on bar index n (0-based); then ATR_t = (ATR_{t-1} * (n - 1) + TR_t) / n.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class AverageTrueRange:
    def __init__(self, period: int = 14) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1, got {period}")
        self.period = period
        self.reset()

    def reset(self) -> None:
        self.prev_close: float | None = None
        self.count = 0          # true ranges seen
        self.total = 0.0        # their sum, until the first ATR
        self.value: float | None = None

    @property
    def initialized(self) -> bool:
        return self.value is not None

    def handle_bar(self, bar: Any) -> float | None:
        return self.update_raw(float(bar.high), float(bar.low), float(bar.close))

    def update_raw(self, high: float, low: float, close: float) -> float | None:
        pc = self.prev_close
        self.prev_close = close
        if pc is None:
            return None
        tr = max(high - low, abs(high - pc), abs(low - pc))
        self.count += 1
        n = self.period
        if self.count < n:
            self.total += tr
        elif self.count == n:
            self.total += tr
            self.value = self.total / n
        else:
            self.value = (self.value * (n - 1) + tr) / n  # type: ignore[operator]
        return self.value

    def to_state(self) -> dict[str, Any]:
        return {"prev_close": self.prev_close, "count": self.count, "total": self.total, "value": self.value}

    def load_state(self, state: dict[str, Any]) -> None:
        self.prev_close, self.count = state["prev_close"], state["count"]
        self.total, self.value = state["total"], state["value"]


def atr(high: np.ndarray, low: np.ndarray, close: np.ndarray, period: int = 14) -> np.ndarray:
    """Batch twin: NaN until bar index `period`; identical floats to the incremental form."""
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    n = len(close)
    out = np.full(n, np.nan)
    if n <= period:
        return out
    pc = close[:-1]
    tr = np.maximum(np.maximum(high[1:] - low[1:], np.abs(high[1:] - pc)), np.abs(low[1:] - pc))
    total = 0.0
    for value in tr[:period].tolist():  # the same summation order as the incremental form
        total += value
    current = total / period
    out[period] = current
    keep = period - 1
    trs = tr[period:].tolist()
    values = [0.0] * len(trs)
    for i, value in enumerate(trs):
        current = (current * keep + value) / period
        values[i] = current
    out[period + 1:] = values
    return out

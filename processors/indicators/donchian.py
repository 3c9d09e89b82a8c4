"""Donchian channel: highest high and lowest low of the last n bars including the current one."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class DonchianChannel:
    def __init__(self, period: int = 20) -> None:
        if period < 1:
            raise ValueError(f"period must be >= 1, got {period}")
        self.period = period
        self.reset()

    def reset(self) -> None:
        self.highs: deque[float] = deque(maxlen=self.period)
        self.lows: deque[float] = deque(maxlen=self.period)
        self.upper: float | None = None
        self.lower: float | None = None
        self.middle: float | None = None

    @property
    def initialized(self) -> bool:
        return self.upper is not None

    def handle_bar(self, bar: Any) -> None:
        self.update_raw(float(bar.high), float(bar.low))

    def update_raw(self, high: float, low: float) -> None:
        self.highs.append(high)
        self.lows.append(low)
        if len(self.highs) == self.period:
            self.upper = max(self.highs)
            self.lower = min(self.lows)
            self.middle = (self.upper + self.lower) / 2

    def to_state(self) -> dict[str, Any]:
        return {"highs": list(self.highs), "lows": list(self.lows)}

    def load_state(self, state: dict[str, Any]) -> None:
        self.reset()
        for high, low in zip(state["highs"], state["lows"]):
            self.update_raw(high, low)


def donchian(high: np.ndarray, low: np.ndarray, period: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if period < 1:
        raise ValueError(f"period must be >= 1, got {period}")
    n = len(high)
    upper = np.full(n, np.nan)
    lower = np.full(n, np.nan)
    if n >= period:
        upper[period - 1:] = sliding_window_view(high, period).max(axis=1)
        lower[period - 1:] = sliding_window_view(low, period).min(axis=1)
    return upper, lower, (upper + lower) / 2

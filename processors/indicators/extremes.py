"""Fractal and swing highs/lows: a bar whose high (low) is strictly above (below) the highs (lows) of
`left` bars before and `right` bars after it. Bill Williams' fractals are the case left = right = k
(k=2 by default); swings default to 5, 5. A point becomes known `right` bars later; the series on
bar t is the level of the most recent point known by t, carried forward (None before any).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class ExtremePoints:
    def __init__(self, left: int, right: int) -> None:
        if left < 1:
            raise ValueError(f"left must be >= 1, got {left}")
        if right < 1:
            raise ValueError(f"right must be >= 1, got {right}")
        self.left = left
        self.right = right
        self.reset()

    def reset(self) -> None:
        self.highs: deque[float] = deque(maxlen=self.left + self.right + 1)
        self.lows: deque[float] = deque(maxlen=self.left + self.right + 1)
        self.high_level: float | None = None
        self.low_level: float | None = None

    @property
    def initialized(self) -> bool:
        return self.high_level is not None or self.low_level is not None

    def handle_bar(self, bar: Any) -> None:
        self.update_raw(float(bar.high), float(bar.low))

    def update_raw(self, high: float, low: float) -> None:
        self.highs.append(high)
        self.lows.append(low)
        if len(self.highs) < self.left + self.right + 1:
            return
        highs, lows, c = list(self.highs), list(self.lows), self.left
        candidate = highs[c]
        if candidate > max(highs[:c]) and candidate > max(highs[c + 1:]):
            self.high_level = candidate
        candidate = lows[c]
        if candidate < min(lows[:c]) and candidate < min(lows[c + 1:]):
            self.low_level = candidate

    def to_state(self) -> dict[str, Any]:
        return {"highs": list(self.highs), "lows": list(self.lows), "high_level": self.high_level,
                "low_level": self.low_level}

    def load_state(self, state: dict[str, Any]) -> None:
        self.reset()
        self.highs.extend(state["highs"])
        self.lows.extend(state["lows"])
        self.high_level, self.low_level = state["high_level"], state["low_level"]


class Fractals(ExtremePoints):
    def __init__(self, k: int = 2) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        super().__init__(k, k)


class Swings(ExtremePoints):
    def __init__(self, left: int = 5, right: int = 5) -> None:
        super().__init__(left, right)


def extreme_levels(high: np.ndarray, low: np.ndarray, left: int, right: int) -> tuple[np.ndarray, np.ndarray]:
    """Batch twin: (high level, low level) carried forward from when each point became known."""
    if left < 1 or right < 1:
        raise ValueError("left and right must be >= 1")
    n = len(high)
    width = left + right + 1
    high_out = np.full(n, np.nan)
    low_out = np.full(n, np.nan)
    if n < width:
        return high_out, low_out
    for values, out, sign in ((high, high_out, 1.0), (low, low_out, -1.0)):
        windows = sliding_window_view(values * sign, width)
        center = windows[:, left]
        is_point = (center > windows[:, :left].max(axis=1)) & (center > windows[:, left + 1:].max(axis=1))
        known_at = np.flatnonzero(is_point) + width - 1     # window j's center is bar j+left, known at j+width-1
        marks = np.full(n, -1)
        marks[known_at] = known_at
        last = np.maximum.accumulate(marks)
        has = last >= 0
        out[has] = values[last[has] - right]
    return high_out, low_out

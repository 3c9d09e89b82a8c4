"""Rolling Pearson correlation of two symbols' bar returns: the values behind `correlation(A, B, TF, N)`.

The return of bar t is the simple close-to-close return `close[t] / close[t-1] - 1`. The value
after bar t is the Pearson correlation of the two symbols' last N returns (so N + 1 closes are
needed): undefined (None / NaN) before that, and when either symbol's N returns are all equal
(zero variance). Values are clamped to [-1, 1].

`RollingCorrelation` (incremental, one `update` per pair of closed bars) and `rolling_correlation`
(batch over whole arrays) perform the same float operations in the same order (a two-pass mean and
co-moment sum, left to right over the window), so they give bit-for-bit identical values. The
incremental form costs O(N) per update, which is what buys that exactness.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _validate_bar_count(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"n must be a whole number of bars, got {n!r}")
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")


def _price(value: float | Decimal, name: str) -> float:
    price = float(value)
    if not (math.isfinite(price) and price > 0.0):
        raise ValueError(f"{name} must be a positive finite price, got {value!r}")
    return price


class RollingCorrelation:
    """Correlation of the last `n` close-to-close returns of two symbols, updated bar by bar.

    `update(close_a, close_b)` takes the two symbols' closes of the same bar (same timeframe, same
    bar start: aligning them is the caller's job) and returns the current value or None."""

    def __init__(self, n: int) -> None:
        _validate_bar_count(n)
        self.n = n
        self.reset()

    def reset(self) -> None:
        """Forget every bar."""
        self.previous_a: float | None = None
        self.previous_b: float | None = None
        self.returns_a: deque[float] = deque(maxlen=self.n)
        self.returns_b: deque[float] = deque(maxlen=self.n)
        self.value: float | None = None

    @property
    def initialized(self) -> bool:
        """Whether `n` returns have been seen (the value may still be None for a flat window)."""
        return len(self.returns_a) == self.n

    def update(self, close_a: float | Decimal, close_b: float | Decimal) -> float | None:
        """Add one bar's closes (positive, finite; ValueError otherwise) and return the value."""
        a, b = _price(close_a, "close_a"), _price(close_b, "close_b")
        if self.previous_a is not None and self.previous_b is not None:
            self.returns_a.append(a / self.previous_a - 1.0)
            self.returns_b.append(b / self.previous_b - 1.0)
        self.previous_a, self.previous_b = a, b
        self.value = pearson(list(self.returns_a), list(self.returns_b)) if self.initialized else None
        return self.value

    def to_state(self) -> dict[str, Any]:
        """The last n returns and the last closes, as plain data (for a state table)."""
        return {"previous_a": self.previous_a, "previous_b": self.previous_b,
                "returns_a": list(self.returns_a), "returns_b": list(self.returns_b)}

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore what `to_state` returned."""
        self.reset()
        self.previous_a, self.previous_b = state["previous_a"], state["previous_b"]
        self.returns_a.extend(state["returns_a"])
        self.returns_b.extend(state["returns_b"])
        self.value = pearson(list(self.returns_a), list(self.returns_b)) if self.initialized else None


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation of two equally long samples; None when either has zero variance."""
    count = len(xs)
    if count != len(ys) or count < 2:
        raise ValueError(f"need two samples of equal length >= 2, got {len(xs)} and {len(ys)}")
    if max(xs) == min(xs) or max(ys) == min(ys):
        return None
    sum_x = sum_y = 0.0
    for x, y in zip(xs, ys):
        sum_x = sum_x + x
        sum_y = sum_y + y
    mean_x, mean_y = sum_x / count, sum_y / count
    co_moment = moment_x = moment_y = 0.0
    for x, y in zip(xs, ys):
        deviation_x, deviation_y = x - mean_x, y - mean_y
        co_moment = co_moment + deviation_x * deviation_y
        moment_x = moment_x + deviation_x * deviation_x
        moment_y = moment_y + deviation_y * deviation_y
    denominator = math.sqrt(moment_x * moment_y)
    if denominator == 0.0:  # zero variance, or a product so small that it underflows
        return None
    return min(1.0, max(-1.0, co_moment / denominator))


def rolling_correlation(closes_a: Sequence[float] | np.ndarray, closes_b: Sequence[float] | np.ndarray,
                        n: int) -> np.ndarray:
    """Batch twin of `RollingCorrelation`: element t is the value after bar t (NaN when undefined)."""
    _validate_bar_count(n)
    a = np.asarray(closes_a, dtype=float)
    b = np.asarray(closes_b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"closes_a and closes_b must be 1-D and equally long, got shapes {a.shape} and {b.shape}")
    for name, closes in (("closes_a", a), ("closes_b", b)):
        if not (np.isfinite(closes).all() and (closes > 0.0).all()):
            raise ValueError(f"{name} must hold positive finite prices")
    out = np.full(len(a), np.nan)
    if len(a) <= n:
        return out
    windows_a = sliding_window_view(a[1:] / a[:-1] - 1.0, n)
    windows_b = sliding_window_view(b[1:] / b[:-1] - 1.0, n)
    out[n:] = _pearson_rows(windows_a, windows_b)
    return out


def _pearson_rows(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """`pearson` of each row pair (NaN for None), with the same operations in the same order."""
    rows, count = xs.shape
    sum_x, sum_y = np.zeros(rows), np.zeros(rows)
    for k in range(count):
        sum_x = sum_x + xs[:, k]
        sum_y = sum_y + ys[:, k]
    mean_x, mean_y = sum_x / count, sum_y / count
    co_moment, moment_x, moment_y = np.zeros(rows), np.zeros(rows), np.zeros(rows)
    for k in range(count):
        deviation_x, deviation_y = xs[:, k] - mean_x, ys[:, k] - mean_y
        co_moment = co_moment + deviation_x * deviation_y
        moment_x = moment_x + deviation_x * deviation_x
        moment_y = moment_y + deviation_y * deviation_y
    denominator = np.sqrt(moment_x * moment_y)
    flat = (xs.max(axis=1) == xs.min(axis=1)) | (ys.max(axis=1) == ys.min(axis=1)) | (denominator == 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.clip(co_moment / denominator, -1.0, 1.0)
    values[flat] = np.nan
    return values

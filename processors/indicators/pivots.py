"""Pivot points: classic, Fibonacci and Camarilla levels from a period's high, low and close.

Classic: P=(H+L+C)/3, R1=2P-L, S1=2P-H, R2=P+(H-L), S2=P-(H-L), R3=H+2(P-L), S3=L-2(H-P).
Fibonacci: P as classic, R/S k = P +/- (0.382, 0.618, 1.000) * (H-L).
Camarilla: R/S k = C +/- (H-L) * 1.1 / (12, 6, 4).
`SessionPivots` gives, for intraday bars, the classic levels of the previous regular session's H/L/C
(grouped by the ET date of each bar's start), constant through the next trading day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

ET = ZoneInfo("America/New_York")


@dataclass(frozen=True, slots=True)
class PivotLevels:
    pivot: float
    r1: float
    r2: float
    r3: float
    s1: float
    s2: float
    s3: float


def classic(high: Any, low: Any, close: Any) -> PivotLevels:
    """Works on floats and on numpy arrays alike (same operations, same results)."""
    p = (high + low + close) / 3
    return PivotLevels(pivot=p, r1=2 * p - low, r2=p + (high - low), r3=high + 2 * (p - low),
                       s1=2 * p - high, s2=p - (high - low), s3=low - 2 * (high - p))


def fibonacci(high: Any, low: Any, close: Any) -> PivotLevels:
    p = (high + low + close) / 3
    r = high - low
    return PivotLevels(pivot=p, r1=p + 0.382 * r, r2=p + 0.618 * r, r3=p + r,
                       s1=p - 0.382 * r, s2=p - 0.618 * r, s3=p - r)


def camarilla(high: Any, low: Any, close: Any) -> PivotLevels:
    r = (high - low) * 1.1
    return PivotLevels(pivot=(high + low + close) / 3, r1=close + r / 12, r2=close + r / 6, r3=close + r / 4,
                       s1=close - r / 12, s2=close - r / 6, s3=close - r / 4)


def et_date(ts_ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ns // 1_000_000_000, ET).date()


class SessionPivots:
    """Classic levels of the previous regular session, for intraday bars."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.day: str | None = None
        self.high: float | None = None
        self.low: float | None = None
        self.close: float | None = None
        self.levels: PivotLevels | None = None

    @property
    def initialized(self) -> bool:
        return self.levels is not None

    def update_raw(self, start_ns: int, session: str, high: float, low: float, close: float) -> PivotLevels | None:
        day = et_date(start_ns).isoformat()
        if self.day is not None and day != self.day:
            if self.high is not None:
                self.levels = classic(self.high, self.low, self.close)
            self.high = self.low = self.close = None
        self.day = day
        if session == "regular":
            self.high = high if self.high is None else max(self.high, high)
            self.low = low if self.low is None else min(self.low, low)
            self.close = close
        return self.levels

    def to_state(self) -> dict[str, Any]:
        levels = None if self.levels is None else [self.levels.pivot, self.levels.r1, self.levels.r2,
                                                   self.levels.r3, self.levels.s1, self.levels.s2, self.levels.s3]
        return {"day": self.day, "high": self.high, "low": self.low, "close": self.close, "levels": levels}

    def load_state(self, state: dict[str, Any]) -> None:
        self.day, self.high, self.low, self.close = state["day"], state["high"], state["low"], state["close"]
        self.levels = None if state["levels"] is None else PivotLevels(*state["levels"])


def session_pivots(start_ns: np.ndarray, session: np.ndarray, high: np.ndarray, low: np.ndarray,
                   close: np.ndarray) -> np.ndarray:
    """Batch twin of SessionPivots: an (n, 7) array of P, R1, R2, R3, S1, S2, S3 (NaN before known)."""
    calc = SessionPivots()
    out = np.full((len(start_ns), 7), np.nan)
    for i in range(len(start_ns)):
        levels = calc.update_raw(int(start_ns[i]), str(session[i]), float(high[i]), float(low[i]), float(close[i]))
        if levels is not None:
            out[i] = (levels.pivot, levels.r1, levels.r2, levels.r3, levels.s1, levels.s2, levels.s3)
    return out

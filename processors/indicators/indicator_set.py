"""The full indicator set per symbol and timeframe: ATR, Donchian, pivots (classic and previous
session), fractals and swings; incremental (`IndicatorSet`) and batch (`compute_indicators`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

from processors.indicators.atr import AverageTrueRange, atr
from processors.indicators.donchian import DonchianChannel, donchian
from processors.indicators.extremes import ExtremePoints, Fractals, Swings, extreme_levels
from processors.indicators.pivots import SessionPivots, classic, session_pivots


@dataclass(frozen=True, slots=True)
class IndicatorSnapshot:
    symbol: str
    timeframe: str
    start: int
    end: int
    close: float
    atr_period: int
    atr: float | None
    donchian_period: int
    dc_upper: float | None
    dc_lower: float | None
    dc_mid: float | None
    pivot: float | None
    r1: float | None
    r2: float | None
    r3: float | None
    s1: float | None
    s2: float | None
    s3: float | None
    session_pivot: float | None
    session_r1: float | None
    session_r2: float | None
    session_r3: float | None
    session_s1: float | None
    session_s2: float | None
    session_s3: float | None
    fractal_k: int
    fractal_high: float | None
    fractal_low: float | None
    swing_left: int
    swing_right: int
    swing_high: float | None
    swing_low: float | None
    ts_init: int = 0


VALUE_FIELDS = ("atr", "dc_upper", "dc_lower", "dc_mid", "pivot", "r1", "r2", "r3", "s1", "s2", "s3",
                "session_pivot", "session_r1", "session_r2", "session_r3", "session_s1", "session_s2", "session_s3",
                "fractal_high", "fractal_low", "swing_high", "swing_low")


@dataclass(frozen=True, slots=True)
class IndicatorParams:
    atr_period: int = 14
    donchian_period: int = 20
    fractal_k: int = 2
    swing_left: int = 5
    swing_right: int = 5

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 1:
                raise ValueError(f"{f.name} must be >= 1, got {getattr(self, f.name)}")


class IndicatorSet:
    """Every indicator for one symbol and timeframe; `handle_bar` returns the bar's snapshot."""

    def __init__(self, symbol: str, timeframe: str, params: IndicatorParams = IndicatorParams()) -> None:
        self.symbol = symbol
        self.timeframe = timeframe
        self.params = params
        self.atr = AverageTrueRange(params.atr_period)
        self.donchian = DonchianChannel(params.donchian_period)
        self.session_pivots = SessionPivots()
        self.fractals: ExtremePoints = Fractals(params.fractal_k)
        self.swings: ExtremePoints = Swings(params.swing_left, params.swing_right)
        self.last_start: int | None = None

    def handle_bar(self, bar: Any) -> IndicatorSnapshot | None:
        """Snapshot for a closed bar; None for a bar at or before the last one seen (a replayed bar)."""
        if self.last_start is not None and bar.start <= self.last_start:
            return None
        return self.update_raw(bar.start, bar.end, getattr(bar, "session", "regular") or "regular",
                               float(bar.high), float(bar.low), float(bar.close), getattr(bar, "ts_init", 0))

    def update_raw(self, start: int, end: int, session: str, high: float, low: float, close: float,
                   ts_init: int = 0) -> IndicatorSnapshot:
        self.last_start = start
        atr_value = self.atr.update_raw(high, low, close)
        self.donchian.update_raw(high, low)
        session_levels = self.session_pivots.update_raw(start, session, high, low, close)
        self.fractals.update_raw(high, low)
        self.swings.update_raw(high, low)
        levels = classic(high, low, close)
        p = self.params
        return IndicatorSnapshot(
            symbol=self.symbol, timeframe=self.timeframe, start=start, end=end, close=close,
            atr_period=p.atr_period, atr=atr_value, donchian_period=p.donchian_period,
            dc_upper=self.donchian.upper, dc_lower=self.donchian.lower, dc_mid=self.donchian.middle,
            pivot=levels.pivot, r1=levels.r1, r2=levels.r2, r3=levels.r3, s1=levels.s1, s2=levels.s2, s3=levels.s3,
            session_pivot=session_levels.pivot if session_levels else None,
            session_r1=session_levels.r1 if session_levels else None,
            session_r2=session_levels.r2 if session_levels else None,
            session_r3=session_levels.r3 if session_levels else None,
            session_s1=session_levels.s1 if session_levels else None,
            session_s2=session_levels.s2 if session_levels else None,
            session_s3=session_levels.s3 if session_levels else None,
            fractal_k=p.fractal_k, fractal_high=self.fractals.high_level, fractal_low=self.fractals.low_level,
            swing_left=p.swing_left, swing_right=p.swing_right, swing_high=self.swings.high_level,
            swing_low=self.swings.low_level, ts_init=ts_init)

    def reset(self) -> None:
        for part in (self.atr, self.donchian, self.session_pivots, self.fractals, self.swings):
            part.reset()
        self.last_start = None

    def to_state(self) -> dict[str, Any]:
        return {"last_start": self.last_start, "atr": self.atr.to_state(), "donchian": self.donchian.to_state(),
                "session_pivots": self.session_pivots.to_state(), "fractals": self.fractals.to_state(),
                "swings": self.swings.to_state()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.last_start = state["last_start"]
        self.atr.load_state(state["atr"])
        self.donchian.load_state(state["donchian"])
        self.session_pivots.load_state(state["session_pivots"])
        self.fractals.load_state(state["fractals"])
        self.swings.load_state(state["swings"])


def compute_indicators(bars: pd.DataFrame, params: IndicatorParams = IndicatorParams(),
                       session_pivots_enabled: bool = True) -> pd.DataFrame:
    """Batch: the input columns (symbol, start, high, low, close, optional session) plus every value
    column, per symbol in start order (NaN where not yet defined). Rows keep their input order."""
    out = bars.copy()
    for name in VALUE_FIELDS:
        out[name] = np.nan
    if bars.empty:
        return out
    for _, group in bars.groupby("symbol", sort=False):
        ordered = group.sort_values("start", kind="stable")
        index = ordered.index
        high = ordered["high"].to_numpy(dtype=float)
        low = ordered["low"].to_numpy(dtype=float)
        close = ordered["close"].to_numpy(dtype=float)
        columns: dict[str, np.ndarray] = {"atr": atr(high, low, close, params.atr_period)}
        columns["dc_upper"], columns["dc_lower"], columns["dc_mid"] = donchian(high, low, params.donchian_period)
        levels = classic(high, low, close)
        for name in ("pivot", "r1", "r2", "r3", "s1", "s2", "s3"):
            columns[name] = getattr(levels, name)
        if session_pivots_enabled:
            sessions = ordered["session"].to_numpy() if "session" in ordered else np.full(len(ordered), "regular")
            table = session_pivots(ordered["start"].to_numpy(dtype=np.int64), sessions, high, low, close)
            for i, name in enumerate(("session_pivot", "session_r1", "session_r2", "session_r3", "session_s1",
                                      "session_s2", "session_s3")):
                columns[name] = table[:, i]
        columns["fractal_high"], columns["fractal_low"] = extreme_levels(high, low, params.fractal_k, params.fractal_k)
        columns["swing_high"], columns["swing_low"] = extreme_levels(high, low, params.swing_left, params.swing_right)
        for name, values in columns.items():
            out.loc[index, name] = values
    return out


def snapshot_values(snapshot: IndicatorSnapshot) -> list[float]:
    """The value fields as floats with NaN for None (for comparisons with the batch form)."""
    return [math.nan if getattr(snapshot, n) is None else getattr(snapshot, n) for n in VALUE_FIELDS]

"""Indicators: arithmetic by hand, independent cross-checks, incremental == batch, no look-ahead."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.indicators import IndicatorParams, IndicatorSet, compute_indicators
from processors.indicators.atr import AverageTrueRange, atr
from processors.indicators.donchian import DonchianChannel, donchian
from processors.indicators.extremes import Fractals, Swings, extreme_levels
from processors.indicators.indicator_set import VALUE_FIELDS, snapshot_values
from processors.indicators.pivots import SessionPivots, camarilla, classic, fibonacci

MARKET = Path(__file__).resolve().parents[4] / "shared" / "data" / "market"
DAY_NS = 86_400 * 10**9


def test_atr_by_hand() -> None:
    high = np.array([10.0, 11.0, 12.0, 11.5, 13.0])
    low = np.array([9.0, 9.5, 10.5, 10.0, 11.0])
    close = np.array([9.5, 10.5, 11.0, 10.5, 12.5])
    # TR1 = max(1.5, |11-9.5|, |9.5-9.5|) = 1.5; TR2 = max(1.5, 1.5, 0) = 1.5; TR3 = max(1.5, 0.5, 1.0) = 1.5
    # TR4 = max(2.0, |13-10.5|=2.5, |11-10.5|=0.5) = 2.5
    # ATR(3) on bar 3 = (1.5+1.5+1.5)/3 = 1.5; bar 4 = (1.5*2 + 2.5)/3 = 1.8333...
    expected = [math.nan, math.nan, math.nan, 1.5, 5.5 / 3]
    np.testing.assert_allclose(atr(high, low, close, 3), expected, rtol=0, atol=1e-15)
    calc = AverageTrueRange(3)
    values = [calc.update_raw(h, l, c) for h, l, c in zip(high, low, close)]
    assert values[:3] == [None, None, None] and values[3] == 1.5 and values[4] == 5.5 / 3


def test_donchian_by_hand() -> None:
    upper, lower, mid = donchian(np.array([3.0, 5.0, 4.0, 2.0]), np.array([1.0, 2.0, 0.5, 1.5]), 3)
    assert np.isnan(upper[1]) and (upper[2], lower[2], mid[2]) == (5.0, 0.5, 2.75)
    assert (upper[3], lower[3], mid[3]) == (5.0, 0.5, 2.75)


def test_pivots_by_hand() -> None:
    # H=12, L=8, C=10: P=10, R1=12, S1=8, R2=14, S2=6, R3=16, S3=4
    levels = classic(12.0, 8.0, 10.0)
    assert (levels.pivot, levels.r1, levels.s1, levels.r2, levels.s2, levels.r3, levels.s3) == (
        10.0, 12.0, 8.0, 14.0, 6.0, 16.0, 4.0)
    fib = fibonacci(12.0, 8.0, 10.0)
    assert fib.r1 == pytest.approx(10 + 0.382 * 4) and fib.s3 == 6.0
    cam = camarilla(12.0, 8.0, 10.0)
    # Camarilla: range*1.1 = 4.4; R1 = C + 4.4/12, S3 = C - 4.4/4 = 8.9
    assert cam.r1 == pytest.approx(10 + 4.4 / 12) and cam.s3 == pytest.approx(8.9)


def test_session_pivots_use_the_previous_regular_session() -> None:
    calc = SessionPivots()
    d1 = 1_764_081_000 * 10**9  # 2025-11-25 09:30 ET
    assert calc.update_raw(d1, "regular", 12.0, 9.0, 10.0) is None
    assert calc.update_raw(d1 + 3600 * 10**9, "regular", 11.0, 8.0, 10.0) is None
    assert calc.update_raw(d1 + 8 * 3600 * 10**9, "post", 50.0, 1.0, 40.0) is None  # post-market ignored
    levels = calc.update_raw(d1 + DAY_NS, "regular", 13.0, 12.0, 12.5)
    assert levels == classic(12.0, 8.0, 10.0)  # H=12, L=8, C=10 of the previous regular session


def test_fractals_and_swings_by_hand() -> None:
    highs = [1.0, 2.0, 5.0, 3.0, 2.0, 2.0, 6.0, 6.0, 1.0, 1.0]
    lows = [h - 1 for h in highs]
    fr = Fractals(2)
    seen = []
    for h, l in zip(highs, lows):
        fr.update_raw(h, l)
        seen.append(fr.high_level)
    # bar 2 (5.0) > bars 0,1 and 3,4: known on bar 4. Bars 6/7 are equal (6.0), so neither is strict.
    assert seen == [None, None, None, None, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
    batch_high, _ = extreme_levels(np.array(highs), np.array(lows), 2, 2)
    assert np.array_equal(batch_high, np.array([np.nan] * 4 + [5.0] * 6), equal_nan=True)
    sw = Swings(1, 3)
    for h, l in zip(highs, lows):
        sw.update_raw(h, l)
    assert sw.high_level == 5.0


def naive_levels(values: list[float], left: int, right: int, sign: float) -> list[float]:
    out, level = [], math.nan
    for t in range(len(values)):
        i = t - right
        if i - left >= 0:
            c = values[i] * sign
            if all(c > values[j] * sign for j in range(i - left, i)) and all(
                    c > values[j] * sign for j in range(i + 1, t + 1)):
                level = values[i]
        out.append(level)
    return out


def load_daily(name: str) -> pd.DataFrame:
    frame = pd.read_csv(MARKET / name)
    frame["start"] = pd.to_datetime(frame["Date"]).astype("int64")
    return frame.rename(columns={"High": "high", "Low": "low", "Close": "close", "Open": "open"})


@pytest.mark.parametrize("name", ["orcl-1995-2014.txt", "nvda-1999-2014.txt"])
def test_atr_matches_backtrader_on_real_data(name: str) -> None:
    import backtrader as bt

    frame = load_daily(name)
    frame.index = pd.to_datetime(frame["Date"])
    values: list[float] = []

    class Record(bt.Strategy):
        def __init__(self) -> None:
            self.atr = bt.indicators.ATR(self.data, period=14)

        def next(self) -> None:
            values.append(self.atr[0])

    cerebro = bt.Cerebro(stdstats=False)
    cerebro.adddata(bt.feeds.PandasData(dataname=frame[["open", "high", "low", "close"]]))
    cerebro.addstrategy(Record)
    cerebro.run()
    ours = atr(frame["high"].to_numpy(), frame["low"].to_numpy(), frame["close"].to_numpy(), 14)
    # backtrader calls next() from the first bar where ATR is defined (index 14).
    np.testing.assert_allclose(ours[14:], values, rtol=1e-9)
    assert np.isnan(ours[:14]).all()


def test_donchian_and_extremes_match_independent_computations_on_real_data() -> None:
    frame = load_daily("yhoo-1996-2014.txt")
    high, low = frame["high"].to_numpy(), frame["low"].to_numpy()
    upper, lower, _ = donchian(high, low, 20)
    np.testing.assert_array_equal(upper, frame["high"].rolling(20).max().to_numpy())
    np.testing.assert_array_equal(lower, frame["low"].rolling(20).min().to_numpy())
    for left, right in ((2, 2), (5, 5), (3, 7)):
        hi, lo = extreme_levels(high, low, left, right)
        np.testing.assert_array_equal(hi, naive_levels(high.tolist(), left, right, 1.0))
        np.testing.assert_array_equal(lo, naive_levels(low.tolist(), left, right, -1.0))


def run_incremental(frame: pd.DataFrame, params: IndicatorParams) -> np.ndarray:
    indicator = IndicatorSet("X", "5m", params)
    rows = [indicator.update_raw(int(s), int(s) + 1, sess, h, l, c)
            for s, sess, h, l, c in zip(frame["start"], frame["session"], frame["high"], frame["low"], frame["close"])]
    return np.array([snapshot_values(r) for r in rows])


@st.composite
def bar_frames(draw):
    n = draw(st.integers(1, 80))
    closes = draw(st.lists(st.integers(50, 60), min_size=n, max_size=n))
    spreads = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    sessions = draw(st.lists(st.sampled_from(["pre", "regular", "post"]), min_size=n, max_size=n))
    starts = np.cumsum(draw(st.lists(st.sampled_from([300, 3600, 86_400]), min_size=n, max_size=n))) * 10**9
    close = np.array(closes, dtype=float) / 4
    return pd.DataFrame({"symbol": "X", "start": 1_764_000_000 * 10**9 + starts, "session": sessions,
                         "high": close + np.array(spreads) / 4, "low": close - np.array(spreads[::-1]) / 4,
                         "close": close})


@settings(max_examples=120, deadline=None)
@given(frame=bar_frames(), atr_period=st.integers(1, 5), donchian_period=st.integers(1, 6), k=st.integers(1, 3),
       left=st.integers(1, 4), right=st.integers(1, 4))
def test_incremental_equals_batch(frame, atr_period, donchian_period, k, left, right) -> None:
    params = IndicatorParams(atr_period, donchian_period, k, left, right)
    batch = compute_indicators(frame, params)[list(VALUE_FIELDS)].to_numpy(dtype=float)
    assert np.array_equal(run_incremental(frame, params), batch, equal_nan=True)


@settings(max_examples=60, deadline=None)
@given(frame=bar_frames(), cut=st.integers(0, 79), bump=st.floats(-5, 5))
def test_no_look_ahead(frame, cut, bump) -> None:
    """Changing bars after t never changes the values at t."""
    cut = min(cut, len(frame) - 1)
    changed = frame.copy()
    changed.loc[changed.index > cut, ["high", "low", "close"]] += bump
    params = IndicatorParams(3, 4, 2, 2, 3)
    a = compute_indicators(frame, params)[list(VALUE_FIELDS)].to_numpy(dtype=float)[: cut + 1]
    b = compute_indicators(changed, params)[list(VALUE_FIELDS)].to_numpy(dtype=float)[: cut + 1]
    assert np.array_equal(a, b, equal_nan=True)


def test_state_export_resumes_identically() -> None:
    frame = load_daily("orcl-1995-2014.txt").head(400).assign(symbol="ORCL", session="regular")
    whole = run_incremental(frame, IndicatorParams())
    first = IndicatorSet("X", "5m")
    for row in frame.head(200).itertuples():
        first.update_raw(int(row.start), int(row.start) + 1, "regular", row.high, row.low, row.close)
    second = IndicatorSet("X", "5m")
    second.load_state(json.loads(json.dumps(first.to_state())))
    rest = [snapshot_values(second.update_raw(int(r.start), int(r.start) + 1, "regular", r.high, r.low, r.close))
            for r in frame.iloc[200:].itertuples()]
    assert np.array_equal(np.array(rest), whole[200:], equal_nan=True)


def test_replayed_bar_is_ignored_and_params_are_validated() -> None:
    indicator = IndicatorSet("X", "5m")

    class B:
        start, end, session, high, low, close, ts_init = 10, 20, "regular", 2.0, 1.0, 1.5, 0

    assert indicator.handle_bar(B()) is not None
    assert indicator.handle_bar(B()) is None
    with pytest.raises(ValueError, match="atr_period"):
        IndicatorParams(atr_period=0)
    with pytest.raises(ValueError, match="period"):
        DonchianChannel(0)
    with pytest.raises(ValueError, match="left"):
        Swings(0, 5)

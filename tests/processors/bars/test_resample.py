"""Resampling: coarser bars from finer ones equal the direct aggregation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from processors.bars import resample_bars

from .conftest import CAL, REGULAR, run, tick


def test_resample_one_minute_bars_matches_direct_aggregation() -> None:
    trading = CAL.day(dt.date(2026, 11, 24))
    rng = np.random.default_rng(9)
    times = np.sort(rng.integers(trading.open, trading.close, 5000))
    ticks = [tick(int(t), f"{100 + rng.integers(0, 500) / 100:.2f}", 100) for t in times]
    one_minute, _, _ = run(ticks, "1m")
    direct, _, _ = run(ticks, "30m")
    resampled = resample_bars(one_minute, "30m", CAL, REGULAR)
    strip = lambda b: (b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.trades)  # noqa: E731
    assert [strip(b) for b in resampled] == [strip(b) for b in direct]
    assert all(abs(r.vwap - d.vwap) <= Decimal("0.00000001") * 30 for r, d in zip(resampled, direct))


from __future__ import annotations

import numpy as np
import pytest

from processors.latency import LatencyWindows, nearest_rank


def test_percentiles_by_hand() -> None:
    windows = LatencyWindows(window_ns=1000)
    for i, latency in enumerate([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]):  # 1..10
        windows.record("sim", "SPY", "TICK_TO_BAR_CLOSE", latency, at_ns=100 + i)
    (m,) = windows.snapshot(now_ns=200)
    # nearest rank: p50 -> rank 5 -> 5; p95 -> rank ceil(9.5)=10 -> 10; p99 -> rank 10 -> 10
    assert (m.count, m.p50_ns, m.p95_ns, m.p99_ns, m.max_ns) == (10, 5, 10, 10, 10)
    assert (m.window_start, m.window_end) == (-800, 200)


def test_old_samples_leave_the_window() -> None:
    windows = LatencyWindows(window_ns=100)
    windows.record("sim", "SPY", "EXCHANGE_TO_ARRIVAL", 1_000, at_ns=0)
    windows.record("sim", "SPY", "EXCHANGE_TO_ARRIVAL", 7, at_ns=150)
    (m,) = windows.snapshot(now_ns=200)
    assert (m.count, m.max_ns) == (1, 7)
    assert windows.snapshot(now_ns=1_000) == []


def test_nearest_rank_matches_numpy_inverted_cdf() -> None:
    rng = np.random.default_rng(3)
    values = np.sort(rng.integers(0, 10**9, size=997))
    for p in (50, 95, 99):
        assert nearest_rank(values, p) == int(np.percentile(values, p, method="inverted_cdf"))


def test_unknown_hop_is_refused() -> None:
    with pytest.raises(ValueError, match="hop"):
        LatencyWindows().record("sim", "SPY", "NOPE", 1, 1)

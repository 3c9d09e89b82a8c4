"""Full indicator set throughput: bars/s in batch (vectorised) and incremental form.

Run: .venv/bin/python benchmarks/bench_indicators.py [--bars 1000000]
Target on a 2-core machine: batch >= 200,000 bars/s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from processors.indicators import IndicatorSet, compute_indicators


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bars", type=int, default=1_000_000)
    parser.add_argument("--symbols", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    n = args.bars
    close = 100 + rng.normal(0, 1, n).cumsum() * 0.1
    frame = pd.DataFrame({
        "symbol": np.repeat([f"S{i:02d}" for i in range(args.symbols)], n // args.symbols + 1)[:n],
        "start": (1_764_000_000 + np.arange(n) * 300) * 10**9,
        "high": close + rng.random(n), "low": close - rng.random(n), "close": close, "session": "regular",
    })
    started = time.perf_counter()
    compute_indicators(frame)
    batch_s = time.perf_counter() - started

    sample = frame.head(min(n, 200_000))
    sets: dict[str, IndicatorSet] = {}
    started = time.perf_counter()
    for symbol, start, high, low, close_ in zip(sample["symbol"].tolist(), sample["start"].tolist(),
                                                sample["high"].tolist(), sample["low"].tolist(),
                                                sample["close"].tolist()):
        indicator = sets.get(symbol)
        if indicator is None:
            indicator = sets[symbol] = IndicatorSet(symbol, "5m")
        indicator.update_raw(start, start + 300 * 10**9, "regular", high, low, close_)
    incremental_s = time.perf_counter() - started
    print(f"bars: {n:,} over {args.symbols} symbols; full set: ATR, Donchian, classic + session pivots, "
          "fractals, swings")
    print(f"batch:       {n / batch_s:12,.0f} bars/s  ({batch_s:.2f} s)  target >= 200,000")
    print(f"incremental: {len(sample) / incremental_s:12,.0f} bars/s  ({incremental_s:.2f} s on {len(sample):,} bars)")


if __name__ == "__main__":
    main()

"""Bar aggregation throughput: ticks/s for the batch (numpy) and incremental forms, one process.

Run: .venv/bin/python benchmarks/bench_bars.py [--ticks 3000000]
Targets on a 2-core machine: batch >= 1,000,000 ticks/s, incremental >= 300,000 ticks/s.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time

import numpy as np

from processors.bars import BarAggregator, TickArrays, aggregate_batch
from processors.calendar import build_nyse_calendar, parse_sessions


def synthetic(n: int, calendar, symbols: int) -> TickArrays:  # noqa: ANN001
    rng = np.random.default_rng(42)
    windows = calendar.windows(parse_sessions("extended"))
    starts = np.array([w.start_ns for w in windows])
    ends = np.array([w.end_ns for w in windows])
    lengths = ends - starts
    pick = rng.choice(len(windows), size=n, p=lengths / lengths.sum())
    ts = np.sort(starts[pick] + (rng.random(n) * lengths[pick]).astype(np.int64))
    names = np.array([f"S{i:03d}" for i in range(symbols)], dtype=object)
    return TickArrays(symbol=names[rng.integers(0, symbols, n)], ts_event=ts, ts_init=ts + 1_000_000,
                      price=np.round(100 + rng.normal(0, 1, n).cumsum() * 0.01, 2).clip(1, None),
                      size=rng.integers(1, 10, n) * 100,
                      trade_id=np.array([f"t{i}" for i in range(n)], dtype=object), conditions=None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ticks", type=int, default=3_000_000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--batch", type=int, default=50, help="prints per update_many call")
    args = parser.parse_args()
    calendar = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 20))  # 5 trading days
    ticks = synthetic(args.ticks, calendar, args.symbols)
    sessions = parse_sessions("extended")

    started = time.perf_counter()
    result = aggregate_batch(ticks, "5m", sessions, calendar, lateness_ns=0)
    batch_s = time.perf_counter() - started
    started = time.perf_counter()
    aggregate_batch(dataclasses.replace(ticks, trade_id=None), "5m", sessions, calendar, lateness_ns=0)
    batch_no_ids_s = time.perf_counter() - started

    aggregator = BarAggregator("5m", sessions, calendar, lateness_ns=0)
    update = aggregator.update_raw
    rows = list(zip(ticks.symbol.tolist(), ticks.ts_event.tolist(), ticks.ts_init.tolist(), ticks.price.tolist(),
                    ticks.size.tolist(), ticks.trade_id.tolist()))
    started = time.perf_counter()
    for symbol, ts, ts_init, price, size, trade_id in rows:
        update(symbol, ts, ts_init, price, size, trade_id)
    aggregator.flush()
    incremental_s = time.perf_counter() - started
    bars, _ = aggregator.drain()
    assert len(bars) == len(result.bars), (len(bars), len(result.bars))

    # As the bars stage runs it: each symbol's prints in batches (update_many), batches of the symbols in turn.
    per_symbol: dict[str, list[tuple]] = {}
    for row in rows:
        per_symbol.setdefault(row[0], []).append(row[1:])
    chunks = [(symbol, list(zip(*prints[i:i + args.batch]))) for i in range(0, max(map(len, per_symbol.values())),
                                                                             args.batch)
              for symbol, prints in per_symbol.items() if i < len(prints)]
    aggregator = BarAggregator("5m", sessions, calendar, lateness_ns=0)
    started = time.perf_counter()
    for symbol, (ts, ts_init, price, size, trade_id) in chunks:
        aggregator.update_many(symbol, ts, ts_init, price, size, trade_id, (None,) * len(ts))
    aggregator.flush()
    batched_s = time.perf_counter() - started
    assert len(aggregator.drain()[0]) == len(result.bars)

    print(f"ticks: {args.ticks:,} over {args.symbols} symbols, {len(result.bars):,} five-minute bars")
    print(f"batch aggregation:       {args.ticks / batch_no_ids_s:12,.0f} ticks/s  ({batch_no_ids_s:.2f} s)"
          "  target >= 1,000,000 (ticks without trade ids)")
    print(f"batch with trade-id dedup: {args.ticks / batch_s:10,.0f} ticks/s  ({batch_s:.2f} s)"
          "  (every tick has a distinct string id to check)")
    print(f"incremental aggregation: {args.ticks / incremental_s:12,.0f} ticks/s  ({incremental_s:.2f} s)"
          "  target >= 300,000")
    print(f"incremental, batches of {args.batch}: {args.ticks / batched_s:8,.0f} ticks/s  ({batched_s:.2f} s)"
          "  (update_many, as the bars stage calls it)")


if __name__ == "__main__":
    main()

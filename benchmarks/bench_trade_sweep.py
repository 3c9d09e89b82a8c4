"""The trade manager's 5-second sweep over 10,000 open trades: how long one sweep takes.

Run: .venv/bin/python benchmarks/bench_trade_sweep.py [--trades 10000] [--symbols 500] [--sweeps 200]
Target: one sweep over 10,000 open trades under 100 ms.

10,000 long trades are opened over 500 symbols (20 per symbol, with stops and targets spread from
0.5 % to 5 % around the entry, and a risk-reduction level at 1 R). Then, sweep after sweep, every
symbol prints (so every trade is visited), in three regimes:

    quiet      the prices move inside every trade's stop and target: the sweep checks all 10,000 and
               requests nothing
    active     each sweep one symbol in ten falls through the stops of its tighter-stopped trades and
               one in ten rises through the 1 R level of some: about 5 % of the trades make a request per
               sweep (stop-loss or risk reduction, the stop moved to break-even)
    crash      every symbol falls 6 % at once: all 10,000 trades stop out in one sweep (the worst case),
               repeated on 7 fresh sets of trades

Each sweep is timed from the first print after the sweep instant (which runs the sweep) through the
requests it returns, with `time.perf_counter_ns`; the figures are per sweep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from decimal import Decimal

from processors.calendar import build_nyse_calendar
from processors.pnl import Direction
from processors.trades import (BreakEven, EntryFilled, RiskReductionLevel, SellFraction, StrategySettings,
                               TradeManager, TradeManagerConfig)

NS = 1_000_000_000
START = int(dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc).timestamp()) * NS  # 10:00 ET
INTERVAL_S = 5
CENT = Decimal("0.01")
CRASH_REPEATS = 7


def opened(trades: int, symbols: int) -> tuple[TradeManager, list[str], dict[str, Decimal]]:
    calendar = build_nyse_calendar(dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    levels = (RiskReductionLevel(trigger_r=Decimal(1), sell=SellFraction(Decimal("0.5")), move_stop=BreakEven()),)
    manager = TradeManager(TradeManagerConfig(calendar=calendar, sweep_interval_s=INTERVAL_S,
                                              strategies={"bench": StrategySettings(risk_reduction=levels)}))
    names = [f"S{i:03d}" for i in range(symbols)]
    entry = {name: Decimal(50 + i % 200) for i, name in enumerate(names)}
    for n in range(trades):
        symbol = names[n % symbols]
        price = entry[symbol]
        stop_pct = Decimal("0.5") + Decimal(n % 10) / 2          # 0.5 % .. 5 %
        manager.on_entry_fill(EntryFilled(
            trade_id=f"t{n}", account_id="acct", strategy="bench", symbol=symbol, direction=Direction.LONG,
            quantity=100, price=price, stop_price=(price * (1 - stop_pct / 100)).quantize(CENT),
            target_price=(price * (1 + 2 * stop_pct / 100)).quantize(CENT), ts_event=START))
    return manager, names, entry


def sweep_times(manager: TradeManager, names: list[str], entry: dict[str, Decimal], sweeps: int,
                regime: str) -> tuple[list[float], int]:
    """Per sweep: milliseconds and the requests made."""
    times, requests = [], 0
    at = (START // (INTERVAL_S * NS) + 1) * INTERVAL_S * NS
    for k in range(sweeps):
        for i, symbol in enumerate(names):  # the interval's prints
            price = entry[symbol]
            if regime == "active" and (i + k) % 10 == 0:
                price = price * Decimal("0.993")         # through the 0.5 % stops
            elif regime == "active" and (i + k) % 10 == 5:
                price = price * Decimal("1.012")         # 1 R above the 1 % stops
            elif regime == "crash":
                price = price * Decimal("0.94")
            else:
                price = price * (1 + Decimal((i + k) % 5 - 2) / 1000)  # within +-0.2 %
            manager.on_price(symbol, price.quantize(CENT), at - NS)
        started = time.perf_counter_ns()
        made = manager.advance_to(at)
        times.append((time.perf_counter_ns() - started) / 1e6)
        requests += len(made)
        at += INTERVAL_S * NS
        if regime == "crash":
            break
    return times, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=10_000)
    parser.add_argument("--symbols", type=int, default=500)
    parser.add_argument("--sweeps", type=int, default=200)
    args = parser.parse_args()
    print(f"trade manager sweep: {args.trades:,} open trades over {args.symbols} symbols, "
          f"{INTERVAL_S}-second sweeps on event time")
    print(f"{'regime':<8} {'sweeps':>6} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    worst = 0.0
    for regime in ("quiet", "active", "crash"):
        times, requests = [], 0
        for _ in range(CRASH_REPEATS if regime == "crash" else 1):   # a crash is one sweep: repeated afresh
            manager, names, entry = opened(args.trades, args.symbols)
            more, made = sweep_times(manager, names, entry, args.sweeps, regime)
            times, requests = times + more, requests + made
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        worst = max(worst, p99)
        print(f"{regime:<8} {len(times):>6} {requests:>9,} {statistics.median(times):>8.2f} {p99:>8.2f} "
              f"{max(times):>8.2f}")
    print(f"target: one sweep under 100 ms; worst p99 {worst:.2f} ms: {'met' if worst < 100 else 'NOT met'}")


if __name__ == "__main__":
    main()

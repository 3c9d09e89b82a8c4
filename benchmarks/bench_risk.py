"""Risk decisions at 1,000 intents per second: the time from an order intent to its published decision.

Run: .venv/bin/python benchmarks/bench_risk.py [--seconds 30] [--rate 1000] [--symbols 200]
Target: decision p99 under 50 ms at 1,000 intents/s.

An intent is decided in the step that made it: the strategy runner hands each entry intent to the
account's trading desk (processors/trading/session.py) before the next print, so its latency from intent
to decision is the desk's `on_intent`, which checks every limit against the account book, sizes the
entry, encodes the decision and places the order at the paper broker. This runs that path as the runner
does, at `--rate` intents per second of event time for `--seconds`, over `--symbols` symbols with prints
between the intents (the book marks positions, the broker fills the entries, the trade manager sweeps
and stops trades out), on an account whose limits let most entries through (the active path: sized,
capped, ordered) and refuse some (max active trades), and times each `on_intent` with perf_counter_ns.
The decisions are encoded to Avro as the publisher would (the codec's schemaless writer), and that is
timed too.

Also printed: the same at the rate the machine sustains (intents back to back), for headroom.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import time
from decimal import Decimal

import fastavro

from processors.calendar import ET, build_nyse_calendar
from processors.model import OrderIntentCreated, TradeTick
from processors.risk import Account, RegimePeriod, RiskLimits, StopPercent, TradingDays
from processors.trades import TradeManagerConfig
from processors.trading import DeskConfig, StrategyTrading, TradingDesk
from schemas import SCHEMAS

NS = 1_000_000_000
D = Decimal


def desk(symbols: int, max_active: int) -> TradingDesk:
    calendar = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 30))
    account = Account(account_id="bench", broker="paper", starting_capital=D(10_000_000),
                      regimes=(RegimePeriod(dt.date(2026, 6, 4), "intraday_margin"),),
                      limits=RiskLimits(max_loss_per_trade=D(500), max_loss_per_trade_pct=D(1),
                                        max_open_risk=D(2_000_000), max_drawdown_pct=D(50), max_active_trades=max_active,
                                        max_trades_per_day=1_000_000, max_position_pct=D(5),
                                        max_capital_utilized_pct=D(400)))
    return TradingDesk(DeskConfig(
        accounts=[account], strategies={"bench": StrategyTrading(account_id="bench", stop=StopPercent(D(1)))},
        trade_manager=TradeManagerConfig(calendar=calendar), days=TradingDays.of(calendar)))


def intent(n: int, symbol: str, price: Decimal, ts: int, side: str) -> OrderIntentCreated:
    return OrderIntentCreated(
        client_order_id=f"ts-{n}", signal_id=f"s-{n}", strategy="bench", mode="VIRTUAL", symbol=symbol,
        instrument="EQUITY", contract=symbol, side=side, ts_event=ts, ts_init=ts,
        exchange="SMART", order_type="MARKET", limit_price=None, stop_price=None, tick_size=D("0.01"),
        reference_price=price, product="MARGIN", quantity=0, multiplier=1)


def run(seconds: int, rate: int, symbols: int, max_active: int) -> tuple[list[float], list[float], int, int, list[bool]]:
    """Per intent: on_intent ms and Avro-encoding ms; the decisions refused and the fills made; per intent, whether
    it was accepted or resized (the sizing and ordering path)."""
    trading = desk(symbols, max_active)
    parsed = fastavro.parse_schema(SCHEMAS["RiskDecisionMade"])
    names = [f"S{i:03d}" for i in range(symbols)]
    prices = {name: D(20 + i % 300) for i, name in enumerate(names)}
    start = int(dt.datetime(2026, 11, 24, 10, 0, tzinfo=ET).timestamp()) * NS
    step = NS // rate
    decide_ms, encode_ms, refused, fills, accepted = [], [], 0, 0, []
    for n in range(seconds * rate):
        ts = start + n * step
        symbol = names[n % symbols]
        drift = D((n * 7919) % 41 - 20) / 100           # a deterministic walk of +-0.20
        price = max(D("1.00"), prices[symbol] + drift)
        prices[symbol] = price
        fills += sum(type(e).__name__ == "FillExecuted" for e in trading.on_trade(TradeTick(
            symbol=symbol, ts_event=ts, ts_init=ts, price=price, size=5_000, feed="bench")))
        began = time.perf_counter_ns()
        side = "SELL" if (n % symbols) % 3 == 0 else "BUY"     # a symbol's intents on one side (positions net)
        events = trading.on_intent(intent(n, symbol, price, ts + 1, side), ts_init=ts + 1)
        decided = time.perf_counter_ns()
        decision = events[0]
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, parsed, {f: getattr(decision, f) for f in decision.__dataclass_fields__})
        encoded = time.perf_counter_ns()
        decide_ms.append((decided - began) / 1e6)
        encode_ms.append((encoded - decided) / 1e6)
        refused += decision.outcome == "REJECT"
        accepted.append(decision.outcome != "REJECT")
    return decide_ms, encode_ms, refused, fills, accepted


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=200)
    parser.add_argument("--max-active", type=int, action="append",
                        help="the account's max active trades (repeat; default 100 and 1,000: the book holds up to "
                             "that many open trades, which every decision reads)")
    args = parser.parse_args()
    worst = 0.0
    for max_active in args.max_active or [100, 1_000]:
        began = time.perf_counter()
        decide_ms, encode_ms, refused, fills, accepted = run(args.seconds, args.rate, args.symbols, max_active)
        wall = time.perf_counter() - began
        total = [a + b for a, b in zip(decide_ms, encode_ms)]
        print(f"risk decisions, max {max_active:,} active trades: {len(total):,} intents ({args.rate:,}/s of event "
              f"time for {args.seconds} s) over {args.symbols} symbols; {len(total) - refused:,} accepted or resized, "
              f"{refused:,} refused, {fills:,} fills")
        print(f"  {'':<28} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name, values in (("decide (desk.on_intent)", decide_ms), ("encode the decision (Avro)", encode_ms),
                             ("intent to decision", total),
                             ("  of those accepted/resized", [t for t, a in zip(total, accepted) if a] or [0.0]),
                             ("  of those refused", [t for t, a in zip(total, accepted) if not a] or [0.0])):
            print(f"  {name:<28} {statistics.median(values):>8.3f} {percentile(values, 0.99):>8.3f} "
                  f"{max(values):>8.3f}")
        print(f"  the whole run (prints, fills, sweeps and decisions): {wall:.1f} s for {args.seconds} s of event "
              f"time ({'faster' if wall < args.seconds else 'SLOWER'} than real time); decisions alone sustain "
              f"{len(total) / sum(total) * 1000:,.0f} intents/s")
        worst = max(worst, percentile(total, 0.99))
    print(f"target: p99 under 50 ms at {args.rate:,} intents/s: worst p99 {worst:.3f} ms, "
          f"{'met' if worst < 50 else 'NOT met'}")


if __name__ == "__main__":
    main()

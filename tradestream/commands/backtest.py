"""`tradestream backtest --config STRATEGY.yaml --bars IN.csv [--ticks IN.csv] --out DIR`.

Runs the strategy's processors in-process over history, no Kafka needed, with the same
`StrategyPipeline` the live runner uses. With `--ticks`, bars and indicators are built from the
trades (exactly as live); the bars of `--bars` that end before the first trade warm the indicators
up. Without ticks, the bars drive everything and `price(SYM)` is the latest bar's close; that run
uses the pipeline's vectorised twin (`processors.strategies.vectorized`, tested identical).

Writes DIR/signals.csv (`ts,strategy,symbol,side,price,reason`), DIR/suppressed.csv,
DIR/intents.csv and DIR/summary.json; a progress bar on standard error for long runs.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backtest", help="run a strategy over historical bars/ticks, no Kafka needed")
    parser.add_argument("--config", required=True, help="strategy (scanner) configuration, YAML or JSON")
    parser.add_argument("--bars", required=True, help="bars CSV: symbol,start,open,high,low,close,volume[,end,...]")
    parser.add_argument("--bars-timeframe", default="",
                        help="timeframe of the bars file when it has no timeframe column (e.g. 1m; default: "
                             "inferred from the spacing of the first symbol's bars)")
    parser.add_argument("--ticks", help="ticks CSV: ts,symbol,price,size[,trade_id,conditions]")
    parser.add_argument("--lateness-ms", type=int, default=0, help="allowed lateness of ticks (default 0)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def load_config(path: str):  # noqa: ANN201 - ScannerConfig
    import yaml

    from processors.scanner import ScannerConfig

    text = Path(path).read_text()
    data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of settings at the top level")
    return ScannerConfig.from_mapping(data)


def _read_csv(path: str) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        return header, list(reader)


def _infer_timeframe(bars) -> str:  # noqa: ANN001
    starts = sorted({b.start for b in bars if b.symbol == bars[0].symbol})
    gaps = [b - a for a, b in zip(starts, starts[1:]) if b > a]
    if not gaps:
        raise ValueError("cannot infer the bars' timeframe from one bar; pass --bars-timeframe")
    minutes = min(gaps) // 60_000_000_000
    return f"{minutes}m"


class Progress:
    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.last = max(total, 1), enabled and total > 50_000, -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        percent = done * 100 // self.total
        if percent != self.last:
            self.last = percent
            bar = "#" * (percent // 4)
            print(f"\r[{bar:<25}] {percent:3d}% {done:,}/{self.total:,}", end="", file=sys.stderr, flush=True)
        if done >= self.total:
            print(file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from processors.bars import Timeframe
    from processors.model import Bar
    from processors.calendar import build_nyse_calendar
    from processors.csvio import CsvFormatError, format_time, read_bars, read_ticks
    from processors.rules import RuleError
    from processors.scanner import ScannerConfigError, SignalLimiter, in_schedule
    from processors.strategies.engine import event_order_key
    from processors.strategies.pipeline import Decisions, StrategyPipeline
    from processors.strategies.vectorized import backtest_bars

    try:
        config = load_config(args.config)
    except (OSError, ValueError, ScannerConfigError, RuleError) as exc:
        print(f"tradestream backtest: {args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        header, rows = _read_csv(args.bars)
        bars = read_bars(rows, header)
        timeframe = (args.bars_timeframe or _infer_timeframe(bars)) if bars else ""
        ticks = []
        if args.ticks:
            header, rows = _read_csv(args.ticks)
            ticks = read_ticks(rows, header)
    except (OSError, CsvFormatError, ValueError) as exc:
        print(f"tradestream backtest: {exc}", file=sys.stderr)
        return 2
    times = [b.start for b in bars] + [t.ts_event for t in ticks]
    if not times:
        print("tradestream backtest: no bars or ticks in the input", file=sys.stderr)
        return 2
    first = dt.datetime.fromtimestamp(min(times) / 1e9, dt.timezone.utc).date() - dt.timedelta(days=7)
    last = dt.datetime.fromtimestamp(max(times) / 1e9, dt.timezone.utc).date() + dt.timedelta(days=7)
    calendar = build_nyse_calendar(first, last)
    if bars:
        length = Timeframe.parse(timeframe).length_ns or 0
        bars = [Bar(b.symbol, Timeframe.parse(timeframe).text, calendar.session_at(b.start).value, b.start,
                    b.end if b.end > b.start else b.start + length, b.open, b.high, b.low, b.close, b.volume, b.vwap,
                    b.trades, b.ts_init) for b in bars]
    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts), lateness_ns=args.lateness_ms * 1_000_000)
    started = time.perf_counter()
    decisions = Decisions()
    if ticks:
        ticks.sort(key=lambda t: t.ts_event)
        warmup = sorted((b for b in bars if b.end <= ticks[0].ts_event), key=event_order_key)
        events: list = warmup + ticks
        progress = Progress(len(events), not args.quiet)
        for i, event in enumerate(events, 1):
            decisions.extend(pipeline.on_trade(event) if hasattr(event, "price") else pipeline.on_bar(event))
            if i % 10_000 == 0:
                progress.update(i)
        decisions.extend(pipeline.finish())
        progress.update(len(events))
    else:
        # Over bars only, the vectorised twin (tests prove it takes the pipeline's decisions exactly).
        events = bars
        decisions = backtest_bars(config, bars, calendar)
    elapsed = time.perf_counter() - started

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "signals.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "strategy", "symbol", "side", "price", "reason"])
        for s in decisions.signals:
            writer.writerow([format_time(s.ts_event), s.strategy, s.symbol, s.side, s.price,
                             f"{s.action}: {s.reason}"])
    with open(out / "suppressed.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "strategy", "symbol", "side", "price", "suppression", "rule"])
        for s in decisions.suppressed:
            writer.writerow([format_time(s.ts_event), s.strategy, s.symbol, s.side, s.price or "", s.suppression,
                             s.rule])
    with open(out / "intents.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "client_order_id", "strategy", "contract", "side", "order_type", "limit_price",
                         "stop_price", "quantity", "multiplier", "exchange", "product", "mode"])
        for o in decisions.intents:
            writer.writerow([format_time(o.ts_event), o.client_order_id, o.strategy, o.contract, o.side, o.order_type,
                             o.limit_price or "", o.stop_price or "", o.quantity, o.multiplier, o.exchange, o.product,
                             o.mode])
    summary = {
        "strategy": config.name, "bars": len(bars), "ticks": len(ticks), "events": len(events),
        "signals": len(decisions.signals), "entries": sum(s.action == "ENTRY" for s in decisions.signals),
        "exits": sum(s.action == "EXIT" for s in decisions.signals), "suppressed": len(decisions.suppressed),
        "intents": len(decisions.intents), "rejected_ticks": pipeline.rejected,
        "seconds": round(elapsed, 3), "events_per_second": round(len(events) / elapsed) if elapsed else None,
        "first": format_time(min(times)), "last": format_time(max(times)),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    return 0

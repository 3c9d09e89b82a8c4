"""`tradestream bars --ticks IN.csv | --bars IN.csv --timeframe 5m [--session …] --out OUT.csv`."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import sys
from collections import Counter

from tradestream.commands.inputs import csv_rows, readable_file, timeframe

OUT_FIELDS = ("symbol", "start", "end", "open", "high", "low", "close", "volume", "vwap", "trades")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bars", help="aggregate ticks (or finer bars) into bars")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--ticks", type=readable_file, help="ticks CSV: ts,symbol,price,size[,trade_id,conditions]")
    source.add_argument("--bars", type=readable_file,
                        help="finer bars CSV to resample: symbol,start,open,high,low,close,volume")
    parser.add_argument("--timeframe", required=True, type=timeframe, help="Nm, Nh or 1d")
    parser.add_argument("--session", default="regular", choices=("regular", "extended", "all"))
    parser.add_argument("--lateness-ms", type=int, default=0, help="allowed lateness for out-of-order ticks")
    parser.add_argument("--out", required=True, help="output CSV")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from processors.bars import BarAggregator, resample_bars
    from processors.calendar import build_nyse_calendar, parse_sessions
    from processors.csvio import format_time, read_bars, read_ticks

    sessions = parse_sessions(args.session)
    path = args.ticks or args.bars
    with csv_rows(path) as (header, rows):
        if args.ticks:
            records = read_ticks(rows, header)
            times = [t.ts_event for t in records]
        else:
            records = read_bars(rows, header)
            times = [b.start for b in records]
    if not records:
        bars = []
    else:
        first = dt.datetime.fromtimestamp(min(times) / 1e9, dt.timezone.utc).date() - dt.timedelta(days=2)
        last = dt.datetime.fromtimestamp(max(times) / 1e9, dt.timezone.utc).date() + dt.timedelta(days=2)
        calendar = build_nyse_calendar(first, last)
        if args.ticks:
            aggregator = BarAggregator(args.timeframe, sessions, calendar, args.lateness_ms * 1_000_000)
            for tick in records:
                aggregator.handle_tick(tick)
            aggregator.flush()
            bars, rejected = aggregator.drain()
            for error_class, count in sorted(Counter(r.error_class for r in rejected).items()):
                print(f"tradestream bars: {count} tick(s) not aggregated: {error_class}", file=sys.stderr)
            for rejection in rejected:
                if rejection.is_error:
                    print(f"  {rejection.symbol} {format_time(rejection.ts_event)}: {rejection.error_class}: "
                          f"{rejection.reason}", file=sys.stderr)
        else:
            bars = resample_bars(records, args.timeframe, calendar, sessions)
    bars.sort(key=lambda b: (b.symbol, b.start))
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(OUT_FIELDS)
        for b in bars:
            writer.writerow([b.symbol, format_time(b.start), format_time(b.end), b.open, b.high, b.low, b.close,
                             b.volume, b.vwap, b.trades])
    return 0

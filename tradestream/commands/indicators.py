"""`tradestream indicators --bars IN.csv --out OUT.csv [--atr 14] [--donchian 20] [--fractal 2] [--swing 5,5]`."""

from __future__ import annotations

import argparse
import csv
import math
import sys

from tradestream.commands.inputs import csv_rows, readable_file

OUTPUT_VALUES = ("atr", "dc_upper", "dc_lower", "dc_mid", "pivot", "r1", "r2", "r3", "s1", "s2", "s3",
                 "fractal_high", "fractal_low", "swing_high", "swing_low")


def _swing(text: str) -> tuple[int, int]:
    parts = text.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise argparse.ArgumentTypeError(f"--swing must be LEFT,RIGHT such as 5,5, not {text!r}")
    return int(parts[0]), int(parts[1])


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("indicators", help="indicator set on bars from a CSV")
    parser.add_argument("--bars", required=True, type=readable_file,
                        help="bars CSV: symbol,start,open,high,low,close,volume")
    parser.add_argument("--out", required=True)
    parser.add_argument("--atr", type=int, default=14, help="ATR period (default 14)")
    parser.add_argument("--donchian", type=int, default=20, help="Donchian period (default 20)")
    parser.add_argument("--fractal", type=int, default=2, help="fractal k (default 2)")
    parser.add_argument("--swing", type=_swing, default=(5, 5), help="swing LEFT,RIGHT (default 5,5)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from processors.csvio import read_bars
    from processors.indicators import IndicatorParams, compute_indicators

    try:
        params = IndicatorParams(args.atr, args.donchian, args.fractal, args.swing[0], args.swing[1])
    except ValueError as exc:
        print(f"tradestream indicators: {exc}", file=sys.stderr)
        return 2
    with csv_rows(args.bars) as (header, reader):
        rows = list(reader)
        bars = read_bars(rows, header)
    frame = pd.DataFrame({"symbol": [b.symbol for b in bars], "start": [b.start for b in bars],
                          "high": [float(b.high) for b in bars], "low": [float(b.low) for b in bars],
                          "close": [float(b.close) for b in bars]})
    if "session" in header:
        frame["session"] = [r["session"] or "regular" for r in rows]
    # Daily or unsessioned input: previous-session pivots need intraday bars, so they are not reported.
    result = compute_indicators(frame, params, session_pivots_enabled=False)
    columns = ["symbol", "start", "open", "high", "low", "close", "volume"]
    with open(args.out, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns + list(OUTPUT_VALUES))
        order = sorted(range(len(rows)), key=lambda i: (rows[i]["symbol"], bars[i].start))
        for i in order:
            values = result.loc[i, list(OUTPUT_VALUES)]
            writer.writerow([rows[i][c] for c in columns]
                            + ["" if math.isnan(v) else repr(float(v)) for v in values])
    return 0

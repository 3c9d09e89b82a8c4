"""`tradestream verify bars --from DATE --to DATE [--timeframes 5m,15m,30m,60m]`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from tradestream.commands import date_argument



def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verify", help="compare streamed data with a recomputation from stored ticks")
    parser.add_argument("what", choices=("bars",))
    parser.add_argument("--from", dest="start", type=date_argument, required=True)
    parser.add_argument("--to", dest="end", type=date_argument, required=True, help="inclusive")
    parser.add_argument("--timeframes", default="5m,15m,30m,60m")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradestream.config import Settings
    from tradestream.verify import verify_bars

    start = dt.datetime.combine(args.start, dt.time(0), dt.timezone.utc)
    end = dt.datetime.combine(args.end + dt.timedelta(days=1), dt.time(0), dt.timezone.utc)
    frames = [t.strip() for t in args.timeframes.split(",") if t.strip()]
    compared, differences = verify_bars(Settings.from_env(), start, end, frames)
    for d in differences:
        print(f"{d.symbol} {d.timeframe} {d.start.isoformat()} {d.field}: streamed={d.streamed} "
              f"recomputed={d.recomputed}")
    print(f"compared {compared} bars: {len(differences)} difference(s)", file=sys.stderr)
    return 1 if differences else 0

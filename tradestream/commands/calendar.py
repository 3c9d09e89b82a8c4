"""`tradestream calendar --from DATE --to DATE [--out FILE]`: NYSE sessions as CSV (times UTC)."""

from __future__ import annotations

import argparse
import csv
import sys

from tradestream.commands import date_argument

FIELDS = ("date", "pre_open", "open", "close", "post_close", "early_close")



def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calendar", help="NYSE trading days and session times")
    parser.add_argument("--from", dest="start", type=date_argument, required=True)
    parser.add_argument("--to", dest="end", type=date_argument, required=True)
    parser.add_argument("--out", help="output CSV (default stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from processors.calendar import build_nyse_calendar, calendar_rows

    if args.end < args.start:
        print("tradestream calendar: --to is before --from", file=sys.stderr)
        return 2
    rows = calendar_rows(build_nyse_calendar(args.start, args.end))
    handle = open(args.out, "w", newline="") if args.out else sys.stdout
    try:
        writer = csv.DictWriter(handle, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    finally:
        if args.out:
            handle.close()
    return 0

"""`tradestream verify bars --from DATE --to DATE [--timeframes 5m,15m,30m,60m] [--strict]`: a progress
bar per (timeframe, day) compared when standard error is a terminal. Each difference and each bar still
open (tradestream.verify says when a bar is) is a line on standard output; bars still open do not
count as differences unless --strict.

`tradestream verify aggregates --from DATE --to DATE [--timeframes ...]`: the streamed 5/15/30/60-minute bars
of every session against the database's own aggregates of the streamed 1-minute bars (sql/013,
tradestream.verify_aggregates); the same lines, exit status 1 on any difference."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import TYPE_CHECKING

from tradestream.commands import date_argument

if TYPE_CHECKING:
    from tradestream.config import Settings


def intraday_timeframes(text: str) -> list[str]:
    """argparse type: a comma-separated list of intraday timeframes (Nm or Nh)."""
    from processors.bars import Timeframe

    frames = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            timeframe = Timeframe.parse(part)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if timeframe.length_ns is None:
            raise argparse.ArgumentTypeError(f"{part!r}: verify compares intraday timeframes (Nm or Nh)")
        frames.append(part)
    if not frames:
        raise argparse.ArgumentTypeError("name at least one timeframe, such as 5m,15m")
    return frames


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("verify", help="compare streamed data with a recomputation from stored ticks")
    parser.add_argument("what", choices=("bars", "aggregates"),
                        help="bars: recomputed from the stored ticks; aggregates: the database's aggregates of the "
                             "1-minute bars (needs 1m in BAR_TIMEFRAMES)")
    parser.add_argument("--from", dest="start", type=date_argument, required=True)
    parser.add_argument("--to", dest="end", type=date_argument, required=True, help="inclusive")
    parser.add_argument("--timeframes", type=intraday_timeframes, default="5m,15m,30m,60m",
                        help="comma-separated (default 5m,15m,30m,60m)")
    parser.add_argument("--strict", action="store_true",
                        help="report bars the stream has not closed yet as missing (differences), not as open")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (one is drawn only when standard error is a terminal)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradestream.commands.progress import progress_bar
    from tradestream.config import Settings
    from tradestream.verify import EPOCH, verify_bars

    if args.end < args.start:
        print("tradestream verify: --to is before --from", file=sys.stderr)
        return 2
    start = dt.datetime.combine(args.start, dt.time(0), dt.timezone.utc)
    end = dt.datetime.combine(args.end + dt.timedelta(days=1), dt.time(0), dt.timezone.utc)
    settings = Settings.from_env()
    if args.what == "aggregates":
        return run_aggregates(args, settings, start, end)
    days = (args.end - args.start).days + 1
    with progress_bar("verify bars", days * len(args.timeframes), quiet=args.quiet) as progress:
        found = verify_bars(settings, start, end, args.timeframes, strict=args.strict,
                            on_step=lambda done, total: progress.update(done, f"{done}/{total} timeframe-days"))
    for d in found.differences:
        print(f"{d.symbol} {d.timeframe} {d.start.isoformat()} {d.field}: streamed={d.streamed} "
              f"recomputed={d.recomputed}")
    for b in found.open_bars:
        newest = EPOCH + dt.timedelta(microseconds=b.newest_tick_ns // 1000)
        print(f"{b.symbol} {b.timeframe} {b.start.isoformat()} open: not closed by the stream yet "
              f"(ends {b.end.isoformat()}; newest tick {newest.isoformat()})")
    still_open = f", {len(found.open_bars)} still open (not differences)" if found.open_bars else ""
    print(f"compared {found.compared} bars: {len(found.differences)} difference(s){still_open}", file=sys.stderr)
    return 1 if found.differences else 0


def run_aggregates(args: argparse.Namespace, settings: Settings, start: dt.datetime, end: dt.datetime) -> int:
    from tradestream.commands.progress import progress_bar
    from tradestream.verify_aggregates import check_timeframes, verify_aggregates

    try:
        check_timeframes(args.timeframes)
    except ValueError as exc:
        print(f"tradestream verify: --timeframes: {exc}", file=sys.stderr)
        return 2
    days = (args.end - args.start).days + 1
    with progress_bar("verify aggregates", days, quiet=args.quiet) as progress:
        found = verify_aggregates(settings, start, end, args.timeframes,
                                  on_step=lambda done, total: progress.update(done, f"{done}/{total} days"))
    for d in found.differences:
        print(f"{d.symbol} {d.timeframe} {d.start.isoformat()} {d.field}: streamed={d.streamed} "
              f"aggregated={d.recomputed}")
    for b in found.open_bars:
        print(f"{b.symbol} {b.timeframe} {b.start.isoformat()} open: not closed by the stream yet "
              f"({b.minutes} one-minute bars so far)")
    if not found.minute_bars:
        print("no 1-minute bars in the range: the aggregates have nothing to check against (add 1m to "
              "BAR_TIMEFRAMES)", file=sys.stderr)
    still_open = f", {len(found.open_bars)} still open (not differences)" if found.open_bars else ""
    print(f"compared {found.compared} bars with the aggregates of {found.minute_bars} one-minute bars: "
          f"{len(found.differences)} difference(s){still_open}", file=sys.stderr)
    return 1 if found.differences else 0

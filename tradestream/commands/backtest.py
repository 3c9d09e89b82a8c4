"""`tradestream backtest --config STRATEGY.yaml --bars IN.csv [--ticks IN.csv] [--account ACCOUNT.yaml] --out DIR`.

Runs the strategy's processors in-process over history, no Kafka needed, with the same
`StrategyPipeline` the live runner uses. With `--ticks`, bars and indicators are built from the
trades (exactly as live); the bars of `--bars` that end before the first trade warm the indicators
up. Without ticks, the bars drive everything and `price(SYM)` is the latest bar's close; that run
uses the pipeline's vectorised twin (`processors.strategies.vectorized`, tested identical).

A strategy with a `risk:` section is traded in the account of `--account` (required then): its decisions
go to the trading desk (risk decisions, orders, fills at the next print or the next bar's open, the trade
manager's stops and targets) through the `TradingSession` the live runner uses; with ticks, the warm-up bars
and then each trade step the session (`ts_init` = the event's time, so two runs write identical files); over
bars only, the desk takes the bars and the vectorised decisions merged in the pipeline's order
(tradestream.commands.backtest_trading). Without a `risk:` section `--account` is not read.

Writes DIR/signals.csv, DIR/suppressed.csv and DIR/intents.csv (the columns of
`tradestream.commands.decisions`, the same as `strategy replay`), with trade management also
DIR/decisions.csv, orders.csv, fills.csv, trades.csv and deals.csv (backtest_trading), and
DIR/summary.json; a progress bar on standard error when it is a terminal.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tradestream.commands.inputs import csv_rows, load_strategy, readable_file, timeframe

if TYPE_CHECKING:  # for annotations; the functions import these where they use them
    from processors.calendar import MarketCalendar
    from processors.csvio import BarColumns
    from processors.model import Bar, TradeTick
    from processors.scanner import ScannerConfig
    from processors.risk import Account
    from processors.strategies.pipeline import Decisions, StrategyPipeline
    from processors.trading.desk import TradingDesk
    from processors.trading.session import TradingEvent, TradingSession

PROGRESS_EVERY = 10_000  # events between two updates of the progress bar
# Bars at least this far apart (minutes) are daily bars: a trading day's regular session is 6.5 hours,
# the gap from one session's start to the next's is a day or more, less an hour at most across DST.
DAILY_GAP_MINUTES = 23 * 60


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("backtest", help="run a strategy over historical bars/ticks, no Kafka needed")
    parser.add_argument("--config", required=True, type=readable_file,
                        help="strategy (scanner) configuration, YAML or JSON")
    parser.add_argument("--bars", required=True, type=readable_file,
                        help="bars CSV: symbol,start,open,high,low,close,volume[,end,...]")
    parser.add_argument("--bars-timeframe", type=timeframe,
                        help="timeframe of the bars file when it has no timeframe column (e.g. 1m; default: "
                             "inferred from the spacing of the first symbol's bars)")
    parser.add_argument("--ticks", type=readable_file, help="ticks CSV: ts,symbol,price,size[,trade_id,conditions]")
    parser.add_argument("--lateness-ms", type=int, default=0, help="allowed lateness of ticks (default 0)")
    parser.add_argument("--account", type=readable_file,
                        help="account file, YAML or JSON (required when the strategy has a risk: section)")
    parser.add_argument("--settings", type=readable_file,
                        help="universal settings file (YAML or JSON) in force over the whole run: its session hours, "
                             "extra closed dates and half-days adjust the exchange's calendar")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bar (one is drawn only when standard error is a terminal)")
    parser.set_defaults(func=run)


def _infer_timeframe(bars: BarColumns) -> str:
    import numpy as np

    from processors.csvio import CsvFormatError

    gaps = np.diff(np.unique(bars.start[bars.symbol == bars.symbol[0]]))
    if not len(gaps):
        raise CsvFormatError("cannot infer the bars' timeframe from one bar; pass --bars-timeframe")
    minutes = int(gaps.min()) // 60_000_000_000
    return "1d" if minutes >= DAILY_GAP_MINUTES else f"{minutes}m"


@dataclass
class _Inputs:
    """What a backtest reads: the strategy, bars in their sessions, trades, and the calendar around them."""

    config: ScannerConfig
    account: Account | None
    bars: BarColumns
    ticks: list[TradeTick]
    calendar: MarketCalendar
    first_ns: int
    last_ns: int


@dataclass
class _Outcome:
    """What a backtest produced, and how long the processing took."""

    decisions: Decisions
    trading: list[TradingEvent]
    desk: TradingDesk | None
    events: int
    rejected_ticks: int
    elapsed_s: float


def run(args: argparse.Namespace) -> int:
    inputs = _load_inputs(args)
    if inputs is None:
        print("tradestream backtest: no bars or ticks in the input", file=sys.stderr)
        return 2
    from processors.charges.errors import FeeScheduleError

    try:
        outcome = _backtest(inputs, args.lateness_ms, quiet=args.quiet)
    except FeeScheduleError as exc:
        exc.add_note("the packaged regulatory fee schedule starts in 2025: to backtest earlier dates, set "
                     "charges: {regulatory_fees: false} in the strategy")
        raise
    summary = _summary(inputs, outcome)
    _write_outputs(Path(args.out), outcome, summary)
    print(json.dumps(summary))
    return 0


def _load_inputs(args: argparse.Namespace) -> _Inputs | None:
    """The strategy, bars and ticks of the command line; None when there are neither bars nor ticks."""
    from processors.csvio import read_ticks

    from tradestream.commands.backtest_trading import account_for

    config = load_strategy(args.config)
    account = account_for(config, args.account)
    bars = _read_bars(args.bars)
    bars_timeframe = (args.bars_timeframe or _infer_timeframe(bars)) if len(bars) else ""
    ticks = []
    if args.ticks:
        with csv_rows(args.ticks) as (header, rows):
            ticks = read_ticks(rows, header)
    times = [int(bars.start.min()), int(bars.start.max())] if len(bars) else []
    times += [t.ts_event for t in ticks]
    if not times:
        return None
    calendar = _calendar_around(min(times), max(times))
    if getattr(args, "settings", None):   # programmatic callers may build the namespace without it
        bars, ticks, calendar = _under_settings(args.settings, bars, ticks, calendar)
    return _Inputs(config, account, _in_sessions(bars, bars_timeframe, calendar), ticks, calendar, min(times), max(times))


def _under_settings(path: str, bars: BarColumns, ticks: list, calendar: MarketCalendar):  # noqa: ANN202
    """The calendar adjusted by a universal settings file, and the bars and prints without those of the dates it
    closes (the exchange traded them; the platform does not)."""
    import numpy as np
    import pandas as pd

    from processors.risk.account import et_date
    from processors.settings import adjusted_calendar

    from tradestream.commands.settings import load_settings

    settings = load_settings(path)
    closed = set(settings.extra_closed_dates)
    if closed and len(bars):
        dates = pd.to_datetime(bars.start, utc=True).tz_convert("America/New_York").date
        bars = bars.rows(np.flatnonzero([date not in closed for date in dates]))
    ticks = [t for t in ticks if et_date(t.ts_event) not in closed]
    return bars, ticks, adjusted_calendar(calendar, settings)


def _read_bars(path: str) -> BarColumns:
    """The bars file, parsed vectorised when it has the common form, else row by row (`read_bars`, which names
    the line and column of a bad value); the same bars either way."""
    from processors.csvio import BarColumns, read_bar_columns, read_bars

    with open(path, newline="") as handle:
        bars = read_bar_columns(handle)
    if bars is None:
        with csv_rows(path) as (header, rows):
            bars = BarColumns.of_bars(read_bars(rows, header))
    return bars


def _calendar_around(first_ns: int, last_ns: int) -> MarketCalendar:
    """The NYSE calendar from a week before the first event to a week after the last."""
    from processors.calendar import build_nyse_calendar

    first = dt.datetime.fromtimestamp(first_ns / 1e9, dt.timezone.utc).date() - dt.timedelta(days=7)
    last = dt.datetime.fromtimestamp(last_ns / 1e9, dt.timezone.utc).date() + dt.timedelta(days=7)
    return build_nyse_calendar(first, last)


def _in_sessions(bars: BarColumns, bars_timeframe: str, calendar: MarketCalendar) -> BarColumns:
    """The bars with their timeframe and session set, and an end (start + timeframe) where the file had none.
    A daily (1d) bar is placed on the regular session of its start's ET date, [open, close), whatever
    times the file gave it; a date that is not a trading day raises CsvFormatError."""
    from dataclasses import replace

    import numpy as np
    import pandas as pd

    from processors.bars import Timeframe
    from processors.calendar import Session
    from processors.csvio import BarColumns

    if not len(bars):
        return bars
    timeframe = Timeframe.parse(bars_timeframe)
    if timeframe.length_ns is None:
        return BarColumns.of_bars([_on_session(b, calendar) for b in bars])
    sessions = pd.Series(calendar.sessions_at(bars.start)).map({session: session.value for session in Session})
    return replace(bars, timeframe=np.full(len(bars), timeframe.text, dtype=object),
                   session=sessions.to_numpy(dtype=object),
                   end=np.where(bars.end > bars.start, bars.end, bars.start + timeframe.length_ns))


def _on_session(bar: Bar, calendar: MarketCalendar) -> Bar:
    """A daily bar on the regular session of its start's ET date."""
    from processors.csvio import CsvFormatError, format_time
    from processors.model import Bar
    from processors.strategies.market import et_date

    day = calendar.day(et_date(bar.start))
    if day is None:
        raise CsvFormatError(f"the 1d bar of {bar.symbol} starting {format_time(bar.start)} is on "
                             f"{et_date(bar.start)}, not an NYSE trading day")
    return Bar(bar.symbol, "1d", "regular", day.open, day.close, bar.open, bar.high, bar.low, bar.close, bar.volume,
               bar.vwap, bar.trades, bar.ts_init)


def _backtest(inputs: _Inputs, lateness_ms: int, *, quiet: bool) -> _Outcome:
    """Trades (after the bars that end before the first, as warm-up) through the strategy's session, or,
    without trades, the bars through the pipeline's vectorised twin and then (with an account) the desk."""
    from processors.scanner import SignalLimiter, in_schedule
    from processors.strategies.pipeline import StrategyPipeline
    from processors.strategies.vectorized import backtest_bars
    from tradestream.commands.backtest_trading import trade_over_bars, trading_session
    from tradestream.commands.progress import progress_bar

    config = inputs.config
    pipeline = StrategyPipeline(config, inputs.calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts), lateness_ns=lateness_ms * 1_000_000)
    session = trading_session(config, pipeline, inputs.account, inputs.calendar)
    started = time.perf_counter()
    if inputs.ticks:
        events, decisions, trading = _replay(session, inputs.bars, inputs.ticks, quiet=quiet)
    else:
        # Over bars only, the vectorised twin (tests prove it takes the pipeline's decisions exactly);
        # one call, so the bar only pulses. The desk then takes the bars and those decisions in the
        # pipeline's order (tests prove it makes the events of stepping the session bar by bar).
        events, trading = len(inputs.bars), []
        with progress_bar(f"backtest over {len(inputs.bars):,} bars", None, quiet=quiet):
            decisions = backtest_bars(config, inputs.bars, inputs.calendar)
        if session.desk is not None:
            with progress_bar("trade management", len(inputs.bars), quiet=quiet) as progress:
                trading = trade_over_bars(session, inputs.bars, decisions, daily=pipeline.daily,
                                          progress=progress)
                progress.update(len(inputs.bars), f"{len(inputs.bars):,} bars")
    return _Outcome(decisions, trading, session.desk, events, pipeline.rejected, time.perf_counter() - started)


def _replay(session: TradingSession, bars: BarColumns, ticks: list[TradeTick], *,
            quiet: bool) -> tuple[int, Decisions, list[TradingEvent]]:
    """Warm-up bars, then the trades in time order, one event at a time, each stamped with its event time
    as ts_init; returns the events, the decisions and the desk's events."""
    import numpy as np

    from processors.strategies.engine import event_order_key
    from processors.trading.session import Step
    from tradestream.commands.progress import progress_bar

    ticks.sort(key=lambda t: t.ts_event)
    warmup = sorted(bars.rows(np.flatnonzero(bars.end <= ticks[0].ts_event)), key=event_order_key)
    total = len(warmup) + len(ticks)
    run = Step()
    with progress_bar("backtest", total, quiet=quiet) as progress:
        for i, bar in enumerate(warmup, 1):
            run.extend(session.on_bar(bar, bar.end))
            if i % PROGRESS_EVERY == 0:
                progress.update(i, f"{i:,}/{total:,} events")
        for i, tick in enumerate(ticks, len(warmup) + 1):
            run.extend(session.on_trade(tick, tick.ts_event))
            if i % PROGRESS_EVERY == 0:
                progress.update(i, f"{i:,}/{total:,} events")
        run.extend(session.finish())
        progress.update(total, f"{total:,} events")
    return total, run.decisions, run.trading


def _summary(inputs: _Inputs, outcome: _Outcome) -> dict[str, object]:
    """The counts, the processing rate and the time span of the run, and with trade management the trades'
    figures (backtest_trading.trading_summary), as summary.json and standard output give them."""
    from processors.csvio import format_time
    from tradestream.commands.backtest_trading import trading_summary

    signals, elapsed = outcome.decisions.signals, outcome.elapsed_s
    summary: dict[str, object] = {
        "strategy": inputs.config.name, "bars": len(inputs.bars), "ticks": len(inputs.ticks),
        "events": outcome.events, "signals": len(signals), "entries": sum(s.action == "ENTRY" for s in signals),
        "exits": sum(s.action == "EXIT" for s in signals), "suppressed": len(outcome.decisions.suppressed),
        "intents": len(outcome.decisions.intents), "rejected_ticks": outcome.rejected_ticks,
        "seconds": round(elapsed, 3), "events_per_second": round(outcome.events / elapsed) if elapsed else None,
        "first": format_time(inputs.first_ns), "last": format_time(inputs.last_ns),
    }
    if outcome.desk is not None and inputs.account is not None:
        summary["account"] = inputs.account.account_id
        summary |= trading_summary(outcome.trading, outcome.desk, inputs.account)
    return summary


def _write_outputs(out: Path, outcome: _Outcome, summary: dict[str, object]) -> None:
    """DIR/signals.csv, suppressed.csv and intents.csv (as `strategy replay` writes them), the trading files
    with trade management, and summary.json."""
    from tradestream.commands.backtest_trading import write_trading_files
    from tradestream.commands.decisions import write_decisions

    decisions = outcome.decisions
    write_decisions(out, decisions.signals, decisions.suppressed, decisions.intents)
    if outcome.desk is not None:
        write_trading_files(out, outcome.trading, outcome.desk)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")

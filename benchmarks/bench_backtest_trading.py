"""Backtest with trade management against backtrader: the same Donchian breakout with a stop and a target,
on the real one-minute bars, in one run.

Run: .venv/bin/python benchmarks/bench_backtest_trading.py [--data FILE] [--copies 33] [--period 10]
Targets (the trade-management issue): >= 20x backtrader's bars/s in computation with trade management on an
active rule (hundreds of trades), and >= 10x for the whole command on >= 1,000,000 bars.

The rule (bench_backtest.py's, with trade management): evaluated every minute of the regular session on
5-minute bars, long when the price crosses above the Donchian upper band of the last `period` 5-minute bars,
out (exit rule) below their lower band; each entry is a market order for 5 shares with a stop 0.2 % under the
signal price and a target 0.3 % above the entry, and trades still open are closed 5 minutes before the close.

    ours        risk: {stop_pct: 0.2, size_from_risk: false}, trade: {target_pct: 0.3, monitor_interval_s: 60,
                close_before_close_minutes: 5}, order.quantity 5, IBKR fixed commission, no regulatory fees (the
                packaged schedule starts in 2025); an account whose limits do not bind. The entry fills at the next
                bar's open; the trade manager checks each minute's range against the stop and target and sells at
                the next bar's open.
    backtrader  the decisions of bench_backtest.DonchianBreakout; each entry a `buy_bracket` (market entry, stop
                and limit children at the same prices), the exit rule and the 15:55 close `close()` the position
                and cancel the children; the same commission (per share $0.005, minimum $1, at most 1 %).
Backtrader's bracket fills its stop and target inside the bar that reaches them, ours at the next bar's open
after the minute's sweep, so the trades are the same in number within a few but not in price.

Two measures:
- computation: our processing (the vectorised decisions, then the desk over the bars) against
  `cerebro.run()`, on bars already in memory (bars/s, wall and CPU time), on the real file and on the
  large input;
- whole command: `tradestream backtest ...` against a backtrader script (read the same CSV with pandas, run,
  write the trades) as processes, wall time, on the large input: the real file repeated `copies` times, each
  copy 63 days (9 weeks, so the same weekdays) after the one before, written to a temporary directory.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_backtest import DATA, NS, SYMBOL, DonchianBreakout, read_minutes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
QUANTITY = 5
STOP_PCT = 0.2
TARGET_PCT = 0.3
SHIFT_DAYS = 63
MINUTE_NS = 60 * NS


def strategy(period: int) -> dict:
    return {
        "name": "idx-breakout-bracket", "type": "intraday", "instrument": "equity", "symbols": [SYMBOL],
        "timeframe": "5m", "interval": "1m", "days": "all", "start_time": "09:30", "end_time": "16:00",
        "direction": "long", "mode": "virtual", "max_signals_per_day": 10_000, "max_signals_per_symbol": 10_000,
        "entry_rules": [f"crosses_above(price({SYMBOL}), donchian_upper({SYMBOL}, 5m, {period}))"],
        "exit_rules": [f"price({SYMBOL}) < donchian_lower({SYMBOL}, 5m, {period})"],
        "sanity": {"max_deviation_pct": 1000, "max_staleness_seconds": 7 * 86400},
        "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": QUANTITY},
        "risk": {"account": "bench", "stop_pct": str(STOP_PCT), "size_from_risk": False},
        "trade": {"target_pct": str(TARGET_PCT), "monitor_interval_s": 60, "close_before_close_minutes": 5},
        "charges": {"commission": "ibkr_fixed", "regulatory_fees": False}}


ACCOUNT = {"account_id": "bench", "broker": "paper", "currency": "USD", "starting_capital": "1000000",
           "regimes": [{"from": "2000-01-03", "regime": "legacy_pdt"}],
           "limits": {"max_loss_per_trade": "5000", "max_loss_per_trade_pct": "1", "max_open_risk": "20000",
                      "max_drawdown_pct": "50", "max_active_trades": 10, "max_trades_per_day": 1000,
                      "max_position_pct": "100", "max_capital_utilized_pct": "100"}}


# -- inputs ----------------------------------------------------------------------------------------

def repeated(minutes: pd.DataFrame, copies: int) -> pd.DataFrame:
    """`copies` copies of the minutes, each SHIFT_DAYS after the one before (New York wall times kept)."""
    local = pd.to_datetime(minutes["end"].to_numpy(), utc=True).tz_convert("America/New_York").tz_localize(None)
    frames = []
    for copy in range(copies):
        shifted = (local + pd.Timedelta(days=SHIFT_DAYS * copy)).tz_localize("America/New_York",
                                                                              ambiguous="NaT", nonexistent="NaT")
        frame = minutes.assign(end=shifted.as_unit("ns").asi8)[~shifted.isna()]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_bars_csv(minutes: pd.DataFrame, path: Path) -> None:
    ends = pd.to_datetime(minutes["end"].to_numpy(), utc=True)
    pd.DataFrame({"symbol": SYMBOL, "start": (ends - pd.Timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                  "end": ends.strftime("%Y-%m-%dT%H:%M:%SZ"), "open": minutes["open"].map("{:.2f}".format),
                  "high": minutes["high"].map("{:.2f}".format), "low": minutes["low"].map("{:.2f}".format),
                  "close": minutes["close"].map("{:.2f}".format), "volume": minutes["volume"]}).to_csv(path, index=False)


def read_bars_csv(path: Path) -> pd.DataFrame:
    """The bars CSV back as end (int ns) and floats, as the backtrader script reads it."""
    frame = pd.read_csv(path)
    end = pd.to_datetime(frame["end"], utc=True).dt.as_unit("ns").astype("int64").to_numpy()
    return pd.DataFrame({"end": end, "open": frame["open"].to_numpy(float), "high": frame["high"].to_numpy(float),
                         "low": frame["low"].to_numpy(float), "close": frame["close"].to_numpy(float),
                         "volume": frame["volume"].to_numpy(np.int64)})


# -- ours ------------------------------------------------------------------------------------------

def our_inputs(workdir: Path, bars_csv: Path, period: int):  # noqa: ANN201 - the command's _Inputs
    from tradestream.commands.backtest import _load_inputs

    config, account = workdir / "strategy.yaml", workdir / "account.yaml"
    config.write_text(yaml.safe_dump(strategy(period)))
    account.write_text(yaml.safe_dump(ACCOUNT))
    return _load_inputs(argparse.Namespace(config=str(config), bars=str(bars_csv), bars_timeframe=None, ticks=None,
                                           account=str(account)))


def run_ours(inputs) -> tuple[int, object]:  # noqa: ANN001
    """The command's processing over bars: the vectorised decisions, then the desk (trade_over_bars)."""
    from processors.scanner import SignalLimiter, in_schedule
    from processors.strategies.pipeline import StrategyPipeline
    from processors.strategies.vectorized import backtest_bars
    from tradestream.commands.backtest_trading import trade_over_bars, trading_session

    config = inputs.config
    pipeline = StrategyPipeline(config, inputs.calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    session = trading_session(config, pipeline, inputs.account, inputs.calendar)
    decisions = backtest_bars(config, inputs.bars, inputs.calendar)
    trade_over_bars(session, inputs.bars, decisions, daily=False)
    rows = session.desk.deal_rows()
    return len(rows), rows


# -- backtrader ------------------------------------------------------------------------------------

class IbkrFixed(bt.CommInfoBase):
    params = (("stocklike", True), ("commtype", bt.CommInfoBase.COMM_FIXED))

    def _getcommission(self, size: float, price: float, pseudoexec: bool) -> float:
        shares = abs(size)
        return min(max(1.0, 0.005 * shares), 0.01 * shares * price)


class DonchianBracket(DonchianBreakout):
    """bench_backtest's decisions; an entry is a bracket, the exit rule and the time close close the position."""

    params = (("close_at", dt.time(15, 55)),)

    def __init__(self) -> None:
        super().__init__()
        self.bracket: list = []
        self.trades = 0
        self.net = 0.0

    def notify_trade(self, trade: bt.Trade) -> None:
        if trade.isclosed:
            self.trades += 1
            self.net += trade.pnlcomm

    def next(self) -> None:
        super().next()
        if self.position and self.data0.datetime.time(0) >= self.p.close_at:
            self._flatten()

    def evaluate(self) -> None:
        price, upper, lower = self.price, self.upper_band, self.lower_band
        previous, self.previous = self.previous, (price, upper)
        crossed = (previous is not None and not any(math.isnan(x) for x in (*previous, price, upper))
                   and previous[0] <= previous[1] and price > upper)
        if not self.long:
            if crossed:
                self.long = True
                self.entries += 1
                self.bracket = self.buy_bracket(data=self.data0, size=QUANTITY, exectype=bt.Order.Market,
                                                stopprice=price * (1 - STOP_PCT / 100),
                                                limitprice=price * (1 + TARGET_PCT / 100))
        elif not math.isnan(lower) and price < lower:
            self.long = False
            self._flatten()

    def _flatten(self) -> None:
        for order in self.bracket[1:]:
            if order.alive():
                self.cancel(order)
        if self.position:
            self.close(data=self.data0)


def backtrader_cerebro(minutes: pd.DataFrame, period: int) -> bt.Cerebro:
    index = pd.DatetimeIndex(minutes["end"].to_numpy().astype("datetime64[ns]")).tz_localize("UTC") \
        .tz_convert("America/New_York").tz_localize(None)
    frame = pd.DataFrame({"open": minutes["open"].to_numpy(), "high": minutes["high"].to_numpy(),
                          "low": minutes["low"].to_numpy(), "close": minutes["close"].to_numpy(),
                          "volume": minutes["volume"].to_numpy(float)}, index=index)
    cerebro = bt.Cerebro(stdstats=False)
    cerebro.broker.setcash(1_000_000.0)
    cerebro.broker.addcommissioninfo(IbkrFixed())
    feed = bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes, compression=1, openinterest=None)
    cerebro.adddata(feed)
    cerebro.resampledata(feed, timeframe=bt.TimeFrame.Minutes, compression=5)
    cerebro.addstrategy(DonchianBracket, period=period)
    return cerebro


def backtrader_script(bars_csv: Path, out: Path, period: int) -> None:
    """The whole backtrader run as a process does it: read the CSV, run, write the figures."""
    cerebro = backtrader_cerebro(read_bars_csv(bars_csv), period)
    (result,) = cerebro.run()
    out.write_text(json.dumps({"trades": result.trades, "entries": result.entries, "net": round(result.net, 2)}))


# -- measuring -------------------------------------------------------------------------------------

def timed(function):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def computation(title: str, workdir: Path, minutes: pd.DataFrame, period: int) -> float:
    bars_csv = workdir / f"{title}.csv"
    write_bars_csv(minutes, bars_csv)
    inputs = our_inputs(workdir, bars_csv, period)
    count = len(inputs.bars)
    (trades, rows), ours_s, ours_cpu = timed(lambda: run_ours(inputs))
    cerebro = backtrader_cerebro(read_bars_csv(bars_csv), period)
    (result,), bt_s, bt_cpu = timed(cerebro.run)
    completed = [r for r in rows if r.status == "Completed"]
    comments: dict[str, int] = {}
    for row in completed:
        comments[row.comment] = comments.get(row.comment, 0) + 1
    print(f"computation, {title}: {count:,} one-minute bars, Donchian({period}) breakout with a "
          f"{STOP_PCT} % stop and a {TARGET_PCT} % target, {QUANTITY} shares")
    print(f"  ours (vectorised + desk): {count / ours_s:12,.0f} bars/s  wall {ours_s:8.3f} s  CPU {ours_cpu:8.3f} s  "
          f"trades {trades} ({', '.join(f'{k} {v}' for k, v in sorted(comments.items()))})")
    print(f"  backtrader {bt.__version__}:    {count / bt_s:12,.0f} bars/s  wall {bt_s:8.3f} s  CPU {bt_cpu:8.3f} s  "
          f"trades {result.trades} (entries {result.entries})")
    speedup = bt_s / ours_s
    print(f"  speed-up {speedup:.1f}x (CPU {bt_cpu / ours_cpu:.1f}x); target >= 20x: "
          f"{'met' if speedup >= 20 else 'NOT met'}")
    return speedup


def whole_command(workdir: Path, minutes: pd.DataFrame, period: int) -> float:
    bars_csv = workdir / "large.csv"
    write_bars_csv(minutes, bars_csv)
    config, account = workdir / "strategy.yaml", workdir / "account.yaml"
    config.write_text(yaml.safe_dump(strategy(period)))
    account.write_text(yaml.safe_dump(ACCOUNT))
    ours = [str(ROOT / ".venv/bin/tradestream"), "backtest", "--config", str(config), "--bars", str(bars_csv),
            "--account", str(account), "--out", str(workdir / "ours"), "--quiet"]
    theirs = [sys.executable, __file__, "--backtrader-script", str(bars_csv), str(workdir / "backtrader.json"),
              str(period)]
    _, ours_s, _ = timed(lambda: subprocess.run(ours, check=True, capture_output=True))
    _, bt_s, _ = timed(lambda: subprocess.run(theirs, check=True, capture_output=True))
    summary = json.loads((workdir / "ours" / "summary.json").read_text())
    theirs_result = json.loads((workdir / "backtrader.json").read_text())
    print(f"whole command on {len(minutes):,} bars ({bars_csv.stat().st_size / 1e6:.0f} MB CSV):")
    print(f"  tradestream backtest: wall {ours_s:8.2f} s (processing {summary['seconds']:.2f} s)  "
          f"trades {summary['trades']}, net P&L {summary['net_pnl']}")
    print(f"  backtrader script:    wall {bt_s:8.2f} s  trades {theirs_result['trades']}, net P&L {theirs_result['net']}")
    speedup = bt_s / ours_s
    print(f"  speed-up {speedup:.1f}x; target >= 10x on >= 1M bars: "
          f"{'met' if speedup >= 10 and len(minutes) >= 1_000_000 else 'NOT met'}")
    return speedup


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA, help="one-minute bars: Date,Time,Open,High,Low,Close,...")
    parser.add_argument("--copies", type=int, default=33, help="copies of the file in the large input")
    parser.add_argument("--period", type=int, default=10, help="the Donchian period, in 5-minute bars")
    parser.add_argument("--skip-large-computation", action="store_true",
                        help="measure the computation on the real file only (the whole command still runs large)")
    parser.add_argument("--backtrader-script", nargs=3, metavar=("BARS_CSV", "OUT_JSON", "PERIOD"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.backtrader_script:
        bars_csv, out, period = args.backtrader_script
        backtrader_script(Path(bars_csv), Path(out), int(period))
        return
    minutes = read_minutes(args.data)
    large = repeated(minutes, args.copies)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        computation(f"real data {args.data.name}", workdir, minutes, args.period)
        if not args.skip_large_computation:
            computation(f"{args.copies} copies", workdir, large, args.period)
        whole_command(workdir, large, args.period)


if __name__ == "__main__":
    main()

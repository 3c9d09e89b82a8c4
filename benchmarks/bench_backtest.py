"""Backtest throughput over one-minute bars: the incremental pipeline, the vectorised backtest and
backtrader, running the same rule on the same bars in the same run.

Run: .venv/bin/python benchmarks/bench_backtest.py [--data FILE] [--synthetic-days 250] [--repeat 5]
Target: the vectorised backtest >= 20x backtrader's bars/s.

The rule, on one symbol: evaluated every minute of the regular session on 5-minute bars resampled
from the one-minute bars, enter long when the price (the latest bar's close) crosses above the
Donchian upper band of the last 20 completed 5-minute bars, exit when it is below their lower band:

    entry_rules: crosses_above(price(IDX), donchian_upper(IDX, 5m, 20))
    exit_rules:  price(IDX) < donchian_lower(IDX, 5m, 20)

The backtrader strategy takes its bands from `bt.indicators.Highest/Lowest` on a 5-minute
`resampledata` of the same `PandasData` feed (backtrader closes those bars exactly when our
resampler does, also when a minute is missing), and takes its decisions where our engine does: an
instant is evaluated when a bar comes in a later minute than everything before it, on what was
known before that bar, and only inside the schedule. Like the engine, it reads the price from the
latest bar event, which after a 5-minute bar closed late (its last minute missing) is that bar's
close. Staleness, deviation and signal limits are set so that they never bind. Both count entries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import time
from decimal import Decimal
from pathlib import Path

import backtrader as bt
import numpy as np
import pandas as pd

from processors.calendar import ET, MarketCalendar, Session, build_nyse_calendar
from processors.model import Bar
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.strategies.engine import event_order_key
from processors.strategies.pipeline import Decisions, StrategyPipeline
from processors.strategies.vectorized import backtest_bars

NS = 1_000_000_000
MINUTE_NS = 60 * NS
SYMBOL = "IDX"
PERIOD = 20
DATA = Path("/work/shared/data/market/2006-01-02-volume-min-001.txt")


def strategy_config() -> ScannerConfig:
    return ScannerConfig.from_mapping(dict(
        name="idx-donchian-breakout", type="intraday", instrument="equity", symbols=[SYMBOL], timeframe="5m",
        interval="1m", days="all", start_time="09:30", end_time="16:00", direction="long", mode="virtual",
        max_signals_per_day=10_000, max_signals_per_symbol=10_000,
        entry_rules=[f"crosses_above(price({SYMBOL}), donchian_upper({SYMBOL}, 5m, {PERIOD}))"],
        exit_rules=[f"price({SYMBOL}) < donchian_lower({SYMBOL}, 5m, {PERIOD})"],
        sanity=dict(max_deviation_pct=1000, max_staleness_seconds=7 * 86400),
        order=dict(exchange="SMART", order_type="market", product="margin", quantity=1)))


# -- the bars --------------------------------------------------------------------------------------

def read_minutes(path: Path) -> pd.DataFrame:
    """`Date,Time,Open,High,Low,Close,Volume,OpenInterest` rows; the time (ET) is the bar's end."""
    raw = pd.read_csv(path, header=None, skiprows=1,
                      names=["date", "time", "open", "high", "low", "close", "volume", "open_interest"])
    local = pd.to_datetime(raw["date"] + " " + raw["time"]).dt.tz_localize(ET)
    end = local.dt.as_unit("ns").astype("int64").to_numpy()
    return pd.DataFrame({"end": end, "open": raw["open"].to_numpy(float), "high": raw["high"].to_numpy(float),
                         "low": raw["low"].to_numpy(float), "close": raw["close"].to_numpy(float),
                         "volume": raw["volume"].to_numpy(np.int64)})


def synthetic_minutes(days: int, seed: int = 3) -> pd.DataFrame:
    """A random walk traded every minute of the regular sessions of `days` NYSE days from 2024."""
    calendar = build_nyse_calendar(dt.date(2024, 1, 1), dt.date(2024, 1, 1) + dt.timedelta(days=days * 7 // 5 + 14))
    windows = [w for w in calendar.windows([Session.REGULAR])][:days]
    end = np.concatenate([np.arange(w.start_ns + MINUTE_NS, w.end_ns + 1, MINUTE_NS) for w in windows])
    rng = np.random.default_rng(seed)
    close = np.round(4000 + np.cumsum(rng.normal(0, 1.2, len(end))) * 0.25, 2)
    open_ = np.r_[close[0], close[:-1]]
    high = np.round(np.maximum(open_, close) + rng.random(len(end)) * 0.75, 2)
    low = np.round(np.minimum(open_, close) - rng.random(len(end)) * 0.75, 2)
    return pd.DataFrame({"end": end, "open": open_, "high": high, "low": low, "close": close,
                         "volume": rng.integers(1, 500, len(end))})


def calendar_for(minutes: pd.DataFrame) -> MarketCalendar:
    first = dt.datetime.fromtimestamp(int(minutes["end"].iloc[0]) // NS, dt.timezone.utc).date()
    last = dt.datetime.fromtimestamp(int(minutes["end"].iloc[-1]) // NS, dt.timezone.utc).date()
    return build_nyse_calendar(first - dt.timedelta(days=7), last + dt.timedelta(days=7))


def our_frame(minutes: pd.DataFrame, calendar: MarketCalendar) -> pd.DataFrame:
    start = minutes["end"].to_numpy() - MINUTE_NS
    return pd.DataFrame({"symbol": SYMBOL, "timeframe": "1m",
                         "session": [s.value for s in calendar.sessions_at(start)], "start": start,
                         "end": minutes["end"].to_numpy(), "open": minutes["open"], "high": minutes["high"],
                         "low": minutes["low"], "close": minutes["close"], "volume": minutes["volume"],
                         "ts_init": minutes["end"].to_numpy()})


def our_bars(frame: pd.DataFrame) -> list[Bar]:
    """The same bars as `Bar`s: prices are the Decimals of the floats (`Decimal(repr(x))`)."""
    def decimals(name: str) -> list[Decimal]:
        return [Decimal(repr(x)) for x in frame[name].tolist()]

    return [Bar(SYMBOL, "1m", session, start, end, o, h, low, c, volume, c, 0, end)
            for session, start, end, o, h, low, c, volume in zip(
                frame["session"].tolist(), frame["start"].tolist(), frame["end"].tolist(), decimals("open"),
                decimals("high"), decimals("low"), decimals("close"), frame["volume"].tolist())]


# -- the three backtests ---------------------------------------------------------------------------

def run_incremental(config: ScannerConfig, bars: list[Bar], calendar: MarketCalendar) -> Decisions:
    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    decisions = Decisions()
    for bar in sorted(bars, key=event_order_key):
        decisions.extend(pipeline.on_bar(bar))
    decisions.extend(pipeline.finish())
    return decisions


class DonchianBreakout(bt.Strategy):
    """The rule above on backtrader's indicators, deciding at the instants our engine evaluates."""

    params = (("period", PERIOD), ("interval_ns", MINUTE_NS), ("start", dt.time(9, 30)), ("end", dt.time(16, 0)))

    def __init__(self) -> None:
        self.upper = bt.indicators.Highest(self.data1.high, period=self.p.period)
        self.lower = bt.indicators.Lowest(self.data1.low, period=self.p.period)
        self.minutes_seen = self.five_minutes_seen = 0
        self.latest_ns: int | None = None      # the latest event time so far
        self.price = self.upper_band = self.lower_band = math.nan  # what is known now
        self.previous: tuple[float, float] | None = None  # the crossing's operands at the last evaluation
        self.long = False
        self.entries = 0

    def prenext(self) -> None:
        self.next()

    def next(self) -> None:
        if len(self.data0) != self.minutes_seen:  # a one-minute bar: it sets the price
            self.minutes_seen = len(self.data0)
            self.event(self._end_ns(self.data0))
            self.price = self.data0.close[0]
        if len(self.data1) != self.five_minutes_seen:  # a five-minute bar closed: price and bands
            self.five_minutes_seen = len(self.data1)
            self.event(self._end_ns(self.data1))
            self.price = self.data1.close[0]
            known = len(self.data1) >= self.p.period
            self.upper_band = self.upper[0] if known else math.nan
            self.lower_band = self.lower[0] if known else math.nan

    @staticmethod
    def _end_ns(data: bt.feeds.PandasData) -> int:
        return int(data.datetime.datetime(0).replace(tzinfo=ET).timestamp()) * NS

    def _in_schedule(self, instant_ns: int) -> bool:
        local = dt.datetime.fromtimestamp(instant_ns // NS, ET)
        return local.weekday() < 5 and self.p.start <= local.time() < self.p.end

    def event(self, ts_ns: int) -> None:
        """Before an event in a later interval than all before it, evaluate the instant now due."""
        interval = self.p.interval_ns
        if self.latest_ns is not None and ts_ns // interval > self.latest_ns // interval:
            instant = (self.latest_ns // interval + 1) * interval
            if not self._in_schedule(instant):
                instant = ts_ns // interval * interval
            if self._in_schedule(instant):
                self.evaluate()
        self.latest_ns = ts_ns if self.latest_ns is None else max(self.latest_ns, ts_ns)

    def evaluate(self) -> None:
        price, upper, lower = self.price, self.upper_band, self.lower_band
        previous, self.previous = self.previous, (price, upper)
        crossed = (previous is not None and not any(math.isnan(x) for x in (*previous, price, upper))
                   and previous[0] <= previous[1] and price > upper)
        if not self.long:
            if crossed:
                self.long = True
                self.entries += 1
                self.buy(data=self.data0, size=1)
        elif not math.isnan(lower) and price < lower:
            self.long = False
            self.close(data=self.data0)


def run_backtrader(minutes: pd.DataFrame) -> int:
    index = pd.DatetimeIndex(minutes["end"].to_numpy().astype("datetime64[ns]")).tz_localize("UTC") \
        .tz_convert(ET).tz_localize(None)
    frame = pd.DataFrame({"open": minutes["open"].to_numpy(), "high": minutes["high"].to_numpy(),
                          "low": minutes["low"].to_numpy(), "close": minutes["close"].to_numpy(),
                          "volume": minutes["volume"].to_numpy(float)}, index=index)
    cerebro = bt.Cerebro(stdstats=False)
    feed = bt.feeds.PandasData(dataname=frame, timeframe=bt.TimeFrame.Minutes, compression=1, openinterest=None)
    cerebro.adddata(feed)
    cerebro.resampledata(feed, timeframe=bt.TimeFrame.Minutes, compression=5)
    cerebro.addstrategy(DonchianBreakout)
    (strategy,) = cerebro.run()
    return strategy.entries


def timed(function, repeat: int):  # noqa: ANN001, ANN201 - any callable, its result
    """The result and the best wall time of `repeat` runs."""
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return result, best


def bench(title: str, minutes: pd.DataFrame, repeat: int) -> None:
    config = strategy_config()
    calendar = calendar_for(minutes)
    frame = our_frame(minutes, calendar)
    bars = our_bars(frame)
    count = len(bars)
    incremental, incremental_s = timed(lambda: run_incremental(config, bars, calendar), 1)
    vectorised, vectorised_s = timed(lambda: backtest_bars(config, frame, calendar), repeat)
    from_bars, from_bars_s = timed(lambda: backtest_bars(config, bars, calendar), repeat)
    backtrader_entries, backtrader_s = timed(lambda: run_backtrader(minutes), 1)
    identical = all((d.signals, d.suppressed, d.intents) == (incremental.signals, incremental.suppressed,
                                                             incremental.intents) for d in (vectorised, from_bars))

    def entries(decisions: Decisions) -> int:
        return sum(s.action == "ENTRY" for s in decisions.signals)

    print(f"{title}: {count:,} one-minute bars of {SYMBOL}, 5-minute Donchian({PERIOD}) breakout evaluated every "
          f"minute 09:30-16:00 ET")
    print(f"incremental pipeline:         {count / incremental_s:12,.0f} bars/s  ({incremental_s:.3f} s)  "
          f"entries {entries(incremental)}")
    print(f"vectorised (DataFrame):       {count / vectorised_s:12,.0f} bars/s  ({vectorised_s:.3f} s)  "
          f"entries {entries(vectorised)}")
    print(f"vectorised (list of Bar):     {count / from_bars_s:12,.0f} bars/s  ({from_bars_s:.3f} s)  "
          f"entries {entries(from_bars)}")
    print(f"backtrader {bt.__version__}:        {count / backtrader_s:12,.0f} bars/s  ({backtrader_s:.3f} s)  "
          f"entries {backtrader_entries}")
    print(f"decisions identical to the incremental pipeline: {'yes' if identical else 'NO'}; "
          f"same entries as backtrader: {'yes' if backtrader_entries == entries(vectorised) else 'NO'}")
    print(f"speed-up over backtrader: vectorised {backtrader_s / vectorised_s:.1f}x (target >= 20x), "
          f"from Bars {backtrader_s / from_bars_s:.1f}x, incremental {backtrader_s / incremental_s:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA, help="one-minute bars: Date,Time,Open,High,Low,Close,...")
    parser.add_argument("--synthetic-days", type=int, default=0,
                        help="also run on this many regular sessions of simulated one-minute bars")
    parser.add_argument("--repeat", type=int, default=5, help="runs of the vectorised backtest (best is shown)")
    args = parser.parse_args()
    bench(f"real data {args.data.name}", read_minutes(args.data), args.repeat)
    if args.synthetic_days:
        print()
        bench(f"simulated, {args.synthetic_days} sessions", synthetic_minutes(args.synthetic_days), args.repeat)


if __name__ == "__main__":
    main()

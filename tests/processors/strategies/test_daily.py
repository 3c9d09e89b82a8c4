"""Daily (1d) strategies: one bar per regular session (09:30 ET to the close, 13:00 on early-close
days), evaluated once at the session's close on everything up to it, by the incremental pipeline
(from bars and from trades) and by the vectorised backtest alike; indicators over the daily bars
against pandas on the regular-session minutes and on a daily file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from processors.calendar import ET, MarketCalendar, build_nyse_calendar
from processors.model import Bar, TradeTick
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.strategies.engine import event_order_key
from processors.strategies.pipeline import Decisions, StrategyPipeline
from processors.strategies.vectorized import backtest_bars

MARKET = Path("/work/shared/data/market")
REAL_MINUTES = MARKET / "2006-01-02-volume-min-001.txt"
NVDA_DAILY = MARKET / "nvda-1999-2014.txt"
NS = 1_000_000_000
MINUTE = 60 * NS


def et(day: dt.date, hour: int, minute: int) -> int:
    return int(dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ET).timestamp()) * NS


def daily_config(**settings: Any) -> ScannerConfig:
    data: dict[str, Any] = dict(
        name="spy-daily", type="positional", instrument="equity", symbols=["SPY"], timeframe="1d", interval="1m",
        days="all", direction="long", mode="virtual", max_signals_per_day=5, max_signals_per_symbol=5,
        entry_rules=["close(SPY, 1d) > 100"], exit_rules=["close(SPY, 1d) < 100"],
        sanity=dict(max_deviation_pct=50, max_staleness_seconds=86_400),
        order=dict(exchange="SMART", order_type="market", product="margin", quantity=10))
    data.update(settings)
    return ScannerConfig.from_mapping(data)


def minute(symbol: str, end: int, close: str, high: str | None = None, low: str | None = None,
           volume: int = 100) -> Bar:
    """A one-minute bar ending at `end`, opening at its close unless high/low say otherwise."""
    price = Decimal(close)
    return Bar(symbol, "1m", "", end - MINUTE, end, price, Decimal(high or close), Decimal(low or close), price,
               volume, price, 1, end)


def pipeline_for(config: ScannerConfig, calendar: MarketCalendar, lateness_ns: int = 0) -> StrategyPipeline:
    return StrategyPipeline(config, calendar, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts),
                            lateness_ns=lateness_ns)


def over_bars(config: ScannerConfig, bars: list[Bar], calendar: MarketCalendar) -> tuple[Decisions, StrategyPipeline]:
    pipeline = pipeline_for(config, calendar)
    decisions = Decisions()
    for bar in sorted(bars, key=event_order_key):
        decisions.extend(pipeline.on_bar(bar))
    decisions.extend(pipeline.finish())
    return decisions, pipeline


def assert_same(expected: Decisions, actual: Decisions) -> None:
    for name in ("signals", "suppressed", "intents"):
        assert getattr(expected, name) == getattr(actual, name), name


# -- hand-computed ---------------------------------------------------------------------------------

THANKSGIVING_WEEK = (dt.date(2026, 11, 25), dt.date(2026, 11, 27), dt.date(2026, 11, 30), dt.date(2026, 12, 1))


@pytest.fixture(scope="module")
def november() -> MarketCalendar:
    return build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 12, 8))


def thanksgiving_bars() -> list[Bar]:
    """Wed 11-25 closes at 99, Fri 11-27 (early close, 13:00) at 101, Mon 11-30 at 98 with its last
    minute missing; pre- and post-market minutes around them at prices no daily bar may hold."""
    wed, fri, mon, tue = THANKSGIVING_WEEK
    return [
        minute("SPY", et(wed, 9, 31), "100", high="100.5", low="99.5"), minute("SPY", et(wed, 16, 0), "99"),
        minute("SPY", et(wed, 16, 5), "500"),                       # post-market
        minute("SPY", et(fri, 8, 0), "1"),                          # pre-market
        minute("SPY", et(fri, 9, 31), "100", low="98"), minute("SPY", et(fri, 12, 0), "102", high="103"),
        minute("SPY", et(fri, 13, 0), "101"),                       # the early close's last minute
        minute("SPY", et(fri, 13, 1), "500"),                       # post-market from 13:00
        minute("SPY", et(mon, 9, 31), "100"), minute("SPY", et(mon, 15, 0), "98"),  # 15:59-16:00 missing
        minute("SPY", et(mon, 16, 30), "500"),                      # post-market: closes Monday's bar
        minute("SPY", et(tue, 9, 31), "97"),
    ]


def test_one_daily_bar_per_regular_session_closed_at_the_close(november: MarketCalendar) -> None:
    _, pipeline = over_bars(daily_config(), thanksgiving_bars(), november)
    wed, fri, mon, tue = THANKSGIVING_WEEK
    daily = [(b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.session)
             for b in pipeline.market.bars[("SPY", "1d")]]
    assert daily == [
        (et(wed, 9, 30), et(wed, 16, 0), Decimal("100"), Decimal("100.5"), Decimal("99"), Decimal("99"), 200,
         "regular"),
        (et(fri, 9, 30), et(fri, 13, 0), Decimal("100"), Decimal("103"), Decimal("98"), Decimal("101"), 300,
         "regular"),
        (et(mon, 9, 30), et(mon, 16, 0), Decimal("100"), Decimal("100"), Decimal("98"), Decimal("98"), 200,
         "regular"),
        (et(tue, 9, 30), et(tue, 16, 0), Decimal("97"), Decimal("97"), Decimal("97"), Decimal("97"), 100,
         "regular"),  # closed by finish(), never evaluated
    ]


def test_evaluated_at_each_close_on_the_bar_that_closed_there(november: MarketCalendar) -> None:
    config = daily_config()
    decisions, _ = over_bars(config, thanksgiving_bars(), november)
    wed, fri, mon, _ = THANKSGIVING_WEEK
    assert [(s.ts_event, s.action, s.side, s.price, s.rule_values) for s in decisions.signals] == [
        (et(fri, 13, 0), "ENTRY", "BUY", Decimal("101"), {"close(SPY, 1d)": 101.0}),   # 18:00 UTC
        (et(mon, 16, 0), "EXIT", "SELL", Decimal("98"), {"close(SPY, 1d)": 98.0}),
    ]
    assert et(fri, 13, 0) == int(dt.datetime(2026, 11, 27, 18, tzinfo=dt.timezone.utc).timestamp()) * NS
    assert not decisions.suppressed and len(decisions.intents) == 2
    assert_same(decisions, backtest_bars(config, thanksgiving_bars(), november))


def test_a_window_ending_at_the_close_holds_it_and_the_days_filter_applies(november: MarketCalendar) -> None:
    """days: [mon] keeps Monday's close only (Friday's early close is out of the days)."""
    config = daily_config(days=["mon"], exit_rules=["close(SPY, 1d) < 99"])
    decisions, _ = over_bars(config, thanksgiving_bars(), november)
    assert [(s.ts_event, s.action) for s in decisions.signals] == []  # Monday closes at 98: no entry
    config = daily_config(days=["mon"], entry_rules=["close(SPY, 1d) < 99"], exit_rules=["close(SPY, 1d) > 99"])
    decisions, _ = over_bars(config, thanksgiving_bars(), november)
    assert [(s.ts_event, s.action) for s in decisions.signals] == [(et(THANKSGIVING_WEEK[2], 16, 0), "ENTRY")]
    assert_same(decisions, backtest_bars(config, thanksgiving_bars(), november))


def test_daily_bars_given_directly_are_evaluated_at_their_close(november: MarketCalendar) -> None:
    config = daily_config()
    days = [november.day(d) for d in THANKSGIVING_WEEK]
    bars = [Bar("SPY", "1d", "regular", day.open, day.close, Decimal(c), Decimal(c), Decimal(c), Decimal(c), 1,
                Decimal(c), 1, day.close) for day, c in zip(days, ("99", "101", "98", "97"))]
    decisions, _ = over_bars(config, bars, november)
    assert [(s.ts_event, s.action) for s in decisions.signals] == [
        (days[1].close, "ENTRY"), (days[2].close, "EXIT")]
    assert_same(decisions, backtest_bars(config, bars, november))


def test_from_trades_the_early_close_of_2025_07_03() -> None:
    """A trade after the close closes the daily bar of every symbol before the close is evaluated:
    SPY's bar is closed by QQQ's post-market print. 13:00 EDT is 17:00 UTC."""
    calendar = build_nyse_calendar(dt.date(2025, 6, 23), dt.date(2025, 7, 14))
    config = daily_config(symbols=["SPY", "QQQ"], entry_rules=["close(SPY, 1d) > close(QQQ, 1d)"],
                          exit_rules=["close(SPY, 1d) < close(QQQ, 1d)"])
    wed, thu, mon = dt.date(2025, 7, 2), dt.date(2025, 7, 3), dt.date(2025, 7, 7)

    def trade(symbol: str, at: int, price: str) -> TradeTick:
        return TradeTick(symbol=symbol, ts_event=at, ts_init=at, price=Decimal(price), size=10, feed="test",
                         trade_id=f"{symbol}-{at}")

    ticks = [trade("SPY", et(wed, 10, 0), "99"), trade("QQQ", et(wed, 10, 0), "100"),
             trade("SPY", et(wed, 16, 30), "1"),                                    # post: no daily bar
             trade("SPY", et(thu, 9, 45), "100"), trade("QQQ", et(thu, 9, 50), "100"),
             trade("SPY", et(thu, 12, 59) + 30 * NS, "102"),                        # SPY's last regular print
             trade("QQQ", et(thu, 13, 0) + NS, "100"),                              # after the close
             trade("SPY", et(mon, 9, 40), "90"), trade("QQQ", et(mon, 9, 40), "95"),
             trade("QQQ", et(mon, 16, 0) + NS, "95")]
    pipeline = pipeline_for(config, calendar)
    decisions = pipeline.run_trades(ticks)
    close = et(thu, 13, 0)
    assert close == int(dt.datetime(2025, 7, 3, 17, tzinfo=dt.timezone.utc).timestamp()) * NS
    assert [(s.ts_event, s.action, s.price, s.rule_values) for s in decisions.signals] == [
        (close, "ENTRY", Decimal("102"), {"close(SPY, 1d)": 102.0, "close(QQQ, 1d)": 100.0}),
        (et(mon, 16, 0), "EXIT", Decimal("90"), {"close(SPY, 1d)": 90.0, "close(QQQ, 1d)": 95.0})]
    thursday = [b for b in pipeline.market.bars[("SPY", "1d")] if b.end == close]
    assert [(b.start, b.open, b.high, b.low, b.close) for b in thursday] == [
        (et(thu, 9, 30), Decimal("100"), Decimal("102"), Decimal("100"), Decimal("102"))]


# -- the vectorised backtest against the pipeline on real data --------------------------------------

MINUTE_COLUMNS = ["date", "time", "open", "high", "low", "close", "volume", "open_interest"]


def minutes_frame(path: Path) -> pd.DataFrame:
    """Rows `date,time,open,high,low,close,volume,open_interest` (the header names one column fewer);
    `end`: the time (ET) is the bar's end."""
    raw = pd.read_csv(path, skiprows=1, header=None, names=MINUTE_COLUMNS, dtype={"open": str, "high": str,
                                                                                   "low": str, "close": str})
    return raw.assign(end=pd.to_datetime(raw["date"] + "T" + raw["time"]).dt.tz_localize(ET))


def read_minutes(path: Path, symbol: str, calendar: MarketCalendar) -> list[Bar]:
    raw = minutes_frame(path)
    bars = []
    for end, open_, high, low, close, volume in zip(raw["end"].dt.as_unit("ns").astype("int64").tolist(), raw["open"], raw["high"],
                                                    raw["low"], raw["close"], raw["volume"].tolist()):
        start = end - MINUTE
        bars.append(Bar(symbol, "1m", calendar.session_at(start).value, start, end, Decimal(open_), Decimal(high),
                        Decimal(low), Decimal(close), int(volume), Decimal(close), 0, end))
    return bars


@pytest.fixture(scope="module")
def real_minutes() -> tuple[list[Bar], MarketCalendar]:
    if not REAL_MINUTES.exists():
        pytest.skip("the shared one-minute data file is not present")
    calendar = build_nyse_calendar(dt.date(2005, 12, 19), dt.date(2006, 3, 10))
    return read_minutes(REAL_MINUTES, "IDX", calendar), calendar


@pytest.mark.parametrize("entry, exit_", [
    ("close(IDX, 1d) > donchian_mid(IDX, 1d, 5)", "close(IDX, 1d) < donchian_mid(IDX, 1d, 5)"),
    ("crosses_above(price(IDX), pivot(IDX, 1d))", "crosses_below(price(IDX), s1(IDX, 1d)) or atr(IDX, 1d) > 80"),
])
def test_the_vectorised_backtest_takes_the_pipelines_daily_decisions(
        entry: str, exit_: str, real_minutes: tuple[list[Bar], MarketCalendar]) -> None:
    bars, calendar = real_minutes
    config = daily_config(symbols=["IDX"], direction="both", entry_rules=[entry], exit_rules=[exit_])
    expected, _ = over_bars(config, bars, calendar)
    assert expected.signals and all(et_time(s.ts_event) == dt.time(16, 0) for s in expected.signals)
    assert_same(expected, backtest_bars(config, bars, calendar))


def et_time(ts_ns: int) -> dt.time:
    return dt.datetime.fromtimestamp(ts_ns // NS, ET).time()


# -- indicators over daily bars against pandas ------------------------------------------------------

def wilder_atr(high: pd.Series, low: pd.Series, close: pd.Series, period: int) -> pd.Series:
    """Wilder's ATR: the mean of the first `period` true ranges (from the second bar), then smoothed."""
    previous = close.shift()
    true_range = pd.concat([high - low, (high - previous).abs(), (low - previous).abs()], axis=1).max(axis=1)
    true_range.iloc[0] = np.nan
    values = np.full(len(close), np.nan)
    ranges = true_range.to_numpy()
    if len(ranges) > period:
        values[period] = ranges[1:period + 1].mean()
        for i in range(period + 1, len(ranges)):
            values[i] = (values[i - 1] * (period - 1) + ranges[i]) / period
    return pd.Series(values, index=close.index)


def every_close_config(symbol: str) -> ScannerConfig:
    """Enters on one close and exits on the next, always: each signal records the values the rules read."""
    levels = (f"close({symbol}, 1d) > 0 and donchian_upper({symbol}, 1d, 20) > 0 and "
              f"donchian_lower({symbol}, 1d, 20) > 0 and atr({symbol}, 1d) > 0")
    return daily_config(symbols=[symbol], entry_rules=[levels], exit_rules=[levels],
                        sanity=dict(max_deviation_pct=1000, max_staleness_seconds=86_400))


def assert_levels_match(signals: list, daily: pd.DataFrame, symbol: str) -> None:
    """`daily`: OHLC per session (index: the session's close, ns) computed independently."""
    expected = pd.DataFrame({
        "close": daily["close"], "upper": daily["high"].rolling(20).max(), "lower": daily["low"].rolling(20).min(),
        "atr": wilder_atr(daily["high"], daily["low"], daily["close"], 14)})
    assert len(signals) >= 10
    for signal in signals:
        row = expected.loc[signal.ts_event]
        values = signal.rule_values
        assert values[f"close({symbol}, 1d)"] == pytest.approx(row["close"], abs=1e-9)
        assert values[f"donchian_upper({symbol}, 1d, 20)"] == pytest.approx(row["upper"], abs=1e-9)
        assert values[f"donchian_lower({symbol}, 1d, 20)"] == pytest.approx(row["lower"], abs=1e-9)
        assert values[f"atr({symbol}, 1d)"] == pytest.approx(row["atr"], rel=1e-9)
        assert float(signal.price) == pytest.approx(row["close"], abs=1e-9)


def test_daily_levels_match_pandas_on_the_regular_session_minutes(
        real_minutes: tuple[list[Bar], MarketCalendar]) -> None:
    """Daily OHLC by pandas from the minutes ending in (09:30, 16:00] ET of each day, then the 20-day
    Donchian channel, Wilder's 14-day ATR and the 20-day mean of the closes; our values as the rules
    read them at each close (both engines), and our daily bars' closes."""
    bars, calendar = real_minutes
    raw = minutes_frame(REAL_MINUTES)
    wall = raw["end"].dt.hour * 60 + raw["end"].dt.minute
    regular = raw[(wall > 9 * 60 + 30) & (wall <= 16 * 60)].assign(day=raw["end"].dt.date)
    regular = regular[[calendar.day(day) is not None for day in regular["day"]]]  # the file has NYSE holidays
    grouped = regular.astype({"high": float, "low": float, "close": float}).groupby("day")
    daily = pd.DataFrame({"high": grouped["high"].max(), "low": grouped["low"].min(), "close": grouped["close"].last()})
    daily.index = [calendar.day(day).close for day in daily.index]
    config = every_close_config("IDX")
    decisions, pipeline = over_bars(config, bars, calendar)
    assert_levels_match(decisions.signals, daily, "IDX")
    assert_same(decisions, backtest_bars(config, bars, calendar))
    ours = pd.Series({b.end: float(b.close) for b in pipeline.market.bars[("IDX", "1d")]})
    assert ours.to_numpy() == pytest.approx(daily["close"].to_numpy(), abs=1e-9)
    assert ours.rolling(20).mean().dropna().to_numpy() == pytest.approx(
        daily["close"].rolling(20).mean().dropna().to_numpy(), rel=1e-12)  # the 20-day SMA


def test_daily_levels_match_pandas_on_a_daily_file() -> None:
    """NVDA's daily file as 1d bars (each on its date's regular session), ten years of it."""
    if not NVDA_DAILY.exists():
        pytest.skip("the shared daily data file is not present")
    raw = pd.read_csv(NVDA_DAILY)
    raw = raw[(raw["Date"] >= "2004-01-01") & (raw["Date"] < "2008-01-01")].reset_index(drop=True)
    calendar = build_nyse_calendar(dt.date(2003, 12, 20), dt.date(2008, 1, 10))
    days = [calendar.day(dt.date.fromisoformat(text)) for text in raw["Date"]]
    bars = [Bar("NVDA", "1d", "regular", day.open, day.close, Decimal(o), Decimal(h), Decimal(lo), Decimal(c), int(v),
                Decimal(c), 0, day.close)
            for day, o, h, lo, c, v in zip(days, *(raw[name].astype(str) for name in
                                                   ("Open", "High", "Low", "Close", "Volume")))]
    daily = pd.DataFrame({"high": raw["High"], "low": raw["Low"], "close": raw["Close"]})
    daily.index = [day.close for day in days]
    config = every_close_config("NVDA")
    decisions, _ = over_bars(config, bars, calendar)
    assert len(decisions.signals) == len(raw) - 20  # every close from the 20th, but the last (no later event)
    assert_levels_match(decisions.signals, daily, "NVDA")
    assert_same(decisions, backtest_bars(config, bars, calendar))

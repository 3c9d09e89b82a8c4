"""The vectorised backtest over bars against its definition, the incremental pipeline fed bar by bar:
the same signals, suppressed signals and order intents, field for field and in the same order."""

from __future__ import annotations

import csv
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.bars import TickArrays, aggregate_batch
from processors.calendar import ET, MarketCalendar, Session, build_nyse_calendar
from processors.model import Bar
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.strategies.engine import event_order_key
from processors.strategies.market import MarketState
from processors.strategies.pipeline import Decisions, StrategyPipeline
from processors.strategies.vectorized import backtest_bars, bars_frame

ROOT = Path(__file__).resolve().parents[3]
REAL_MINUTES = Path("/work/shared/data/market/2006-01-02-volume-min-001.txt")
NS = 1_000_000_000


@pytest.fixture(scope="module")
def calendar() -> MarketCalendar:
    return build_nyse_calendar(dt.date(2026, 11, 9), dt.date(2026, 11, 25))


@pytest.fixture(scope="module")
def minute_bars(ticks: list, calendar: MarketCalendar) -> list[Bar]:
    return aggregate_batch(TickArrays.from_ticks(ticks), "1m", frozenset({Session.REGULAR}), calendar).bars


class PriceGoesBack(MarketState):
    """The state before the fix: a price update older than the latest one (a strategy bar closed
    late) still moved the price, its time and possibly the reference back."""

    def _price(self, symbol: str, price: Decimal, ts_ns: int, regular: bool | None = None) -> None:
        last = self.last.get(symbol)
        if last is not None and ts_ns < last.ts_ns:
            last.ts_ns = ts_ns  # so the update is not recognised as older
        super()._price(symbol, price, ts_ns, regular)


def incremental(config: ScannerConfig, bars: list[Bar], calendar: MarketCalendar,
                schedule: Any = None, limiter: Any = None, price_goes_back: bool = False) -> Decisions:
    """The definition: the pipeline fed the bars in event order, then finished (`price_goes_back`:
    with the market state as it was before the fix, to show that a test's data exercises it)."""
    pipeline = StrategyPipeline(config, calendar, limiter or SignalLimiter.from_config(config),
                                schedule or (lambda ts: in_schedule(config, ts)))
    if price_goes_back:
        pipeline.market = pipeline.engine.market = PriceGoesBack(is_regular=pipeline.market.is_regular)
    decisions = Decisions()
    for bar in sorted(bars, key=event_order_key):
        decisions.extend(pipeline.on_bar(bar))
    decisions.extend(pipeline.finish())
    return decisions


def assert_same(expected: Decisions, actual: Decisions) -> None:
    for name in ("signals", "suppressed", "intents"):
        wanted, got = getattr(expected, name), getattr(actual, name)
        for index, (one, other) in enumerate(zip(wanted, got)):
            assert one == other, f"{name}[{index}] differs:\n incremental {one}\n vectorised  {other}"
        assert len(wanted) == len(got), f"{len(wanted)} {name} expected, {len(got)} computed"


def rules_config(**settings_: Any) -> ScannerConfig:
    data: dict[str, Any] = dict(
        name="spy-breakout", type="intraday", instrument="equity", symbols=["SPY", "QQQ"], timeframe="5m",
        interval="1m", days="all", start_time="09:30", end_time="16:00", direction="long", mode="virtual",
        max_signals_per_day=50, max_signals_per_symbol=50,
        entry_rules=["crosses_above(price(SPY), donchian_upper(SPY, 5m, 10))"],
        exit_rules=["crosses_below(price(SPY), donchian_mid(SPY, 5m, 6))"],
        order=dict(exchange="SMART", order_type="limit", limit_offset_ticks=1, product="margin", quantity=100))
    data.update(settings_)
    return ScannerConfig.from_mapping(data)


def test_the_correlation_example_takes_the_same_decisions(minute_bars: list[Bar], calendar: MarketCalendar) -> None:
    config = ScannerConfig.from_mapping(yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text()))
    expected = incremental(config, minute_bars, calendar)
    assert len(expected.signals) >= 4 and {s.action for s in expected.signals} == {"ENTRY", "EXIT"}
    assert_same(expected, backtest_bars(config, minute_bars, calendar))


@pytest.mark.parametrize("direction", ["long", "short", "both"])
def test_crossings_and_donchian_periods_in_each_direction(direction: str, minute_bars: list[Bar],
                                                          calendar: MarketCalendar) -> None:
    entry = ("crosses_below(price(SPY), donchian_lower(SPY, 5m, 10))" if direction == "short"
             else "crosses_above(price(SPY), donchian_upper(SPY, 5m, 10))")
    config = rules_config(direction=direction, entry_rules=[entry],
                          exit_rules=["crosses_below(price(SPY), donchian_mid(SPY, 5m, 6))",
                                      "crosses_above(price(SPY), donchian_mid(SPY, 5m, 6) + atr(SPY, 5m))"])
    expected = incremental(config, minute_bars, calendar)
    sides = {(s.action, s.side) for s in expected.signals}
    assert sides == ({("ENTRY", "SELL"), ("EXIT", "BUY")} if direction == "short"
                     else {("ENTRY", "BUY"), ("EXIT", "SELL")})
    assert_same(expected, backtest_bars(config, minute_bars, calendar))


def test_every_kind_of_value_a_rule_reads(minute_bars: list[Bar], calendar: MarketCalendar) -> None:
    """Bars of the strategy and the input timeframe, every indicator of the snapshot, Donchian
    channels of the snapshot's and of other periods, and the rolling correlation."""
    config = rules_config(direction="both", entry_rules=[
        "correlation(SPY, QQQ, 5m, 10) < 0.2 and price(SPY) > pivot(SPY, 5m) and price(QQQ) < r1(QQQ, 5m) "
        "and close(SPY, 1m) >= donchian_mid(SPY, 1m, 15) and volume(SPY, 5m) > 0 "
        "and high(SPY, 5m) - low(SPY, 5m) > 0 and s3(SPY, 5m) < fractal_high(SPY, 5m) "
        "and (swing_high(SPY, 5m) > 0 or swing_low(QQQ, 5m) > 0) and donchian_upper(SPY, 5m) > 0"],
        exit_rules=["price(SPY) < donchian_lower(SPY, 5m, 20) or open(SPY, 5m) > r2(SPY, 5m) "
                    "or fractal_low(SPY, 5m) > price(SPY) or s1(QQQ, 5m) > s2(QQQ, 5m) + r3(QQQ, 5m)"])
    expected = incremental(config, minute_bars, calendar)
    assert len(expected.signals) >= 2
    assert_same(expected, backtest_bars(config, minute_bars, calendar))


def test_limits_and_the_deviation_check_suppress_the_same_signals(minute_bars: list[Bar],
                                                                   calendar: MarketCalendar) -> None:
    config = rules_config(direction="both", max_signals_per_day=3, max_signals_per_symbol=2,
                          entry_rules=["price(SPY) > donchian_mid(SPY, 5m, 4)"],
                          exit_rules=["price(SPY) < donchian_mid(SPY, 5m, 4)"],
                          sanity=dict(max_deviation_pct=0.8, max_staleness_seconds=120))
    expected = incremental(config, minute_bars, calendar)
    reasons = " ".join(s.suppression for s in expected.suppressed)
    assert "max_signals_per_symbol reached" in reasons and "deviates" in reasons and expected.signals
    assert_same(expected, backtest_bars(config, minute_bars, calendar))


def test_missing_minutes_stale_prices_and_late_strategy_bars(minute_bars: list[Bar],
                                                            calendar: MarketCalendar) -> None:
    """With minutes missing, a strategy bar whose last minute is missing is merged when the next bar
    comes (and leaves that newer bar's price as it is); prices older than the limit withhold signals
    (entries refused by the limiter fire again at the next instants, some with a stale price)."""
    rng = random.Random(5)
    bars = [bar for bar in minute_bars if rng.random() > 0.25]
    config = rules_config(direction="both", sanity=dict(max_deviation_pct=10, max_staleness_seconds=60),
                          max_signals_per_day=3, max_signals_per_symbol=3,
                          entry_rules=["price(SPY) > donchian_mid(SPY, 5m, 4) and price(QQQ) > 0"],
                          exit_rules=["price(SPY) < donchian_mid(SPY, 5m, 4)"])
    expected = incremental(config, bars, calendar)
    assert any(s.suppression.startswith("data stale") for s in expected.suppressed) and expected.signals
    # the late strategy bars matter here: had they moved the price back, the decisions would differ
    assert incremental(config, bars, calendar, price_goes_back=True) != expected
    assert_same(expected, backtest_bars(config, bars, calendar))


def test_strategy_timeframe_bars_foreign_symbols_and_frames(ticks: list, minute_bars: list[Bar],
                                                           calendar: MarketCalendar) -> None:
    """Bars already of the strategy's timeframe skip the resampler; bars of other symbols are
    ignored; a DataFrame of the bars gives the same decisions as the bars."""
    five = aggregate_batch(TickArrays.from_ticks(ticks), "5m", frozenset({Session.REGULAR}), calendar).bars
    foreign = [Bar("IWM", b.timeframe, b.session, b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.vwap,
                   b.trades, b.ts_init) for b in minute_bars[:200]]
    bars = [b for b in five if b.symbol == "QQQ"] + [b for b in minute_bars if b.symbol == "SPY"] + foreign
    config = rules_config(direction="both", entry_rules=["price(SPY) > swing_high(SPY, 5m) and "
                                                         "price(QQQ) > donchian_lower(QQQ, 5m, 3)"],
                          exit_rules=["price(SPY) < swing_low(SPY, 5m)"])
    expected = incremental(config, bars, calendar)
    assert expected.signals
    assert_same(expected, backtest_bars(config, bars, calendar))
    assert_same(expected, backtest_bars(config, bars_frame(bars), calendar))


def test_a_given_schedule_and_limiter_are_used_as_the_pipeline_uses_them(minute_bars: list[Bar],
                                                                        calendar: MarketCalendar) -> None:
    config = rules_config(direction="both", interval="90s",
                          entry_rules=["crosses_above(price(SPY), donchian_mid(SPY, 5m, 4))"],
                          exit_rules=["crosses_below(price(SPY), donchian_mid(SPY, 5m, 4))"])

    def schedule(ts: int) -> bool:  # every third minute is skipped
        return (ts // (60 * NS)) % 3 != 0 and in_schedule(config, ts)

    expected = incremental(config, minute_bars, calendar, schedule, SignalLimiter(4, 3))
    assert len(expected.signals) >= 4 and expected.suppressed
    assert_same(expected, backtest_bars(config, minute_bars, calendar, limiter=SignalLimiter(4, 3),
                                        in_schedule=schedule))


def test_signals_without_an_order_intent_are_reported_alike(minute_bars: list[Bar], calendar: MarketCalendar) -> None:
    config = rules_config(instrument="option", expiry="weekly", option=dict(right="call", category="ATM"))
    expected = incremental(config, minute_bars, calendar)
    assert expected.signals and not expected.intents
    assert all(s.suppression.startswith("no order intent") for s in expected.suppressed)
    assert_same(expected, backtest_bars(config, minute_bars, calendar))


def test_repeated_bars_fall_back_to_the_exact_correlation(minute_bars: list[Bar], calendar: MarketCalendar) -> None:
    """A bar given twice makes a strategy bar that starts no later than the previous one: it moves
    the price and the history but makes no snapshot, and the correlation is replayed."""
    rng = random.Random(3)
    bars = minute_bars + [bar for bar in minute_bars if rng.random() < 0.05]
    config = rules_config(direction="both", entry_rules=["correlation(SPY, QQQ, 5m, 6) < -0.2"],
                          exit_rules=["correlation(SPY, QQQ, 5m, 6) > 0.2"])
    expected = incremental(config, bars, calendar)
    assert expected.signals
    assert_same(expected, backtest_bars(config, bars, calendar))


# -- hand-built gaps: a strategy bar closed late, and the end of data --------------------------------

def at(day: int, hh: int, mm: int) -> int:
    return int(dt.datetime(2026, 11, day, hh, mm, tzinfo=ET).timestamp()) * NS


def minute(day: int, hh: int, mm: int, close: str, symbol: str = "SPY") -> Bar:
    """The SPY minute bar starting at hh:mm ET on 2026-11-`day` (a regular session minute)."""
    price = Decimal(close)
    return Bar(symbol, "1m", "regular", at(day, hh, mm), at(day, hh, mm + 1), price, price, price, price, 100,
               price, 1, at(day, hh, mm + 1))


def feed(pipeline: StrategyPipeline, bars: list[Bar]) -> Decisions:
    decisions = Decisions()
    for bar in bars:
        decisions.extend(pipeline.on_bar(bar))
    return decisions


def gap_config(**settings_: Any) -> ScannerConfig:
    return rules_config(**{"symbols": ["SPY"], "exit_rules": ["price(SPY) < 50"], **settings_})


# 9:30-9:35 lacks its last minute, so it closes late, when the 9:35 minute (close 110) has set the price
LATE_CLOSE = [minute(16, 9, 30, "100"), minute(16, 9, 31, "101"), minute(16, 9, 32, "102"),
              minute(16, 9, 33, "103"), minute(16, 9, 35, "110"), minute(16, 9, 36, "111"),
              minute(16, 9, 37, "112")]


def test_a_strategy_bar_closed_late_leaves_the_newer_minute_price(calendar: MarketCalendar) -> None:
    config = gap_config()
    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config), lambda ts: True)
    feed(pipeline, LATE_CLOSE[:5])
    market = pipeline.market
    # the 9:30-9:35 bar is known (closed at 103, the 9:33 minute's close) ...
    assert market.value("close", "SPY", "5m") == 103.0 and market.bars[("SPY", "5m")][-1].end == at(16, 9, 35)
    # ... but the price is still the 9:35 minute's close, known at its end, 9:36
    assert market.price("SPY") == Decimal("110") and market.last_update_ns("SPY") == at(16, 9, 36)


def test_the_instant_after_a_late_strategy_bar_sees_the_newer_price(calendar: MarketCalendar) -> None:
    """At 9:37 the price is 110 (known at 9:36): the entry fires there, with a fresh price. Moved back
    to 103 (known at 9:35), it would fire only at 9:38."""
    config = gap_config(entry_rules=["price(SPY) > 105"], sanity=dict(max_deviation_pct=50, max_staleness_seconds=60))
    expected = incremental(config, LATE_CLOSE, calendar)
    assert [(s.ts_event, s.price, s.side) for s in expected.signals] == [(at(16, 9, 37), Decimal("110"), "BUY")]
    assert not expected.suppressed
    before = incremental(config, LATE_CLOSE, calendar, price_goes_back=True)
    assert [(s.ts_event, s.price) for s in before.signals] == [(at(16, 9, 38), Decimal("111"))]
    assert_same(expected, backtest_bars(config, LATE_CLOSE, calendar))


# the 15:55-16:00 bar of the 16th lacks its last minute, so it closes when the 17th's first minute comes
OVERNIGHT = [minute(16, 15, 55, "100"), minute(16, 15, 56, "101"), minute(16, 15, 57, "102"),
             minute(16, 15, 58, "103"), minute(17, 9, 30, "120"), minute(17, 9, 31, "121"),
             minute(17, 9, 32, "122")]


def test_a_strategy_bar_closed_late_overnight_keeps_the_previous_close_as_reference(
        calendar: MarketCalendar) -> None:
    config = gap_config()
    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config), lambda ts: True)
    feed(pipeline, OVERNIGHT[:5])
    market = pipeline.market
    assert market.bars[("SPY", "5m")][-1].end == at(16, 16, 0)
    assert market.price("SPY") == Decimal("120") and market.last_update_ns("SPY") == at(17, 9, 31)
    assert market.reference("SPY") == Decimal("103")  # the 16th's last price, not the 17th's first


def test_the_deviation_check_after_an_overnight_late_bar(calendar: MarketCalendar) -> None:
    """At 9:32 on the 17th the price is 120 against the 16th's close 103: 16.50% away, withheld."""
    config = gap_config(entry_rules=["price(SPY) > 110"],
                        sanity=dict(max_deviation_pct=10, max_staleness_seconds=100_000))
    expected = incremental(config, OVERNIGHT, calendar)
    assert not expected.signals
    first = expected.suppressed[0]
    assert (first.ts_event, first.price) == (at(17, 9, 32), Decimal("120"))
    assert first.suppression == "last trade 120 deviates 16.50% from the reference 103 (limit 10%)"
    assert incremental(config, OVERNIGHT, calendar, price_goes_back=True).suppressed[0].ts_event == at(17, 9, 33)
    assert_same(expected, backtest_bars(config, OVERNIGHT, calendar))


@pytest.mark.parametrize("last_minute", [False, True])
def test_finish_closes_the_last_strategy_bar_without_evaluating(last_minute: bool, calendar: MarketCalendar) -> None:
    """The data ends with the 9:30-9:35 bar, with or without its last minute. The 9:35 instant is
    evaluated only when the data reaches it (the 9:34 minute ends then); `finish` closes the bar into
    the state but evaluates nothing, though the merged bar ends at 9:35."""
    config = gap_config(interval="5m", entry_rules=["price(SPY) > 0"])
    bars = LATE_CLOSE[:4] + ([minute(16, 9, 34, "104")] if last_minute else [])
    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts))
    fed = feed(pipeline, bars)
    assert [(s.ts_event, s.price) for s in fed.signals] == ([(at(16, 9, 35), Decimal("103"))] if last_minute else [])
    assert len(pipeline.finish()) == 0
    assert pipeline.market.value("close", "SPY", "5m") == float(bars[-1].close)
    assert pipeline.market.bars[("SPY", "5m")][-1].start == at(16, 9, 30)
    assert len(pipeline.finish()) == 0 and len(pipeline.market.bars[("SPY", "5m")]) == 1  # once only
    assert_same(incremental(config, bars, calendar), backtest_bars(config, bars, calendar))


RULES = ["crosses_above(price(SPY), donchian_upper(SPY, {tf}, 6))", "price(SPY) > swing_high(SPY, {tf})",
         "crosses_below(price(QQQ), s1(QQQ, {tf})) or price(SPY) < donchian_lower(SPY, {tf})",
         "correlation(SPY, QQQ, {tf}, 5) > 0.5", "close(SPY, 1m) > donchian_upper(SPY, 1m, 12) - 0.1"]


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), timeframe=st.sampled_from(["3m", "5m", "7m"]),
       interval=st.sampled_from(["30s", "1m", "2m", "5m"]), direction=st.sampled_from(["long", "short", "both"]),
       entry=st.sampled_from(RULES), exit_=st.sampled_from(RULES), dropped=st.floats(0.0, 0.4))
def test_any_rules_over_any_gaps(minute_bars: list[Bar], calendar: MarketCalendar, seed: int, timeframe: str,
                                 interval: str, direction: str, entry: str, exit_: str, dropped: float) -> None:
    rng = random.Random(seed)
    bars = [bar for bar in minute_bars if rng.random() >= dropped]
    config = rules_config(direction=direction, timeframe=timeframe, interval=interval,
                          entry_rules=[entry.format(tf=timeframe)], exit_rules=[exit_.format(tf=timeframe)],
                          max_signals_per_day=5, max_signals_per_symbol=3,
                          sanity=dict(max_deviation_pct=1, max_staleness_seconds=90))
    assert_same(incremental(config, bars, calendar), backtest_bars(config, bars, calendar))


# -- real one-minute data -------------------------------------------------------------------------

def read_minutes(path: Path, symbol: str, calendar: MarketCalendar) -> list[Bar]:
    """Rows `date,time,open,high,low,close,volume,open_interest`; the time (ET) is the bar's end."""
    bars = []
    with open(path, newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        for date, time, open_, high, low, close, volume, _ in rows:
            end = int(dt.datetime.fromisoformat(f"{date}T{time}").replace(tzinfo=ET).timestamp()) * NS
            start = end - 60 * NS
            bars.append(Bar(symbol, "1m", calendar.session_at(start).value, start, end, Decimal(open_),
                            Decimal(high), Decimal(low), Decimal(close), int(volume), Decimal(close), 0, end))
    return bars


@pytest.mark.skipif(not REAL_MINUTES.exists(), reason="the shared one-minute data file is not present")
def test_real_one_minute_data() -> None:
    calendar = build_nyse_calendar(dt.date(2005, 12, 19), dt.date(2006, 3, 10))
    bars = read_minutes(REAL_MINUTES, "IDX", calendar)
    assert len(bars) > 30_000
    config = rules_config(
        name="idx-breakout", symbols=["IDX"], direction="both", extended_hours=True, start_time="09:00",
        end_time="20:00", max_signals_per_day=6, max_signals_per_symbol=5,
        entry_rules=["crosses_above(price(IDX), donchian_upper(IDX, 5m, 12)) and atr(IDX, 5m) > 1"],
        exit_rules=["price(IDX) < donchian_lower(IDX, 5m)", "crosses_below(price(IDX), pivot(IDX, 5m))"],
        sanity=dict(max_deviation_pct=1.5, max_staleness_seconds=120))
    expected = incremental(config, bars, calendar)
    assert len(expected.signals) >= 20 and expected.suppressed
    assert_same(expected, backtest_bars(config, bars, calendar))

"""The strategy engine on hand-built scenarios: the correlation rule, positions, sanity, limits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from processors.indicators.indicator_set import IndicatorSnapshot
from processors.model import Bar, SignalGenerated, SignalSuppressed, TradeTick
from processors.scanner import ScannerRules
from processors.strategies.engine import StrategyEngine, event_order_key, signal_id
from processors.strategies.market import MarketState

NS = 1_000_000_000
ET = ZoneInfo("America/New_York")


def at(day: int, hh: int, mm: int, ss: int = 0) -> int:
    return int(dt.datetime(2026, 11, day, hh, mm, ss, tzinfo=ET).timestamp()) * NS


def config(**overrides: object) -> SimpleNamespace:
    values = dict(name="corr", symbols=("SPY", "QQQ"), primary="SPY", correlated="QQQ", timeframe="5m",
                  strategy="correlation", entry_rules=(), exit_rules=(), direction="both", interval=dt.timedelta(seconds=60),
                  sanity=SimpleNamespace(max_deviation_pct=Decimal("10"), max_staleness_seconds=120))
    values.update(overrides)
    rules = ScannerRules.compile(strategy=values["strategy"], direction=values["direction"], primary=values["primary"],
                                 correlated=values["correlated"], timeframe=values["timeframe"],
                                 entry_rules=values["entry_rules"], exit_rules=values["exit_rules"],
                                 symbols=values["symbols"])
    return SimpleNamespace(**values, rules=rules)


class Limiter:
    def __init__(self, per_day: int = 10) -> None:
        self.per_day = per_day
        self.used = 0

    def allow(self, symbol: str, ts_ns: int) -> tuple[bool, str | None]:
        if self.used >= self.per_day:
            return False, f"limit of {self.per_day} signals per day reached"
        self.used += 1
        return True, None


def trade(symbol: str, ts: int, price: str) -> TradeTick:
    return TradeTick(symbol=symbol, ts_event=ts, ts_init=ts + 1000, price=Decimal(price), size=100, feed="test")


def levels(symbol: str, end: int, swing_high: float, swing_low: float) -> IndicatorSnapshot:
    none = dict.fromkeys(("atr", "dc_upper", "dc_lower", "dc_mid", "pivot", "r1", "r2", "r3", "s1", "s2", "s3",
                          "session_pivot", "session_r1", "session_r2", "session_r3", "session_s1", "session_s2",
                          "session_s3", "fractal_high", "fractal_low"))
    return IndicatorSnapshot(symbol=symbol, timeframe="5m", start=end - 300 * NS, end=end, close=0.0, atr_period=14,
                             donchian_period=20, fractal_k=2, swing_left=5, swing_right=5, swing_high=swing_high,
                             swing_low=swing_low, ts_init=end, **none)


def engine(limiter: Limiter | None = None, **overrides: object) -> StrategyEngine:
    return StrategyEngine(config(**overrides), limiter or Limiter(), in_schedule=lambda ts: True)


def opening(day: int = 24) -> list:
    """Swing levels at 10:00 ET: SPY 590-600, QQQ 500-510; then SPY breaks up, QQQ breaks down."""
    return [levels("SPY", at(day, 10, 0), 600.0, 590.0), levels("QQQ", at(day, 10, 0), 510.0, 500.0),
            trade("SPY", at(day, 10, 0, 10), "600.50"), trade("QQQ", at(day, 10, 0, 20), "499.75"),
            trade("SPY", at(day, 10, 1, 5), "600.60")]


def test_buy_fires_when_primary_breaks_its_swing_high_and_the_correlated_its_swing_low() -> None:
    out = engine().run(opening())
    (signal,) = out
    assert isinstance(signal, SignalGenerated)
    assert (signal.side, signal.action, signal.symbol, signal.price) == ("BUY", "ENTRY", "SPY", Decimal("600.50"))
    assert signal.ts_event == at(24, 10, 1)  # the 10:01 instant, evaluated on the trades before it
    assert signal.rule_values == {"price(SPY)": 600.5, "swing_high(SPY, 5m)": 600.0, "price(QQQ)": 499.75,
                                  "swing_low(QQQ, 5m)": 500.0}
    assert signal.reason.startswith("price(SPY) > swing_high(SPY, 5m) and price(QQQ) < swing_low(QQQ, 5m)")
    assert signal.signal_id == signal_id("corr", "SPY", "BUY", "ENTRY", at(24, 10, 1))


def test_no_signal_when_only_one_leg_breaks() -> None:
    events = opening()
    events[3] = trade("QQQ", at(24, 10, 0, 20), "505.00")   # QQQ inside its range
    assert engine().run(events) == []


def test_long_position_exits_on_the_sell_condition_and_short_entries_need_direction() -> None:
    e = engine(direction="long")
    later = [trade("SPY", at(24, 10, 2, 1), "589.90"), trade("QQQ", at(24, 10, 2, 2), "510.10"),
             trade("SPY", at(24, 10, 3, 1), "589.80"), trade("SPY", at(24, 10, 4, 1), "589.70")]
    out = e.run(opening() + later)
    assert [(s.side, s.action, s.ts_event) for s in out] == [("BUY", "ENTRY", at(24, 10, 1)),
                                                             ("SELL", "EXIT", at(24, 10, 3))]
    assert e.position == "flat"  # long only: the sell condition still holding at 10:04 does not go short


def test_sell_condition_opens_a_short_when_allowed() -> None:
    events = [levels("SPY", at(24, 10, 0), 600.0, 590.0), levels("QQQ", at(24, 10, 0), 510.0, 500.0),
              trade("SPY", at(24, 10, 0, 10), "589.00"), trade("QQQ", at(24, 10, 0, 20), "511.00"),
              trade("QQQ", at(24, 10, 1, 0), "511.00")]
    (short,) = engine(direction="both").run(events)
    assert (short.side, short.action) == ("SELL", "ENTRY")
    assert engine(direction="long").run(events) == []


def test_custom_conditions_are_anded_to_the_built_in_rule() -> None:
    assert engine(entry_rules=("price(SPY) > 700",)).run(opening()) == []
    (signal,) = engine(entry_rules=("price(SPY) - price(QQQ) > 100",)).run(opening())
    assert signal.rule_values["price(SPY)"] == 600.5


def test_a_last_trade_far_from_the_previous_close_suppresses_the_signal() -> None:
    previous_day = [trade("SPY", at(23, 15, 59), "540.00"), trade("SPY", at(23, 19, 0), "545.00")]
    (signal,) = engine().run(previous_day + opening())
    assert isinstance(signal, SignalSuppressed)
    # 600.50 vs 545.00 (the last price of the 23rd; no calendar given, so every trade counts as regular)
    assert signal.suppression == "last trade 600.50 deviates 10.18% from the reference 545.00 (limit 10%)"
    regular_only = StrategyEngine(config(), Limiter(), lambda ts: True,
                                  MarketState(is_regular=lambda ts: ts < at(23, 16, 0) or ts >= at(24, 9, 30)))
    (signal,) = regular_only.run(previous_day + opening())
    assert isinstance(signal, SignalSuppressed) and "from the reference 540.00" in signal.suppression
    (accepted,) = engine(sanity=SimpleNamespace(max_deviation_pct=Decimal("12"), max_staleness_seconds=120)).run(
        previous_day + opening())
    assert isinstance(accepted, SignalGenerated)


def test_stale_data_suppresses_the_signal() -> None:
    events = opening()
    events[3] = trade("QQQ", at(24, 9, 50), "499.75")   # QQQ's last trade 11 minutes before the instant
    events.insert(0, events.pop(3))
    (signal,) = engine().run(events)
    assert isinstance(signal, SignalSuppressed)
    assert signal.suppression == "data stale: last QQQ price is 660 s old (limit 120 s)"


def test_signal_limits_suppress_entries_but_never_exits() -> None:
    limiter = Limiter(per_day=1)
    e = engine(limiter, direction="long", exit_rules=("price(SPY) < 600",))
    later = [trade("SPY", at(24, 10, 2, 1), "599.00"), trade("SPY", at(24, 10, 3, 1), "600.70"),
             trade("QQQ", at(24, 10, 3, 2), "499.50"), trade("SPY", at(24, 10, 4, 1), "600.80")]
    out = e.run(opening() + later)
    assert [(type(s).__name__, s.side, s.action) for s in out] == [
        ("SignalGenerated", "BUY", "ENTRY"), ("SignalGenerated", "SELL", "EXIT"),
        ("SignalSuppressed", "BUY", "ENTRY")]
    assert out[2].suppression == "limit of 1 signals per day reached"


def test_instants_outside_the_schedule_are_not_evaluated() -> None:
    e = StrategyEngine(config(), Limiter(), in_schedule=lambda ts: ts >= at(24, 10, 5))
    assert e.run(opening()) == []


def test_rules_strategy_and_a_crossing() -> None:
    e = engine(strategy="rules", primary=None, correlated=None, direction="long",
               entry_rules=("crosses_above(price(SPY), 600)",))
    events = [trade("SPY", at(24, 10, 0, 30), "599.00"), trade("SPY", at(24, 10, 1, 30), "599.50"),
              trade("SPY", at(24, 10, 2, 30), "601.00"), trade("SPY", at(24, 10, 3, 30), "602.00"),
              trade("SPY", at(24, 10, 4, 30), "603.00")]
    out = e.run(events)
    assert [(s.side, s.ts_event) for s in out] == [("BUY", at(24, 10, 3))]


def test_bars_and_snapshots_order_before_trades_at_the_same_instant() -> None:
    t = at(24, 10, 0)
    bar = Bar("SPY", "5m", "regular", t - 300 * NS, t, Decimal(1), Decimal(1), Decimal(1), Decimal(1), 1,
              Decimal(1), 1)
    events = [trade("SPY", t, "1"), levels("SPY", t, 1.0, 1.0), bar]
    assert [type(e).__name__ for e in sorted(events, key=event_order_key)] == ["Bar", "IndicatorSnapshot",
                                                                                "TradeTick"]


def test_the_engine_evaluates_the_conditions_compiled_with_the_configuration():
    settings = config(exit_rules=("price(SPY) < 600",))
    e = StrategyEngine(settings, Limiter(), in_schedule=lambda ts: True)
    assert e.buy.rule is settings.rules.buy and e.sell.rule is settings.rules.sell
    assert [condition.rule for condition in e.exits] == list(settings.rules.exit)

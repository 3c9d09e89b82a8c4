"""A strategy and its desk stepped together by prints (the path the backtest and the live runner share):
a signal's entry filled by the next print, stopped out at a sweep, the deals row to the cent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.model import FillExecuted, RiskDecisionMade, TradeTick, TradeUpdated
from processors.risk import Account, RegimePeriod, RiskLimits
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.settings import CalendarInForce, SettingsError, SettingsHistory, UniversalSettings
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.errors import TradingDeskError
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config

from .conftest import CALENDAR, et

D = Decimal
ACCOUNT = Account(account_id="paper-1", broker="paper", starting_capital=D(50_000),
                  regimes=(RegimePeriod(dt.date(2026, 6, 4), "intraday_margin"),),
                  limits=RiskLimits(max_loss_per_trade=D(500), max_loss_per_trade_pct=D("0.8"), max_open_risk=D(2000),
                                    max_drawdown_pct=D(3), max_active_trades=5, max_trades_per_day=10))


def strategy(**changes) -> ScannerConfig:
    data = {"name": "above-100", "type": "intraday", "instrument": "equity", "days": "all", "interval": "1m",
            "max_signals_per_day": 1, "max_signals_per_symbol": 1, "direction": "long", "mode": "virtual",
            "symbols": ["XYZ"], "timeframe": "1m", "entry_rules": ["price(XYZ) > 100"],
            "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 1000},
            "risk": {"account": "paper-1", "stop_pct": 2}, "trade": {"target_pct": 4}}
    data.update(changes)
    return ScannerConfig.from_mapping(data)


def session(config: ScannerConfig) -> TradingSession:
    pipeline = StrategyPipeline(config, CALENDAR, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts))
    return TradingSession({config.name: pipeline}, TradingDesk(desk_config([config], ACCOUNT, CALENDAR)))


def tick(price: str, ts: int) -> TradeTick:
    return TradeTick(symbol="XYZ", ts_event=ts, ts_init=ts, price=D(price), size=10_000, feed="test")


def test_a_signal_is_entered_at_the_next_print_stopped_out_at_a_sweep_and_reported_to_the_cent() -> None:
    run = session(strategy())
    prints = [tick("101.00", et(2026, 6, 10, 9, 31, 10)),   # 09:32 evaluates price 101 > 100: a signal
              tick("101.50", et(2026, 6, 10, 9, 32, 1)),    # ... the first print after 09:32: the entry fills here
              tick("99.00", et(2026, 6, 10, 9, 40, 2)),
              tick("98.50", et(2026, 6, 10, 9, 40, 3)),     # through the stop 98.98 (2 % under 101.00)
              tick("98.40", et(2026, 6, 10, 9, 40, 6)),     # after the 09:40:05 sweep: the exit fills here
              tick("98.30", et(2026, 6, 10, 9, 40, 7))]
    events = []
    for print_ in prints:
        events += run.on_trade(print_, print_.ts_event).trading
    decision = next(e for e in events if isinstance(e, RiskDecisionMade))
    # Budget min($500, 0.8 % of $50,000) = $400; unit risk 101.00 - 98.98 = 2.02; floor(400 / 2.02) = 198.
    assert (decision.outcome, decision.quantity, decision.stop_price) == ("ACCEPT", 198, D("98.98"))
    fills = [(f.side, f.quantity, f.price, f.ts_event) for f in events if isinstance(f, FillExecuted)]
    assert fills == [("BUY", 198, D("101.50"), prints[1].ts_event), ("SELL", 198, D("98.40"), prints[4].ts_event)]
    changes = [(t.change, t.status, t.version) for t in events if isinstance(t, TradeUpdated)]
    assert changes == [("OPENED", "Running", 0), ("CLOSED", "Closed", 1)]
    [row] = run.desk.deal_rows()
    # P&L 198 x (98.40 - 101.50) = -613.80. Charges: $1.00 minimum commission on each order; on the sale
    # (2026-06-10) SEC 31 at $20.60 per million of $19,483.20 = $0.40135 -> $0.41 and FINRA TAF 198 x
    # $0.000195 = $0.03861 -> $0.04: $2.45 in all, net -$616.25, -3.0664 % of the $20,097.00 entry value.
    assert (row.entry_qty, row.exit_qty, row.entry_price, row.exit_price) == (198, 198, D("101.50"), D("98.40"))
    assert (row.pnl, row.charges, row.net_pnl, row.net_pnl_pct) == (D("-613.80"), D("2.45"), D("-616.25"),
                                                                      D("-3.0664"))
    assert (row.status, row.comment) == ("Completed", "stop-loss")
    closed = [t for t in events if isinstance(t, TradeUpdated)][-1]
    assert (closed.net_pnl, closed.comment, closed.exit_price) == (D("-616.25"), "stop-loss", D("98.40"))


def test_a_strategy_without_a_desk_only_decides() -> None:
    config = strategy()
    pipeline = StrategyPipeline(config, CALENDAR, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts))
    run = TradingSession({config.name: pipeline})
    steps = [run.on_trade(p, p.ts_event) for p in (tick("101", et(2026, 6, 10, 9, 31)), tick("102", et(2026, 6, 10,
                                                                                                  9, 32, 1)))]
    assert sum(len(s.decisions.intents) for s in steps) == 1 and all(not s.trading for s in steps)


def test_a_strategy_of_another_account_cannot_join_the_desk() -> None:
    with pytest.raises(TradingDeskError, match="not 'paper-1'"):
        desk_config([strategy(risk={"account": "live-9", "stop_pct": 2})], ACCOUNT, CALENDAR)


def test_an_impossible_print_is_refused_by_the_desk_with_the_reason_and_trading_goes_on() -> None:
    run = session(strategy())
    refused = run.on_trade(tick("0", et(2026, 6, 10, 9, 31, 5)), et(2026, 6, 10, 9, 31, 5))
    assert refused.refused is not None and "price 0" in refused.refused and not refused.trading
    events = []
    for print_ in (tick("101.00", et(2026, 6, 10, 9, 31, 10)), tick("101.50", et(2026, 6, 10, 9, 32, 1))):
        events += run.on_trade(print_, print_.ts_event).trading
    assert [type(e).__name__ for e in events].count("FillExecuted") == 1


def test_a_settings_change_closes_a_day_ahead_for_the_strategies_and_the_desk_alike() -> None:
    config = strategy()
    in_force = CalendarInForce(CALENDAR)
    pipeline = StrategyPipeline(config, in_force.calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    run = TradingSession({config.name: pipeline}, TradingDesk(desk_config([config], ACCOUNT, in_force.calendar)),
                         settings=in_force)
    history = SettingsHistory()
    made = et(2026, 6, 10, 10, 0)
    closed = UniversalSettings(capital=D(50_000), extra_closed_dates=(dt.date(2026, 6, 11),))
    run.on_settings_change(history.next_change(closed, ts_event=made, ts_init=made, reason="office closed"))
    assert not run.desk.config.days.is_business_day(dt.date(2026, 6, 11))
    assert run.desk.config.days.last_n(dt.date(2026, 6, 12), 2) == (dt.date(2026, 6, 10), dt.date(2026, 6, 12))
    # The strategy still signals on the closed day (a fact of its rule); the risk stage refuses the entry, where
    # a session without the change accepts it.
    prints = (tick("101.00", et(2026, 6, 11, 9, 31, 10)), tick("101.00", et(2026, 6, 11, 9, 32, 10)))
    decided = {}
    for name, other in (("changed", run), ("unchanged", session(config))):
        events = [e for print_ in prints for e in other.on_trade(print_, print_.ts_event).trading]
        [decided[name]] = [(e.outcome, e.ts_event, e.reasons[:1]) for e in events if isinstance(e, RiskDecisionMade)]
    assert decided["changed"] == ("REJECT", et(2026, 6, 11, 9, 32),
                                  ("trading_day: 2026-06-11 is not a trading day of the calendar in force: no entry",))
    assert decided["unchanged"][:2] == ("ACCEPT", et(2026, 6, 11, 9, 32))
    # The same version again cannot follow: refused, nothing changed.
    with pytest.raises(SettingsError):
        run.on_settings_change(history.next_change(closed, ts_event=made, ts_init=made, reason="office closed"))
    assert len(in_force.history.versions) == 1


def test_a_session_without_the_calendar_in_force_refuses_a_settings_change() -> None:
    history = SettingsHistory()
    change = history.next_change(UniversalSettings(capital=D(1)), ts_event=1, ts_init=1, reason="x")
    with pytest.raises(TradingDeskError, match="CalendarInForce"):
        session(strategy()).on_settings_change(change)


def test_a_daily_strategy_evaluates_at_the_early_close_of_a_half_day_the_settings_add() -> None:
    config = strategy(timeframe="1d", interval="1d", type="positional")
    in_force = CalendarInForce(CALENDAR)
    pipeline = StrategyPipeline(config, in_force.calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    run = TradingSession({config.name: pipeline}, settings=in_force)
    assert et(2026, 6, 12, 16, 0) in pipeline.engine.clock.closes
    history = SettingsHistory()
    made = et(2026, 6, 10, 10, 0)
    half = UniversalSettings(capital=D(50_000), extra_half_days=(dt.date(2026, 6, 12),))
    run.on_settings_change(history.next_change(half, ts_event=made, ts_init=made, reason="half-day"))
    closes = pipeline.engine.clock.closes
    assert et(2026, 6, 12, 13, 0) in closes and et(2026, 6, 12, 16, 0) not in closes
    assert et(2026, 6, 11, 16, 0) in closes

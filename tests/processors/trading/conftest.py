"""Helpers of the trading-desk tests: New York instants, accounts, prints and the desk the scripts run on.

The base account: $50,000, max_loss_per_trade $500, max_loss_per_trade_pct 0.8 % (so $400 on $50,000), max open
risk $2,000, drawdown (RM-Max-sp%) 3 %, 5 active trades, 10 trades a day, Position% and Capital Utilized% 100,
Reg-T levels 50/25; legacy PDT until 2026-06-03, intraday margin from 2026-06-04.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from processors.calendar import ET, build_nyse_calendar
from processors.risk import Account, RegimePeriod, RiskLimits, TradingDays

D = Decimal
S = 1_000_000_000
CALENDAR = build_nyse_calendar(dt.date(2026, 1, 1), dt.date(2027, 12, 31))
DAYS = TradingDays.of(CALENDAR)

LIMITS = RiskLimits(max_loss_per_trade=D(500), max_loss_per_trade_pct=D("0.8"), max_open_risk=D(2000),
                    max_drawdown_pct=D(3), max_active_trades=5, max_trades_per_day=10)
CUT_OVER = (RegimePeriod(dt.date(2026, 1, 1), "legacy_pdt"), RegimePeriod(dt.date(2026, 6, 4), "intraday_margin"))


def et(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0, ms: int = 0) -> int:
    """New York wall time as UTC nanoseconds."""
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=ET).timestamp()) * S + ms * 1_000_000


def account(account_id: str = "acct-1", regimes=CUT_OVER, capital: int | str = 50_000, **limits) -> Account:
    return Account(account_id=account_id, broker="paper", starting_capital=D(capital), regimes=regimes,
                   limits=replace(LIMITS, **limits))


def cash_account(account_id: str = "cash-1", **limits) -> Account:
    return account(account_id, regimes=(RegimePeriod(dt.date(2026, 1, 1), "cash"),), **limits)


# == the desk ======================================================================================
from processors.model import OrderIntentCreated, TradeTick  # noqa: E402
from processors.risk import StopPercent  # noqa: E402
from processors.trades import StrategySettings, TradeManagerConfig  # noqa: E402
from processors.trading import DeskConfig, StrategyTrading, TradingDesk  # noqa: E402


def config(accounts=None, strategies=None, tm_strategies=None, **extra) -> DeskConfig:
    """One account acct-1 and one strategy, breakout, with a 2 % stop and no target, intraday."""
    return DeskConfig(
        accounts=accounts or [account()],
        strategies=strategies or {"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(D(2)))},
        trade_manager=TradeManagerConfig(calendar=CALENDAR, strategies=tm_strategies or {}),
        days=DAYS, **extra)


def desk(**kwargs) -> TradingDesk:
    return TradingDesk(config(**kwargs))


def intent(ts: int, client_order_id: str = "ts-1", *, strategy: str = "breakout", symbol: str = "XYZ",
           side: str = "BUY", price: str = "100.00", order_type: str = "MARKET", quantity: int = 0,
           limit_price: str | None = None) -> OrderIntentCreated:
    return OrderIntentCreated(
        client_order_id=client_order_id, signal_id=f"sig-{client_order_id}", strategy=strategy, mode="VIRTUAL",
        symbol=symbol, instrument="STK", contract=symbol, side=side, ts_event=ts, ts_init=ts, exchange="SMART",
        order_type=order_type, limit_price=None if limit_price is None else D(limit_price), stop_price=None,
        tick_size=D("0.01"), reference_price=D(price), product="MARGIN", quantity=quantity, multiplier=1)


def tick(price: str, ts: int, symbol: str = "XYZ", size: int = 10_000) -> TradeTick:
    return TradeTick(symbol=symbol, ts_event=ts, ts_init=ts + 1_000, price=D(price), size=size, feed="test")


def kinds(events) -> list[str]:
    """Each event as a short word: decision:<outcome>, order:<event>, fill:<quantity>@<price>."""
    words = []
    for e in events:
        name = type(e).__name__
        if name == "RiskDecisionMade":
            words.append(f"decision:{e.action}:{e.outcome}:{e.quantity}")
        elif name == "OrderStatusChanged":
            words.append(f"order:{e.client_order_id}:{e.event}:{e.sequence}")
        else:
            words.append(f"fill:{e.client_order_id}:{e.quantity}@{e.price}")
    return words

"""Helpers of the risk tests: business days from the NYSE calendar, New York instants, an account, a
snapshot and intents with the figures the hand computations start from.

The base account: max_loss_per_trade $500, max_loss_per_trade_pct 0.8 % (so $400 on $50,000), max open
risk $2,000, drawdown 3 %, 5 active trades, 10 trades a day, Position% 50, Capital Utilized% 100, Reg-T
levels 50/25, intraday margin from 2026-06-04 (legacy PDT before).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from processors.calendar import ET, build_nyse_calendar
from processors.risk import (
    Account,
    AccountSnapshot,
    Action,
    ExitReason,
    RegimePeriod,
    RiskIntent,
    RiskLimits,
    StopPercent,
    TradingDays,
)

D = Decimal
S = 1_000_000_000
DAYS = TradingDays.of(build_nyse_calendar(dt.date(2025, 12, 1), dt.date(2027, 12, 31)))

LIMITS = RiskLimits(max_loss_per_trade=D(500), max_loss_per_trade_pct=D("0.8"), max_open_risk=D(2000),
                    max_drawdown_pct=D(3), max_active_trades=5, max_trades_per_day=10, max_position_pct=D(50),
                    max_capital_utilized_pct=D(100))
CUT_OVER = (RegimePeriod(dt.date(2026, 1, 1), "legacy_pdt"), RegimePeriod(dt.date(2026, 6, 4), "intraday_margin"))


def et(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> int:
    """New York wall time as UTC nanoseconds."""
    return int(dt.datetime(year, month, day, hour, minute, tzinfo=ET).timestamp()) * S


def account(regimes=CUT_OVER, **limits) -> Account:
    return Account(account_id="acct-1", broker="paper", starting_capital=D(50_000), regimes=regimes,
                   limits=replace(LIMITS, **limits))


def cash_account(**limits) -> Account:
    return account(regimes=(RegimePeriod(dt.date(2026, 1, 1), "cash"),), **limits)


def snapshot(equity: str | int = 50_000, **fields) -> AccountSnapshot:
    """A flat account with `equity` in cash at the start of the day, unless fields say otherwise."""
    fields.setdefault("cash", D(equity))
    fields.setdefault("start_of_day_equity", D(equity))
    return AccountSnapshot(**fields)


def entry(price: str = "100.00", stop=None, side: str = "BUY", ts: int | None = None, **fields) -> RiskIntent:
    return RiskIntent(intent_id="ts-1", account_id="acct-1", strategy="breakout", symbol=fields.pop("symbol", "SPY"),
                      side=side, action=Action.ENTRY, signal_price=D(price), tick_size=fields.pop("tick", D("0.01")),
                      ts_event=ts if ts is not None else et(2026, 6, 10), stop=stop or StopPercent(D(2)), **fields)


def exit_(quantity: int, side: str = "SELL", symbol: str = "SPY", price: str = "100.00", ts: int | None = None,
          reason: ExitReason = ExitReason.STOP_LOSS) -> RiskIntent:
    return RiskIntent(intent_id="ts-2", account_id="acct-1", strategy="breakout", symbol=symbol, side=side,
                      action=Action.EXIT, signal_price=D(price), tick_size=D("0.01"),
                      ts_event=ts if ts is not None else et(2026, 6, 10), quantity=quantity, exit_reason=reason)

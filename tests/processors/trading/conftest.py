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

"""Helpers of the trade-manager tests: New York instants, an entry fill with the figures the hand computations
start from, and a manager with a given config.

The base trade: T1, a long of 100 SPY for account ACC and strategy breakout, filled at 100.00 with its stop at
98.00 (R = 2.00 a share) and no target, intraday. The sweep interval is 5 s.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from processors.calendar import ET, build_nyse_calendar
from processors.risk import RiskLimits
from processors.trades import (AccountSettings, EntryFilled, ExitFilled, StrategySettings, TradeManager,
                               TradeManagerConfig)

D = Decimal
S = 1_000_000_000
CAL = build_nyse_calendar(dt.date(2026, 11, 2), dt.date(2026, 12, 31))
LIMITS = RiskLimits(max_loss_per_trade=D(500), max_loss_per_trade_pct=D(1), max_open_risk=D(2000),
                    max_drawdown_pct=D(2), max_active_trades=10, max_trades_per_day=20)


def et(year: int, month: int, day: int, hour: int, minute: int, second: int = 0, ns: int = 0) -> int:
    """New York wall time as UTC nanoseconds."""
    return int(dt.datetime(year, month, day, hour, minute, second, tzinfo=ET).timestamp()) * S + ns


T0 = et(2026, 11, 25, 10, 0)        # a normal day (16:00 close); a multiple of 5 s


def at(seconds: float) -> int:
    """T0 + `seconds`."""
    return T0 + int(D(str(seconds)) * S)


def entry(trade_id: str = "T1", *, quantity: int = 100, price: str = "100.00", stop: str = "98.00",
          target: str | None = None, ts: int | None = None, direction: str = "long", account: str = "ACC",
          strategy: str = "breakout", symbol: str = "SPY", **extra: Any) -> EntryFilled:
    return EntryFilled(trade_id=trade_id, account_id=account, strategy=strategy, symbol=symbol, direction=direction,
                       quantity=quantity, price=D(price), stop_price=D(stop),
                       target_price=None if target is None else D(target), ts_event=at(1) if ts is None else ts,
                       **extra)


def exit_fill(request_id: str | None, quantity: int, price: str, ts: int, trade_id: str = "T1",
              **extra: Any) -> ExitFilled:
    return ExitFilled(trade_id=trade_id, quantity=quantity, price=D(price), ts_event=ts, request_id=request_id,
                      **extra)


def manager(*, strategies: dict[str, StrategySettings] | None = None,
            accounts: dict[str, AccountSettings] | None = None, interval_s: int = 5) -> TradeManager:
    return TradeManager(TradeManagerConfig(calendar=CAL, sweep_interval_s=interval_s, strategies=strategies or {},
                                           accounts=accounts or {}))


def prices(m: TradeManager, symbol: str, *points: tuple[float, str]) -> list:
    """Feed (seconds after T0, price) prints; the requests they released, in order."""
    out = []
    for seconds, price in points:
        out += m.on_price(symbol, D(price), at(seconds))
    return out

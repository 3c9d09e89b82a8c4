"""The desk of one account from its strategies' settings: what the backtest, the live runner and the
audit replay build the same way from the same files.

    config = desk_config(strategies, account, calendar)     # strategies: ScannerConfigs with a risk: section

From each strategy's sections (processors.scanner.config.trading):

    risk.account, risk.stop       StrategyTrading.account_id and its initial stop (TM-Isp)
    risk.size_from_risk           true: the quantity comes from the risk budget alone; false: order.quantity
                                  is asked for and the risk decision may resize or reject it
    trade.target_*                TM-IProfit, from the entry's first fill price
    type                          intraday (time-closed, intraday buying power) or positional
    trade.close_*, risk_reduction the trade manager's StrategySettings
    trade.monitor_interval_s      the sweep interval: one per desk, so the smallest of the account's strategies
    charges                       the account's charges model: every strategy of an account must give the same
                                  (fills are charged by the account's broker, not by the strategy)

A strategy of another account, or one without a risk: section, is refused (TradingDeskError naming it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from processors.calendar import MarketCalendar
from processors.charges import ChargesModel
from processors.charges.schedule import Fee, FeeRate, FeeSchedule, packaged_fee_schedule_text, parse_fee_schedule
from processors.risk import Account, TradingDays
from processors.scanner import ScannerConfig
from processors.scanner.config.trading import ChargesSettings
from processors.trades import TradeManagerConfig
from processors.trading.config import DeskConfig, StrategyTrading, TargetAmount, TargetPercent
from processors.trading.errors import TradingDeskError

NO_FEES = FeeSchedule(tuple(FeeRate(fee, dt.date(1900, 1, 1), None, Decimal(0), None, "regulatory fees off")
                            for fee in Fee))
"""A schedule that charges no regulatory fee on any date (a strategy's `charges: regulatory_fees: false`)."""


def charges_model(settings: ChargesSettings) -> ChargesModel:
    schedule = parse_fee_schedule(packaged_fee_schedule_text()) if settings.regulatory_fees else NO_FEES
    return ChargesModel(settings.commission_model(), schedule)


def strategy_trading(config: ScannerConfig) -> StrategyTrading:
    if config.risk is None:
        raise TradingDeskError(f"strategies.{config.name}", "has no risk: section: it trades in no account")
    trade = config.trade
    target = None
    if trade is not None and trade.target_pct is not None:
        target = TargetPercent(trade.target_pct)
    elif trade is not None and trade.target_amount is not None:
        target = TargetAmount(trade.target_amount)
    return StrategyTrading(account_id=config.risk.account, stop=config.risk.stop, target=target,
                           intraday=config.type == "intraday", cap_at_intent_quantity=not config.risk.size_from_risk)


def desk_config(strategies: Sequence[ScannerConfig], account: Account, calendar: MarketCalendar) -> DeskConfig:
    """The desk of `account` trading `strategies` (each with a risk: section naming that account)."""
    if not strategies:
        raise TradingDeskError("strategies", f"account {account.account_id!r}: no strategy trades in it")
    for config in strategies:
        if config.risk is None or config.risk.account != account.account_id:
            named = "no account" if config.risk is None else f"account {config.risk.account!r}"
            raise TradingDeskError(f"strategies.{config.name}", f"trades in {named}, not {account.account_id!r}")
    charges = {config.charges for config in strategies}
    if len(charges) > 1:
        raise TradingDeskError("charges", f"the strategies of account {account.account_id!r} give different charges: "
                                          f"{', '.join(sorted(c.name for c in strategies))} must agree")
    managed = {config.name: config.trade.to_domain() for config in strategies if config.trade is not None}
    interval = min((config.trade.monitor_interval_s for config in strategies if config.trade is not None), default=5)
    return DeskConfig(
        accounts=[account], strategies={config.name: strategy_trading(config) for config in strategies},
        trade_manager=TradeManagerConfig(calendar=calendar, sweep_interval_s=interval, strategies=managed),
        days=TradingDays.of(calendar), charges=charges_model(strategies[0].charges))

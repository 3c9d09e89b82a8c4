"""The trading desk: the risk decision, the paper broker, the charges and the trade manager joined, pure.

    desk = TradingDesk(DeskConfig(accounts=[...], strategies={...}, trade_manager=..., days=...))
    desk.on_intent(intent, ts_init); desk.on_trade(tick); desk.on_bar(bar); desk.advance_to(ts)
    desk.on_exit_signal(strategy, symbol, ts); desk.reset_kill_switch(account_id, reason, ts)
    desk.deal_rows(); TradingDesk.restore(config, desk.snapshot())

The backtest, the live stage and the audit replay all call the desk, so the same inputs give the same
decisions, orders, fills and trades. Pure: no clock, no I/O; times are given with the inputs (int ns UTC).
The modules:

    desk    TradingDesk: the order in which one input's events are emitted, and the choices made (read it first)
    book    AccountBook: one account's AccountSnapshot kept current from fills, prices, trades and the day roll
    config  DeskConfig, StrategyTrading (TM-Isp stop, TM-IProfit target, SS-Type, lot size), TargetPercent,
            TargetAmount
    orders  DeskOrder (the desk's record of an order) and the broker's events as OrderStatusChanged / FillExecuted
    errors  TradingDeskError
"""

from processors.trading.book import AccountBook
from processors.trading.config import DeskConfig, StrategyTrading, TargetAmount, TargetPercent, target_price
from processors.trading.desk import DeskEvent, TradingDesk
from processors.trading.desk_risk import UNASSIGNED
from processors.trading.errors import TradingDeskError
from processors.trading.orders import DeskOrder

__all__ = ["UNASSIGNED", "AccountBook", "DeskConfig", "DeskEvent", "DeskOrder", "StrategyTrading", "TargetAmount",
           "TargetPercent", "TradingDesk", "TradingDeskError", "target_price"]

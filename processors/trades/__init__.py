"""The trade manager: what happens to a trade after its entry (the issue "After a trade").

    manager = TradeManager(TradeManagerConfig(calendar=build_nyse_calendar(...), strategies=..., accounts=...))
    manager.on_entry_fill(EntryFilled(...))           # opens (or adds to) a trade: Running
    manager.on_price("SPY", Decimal("501.25"), ts)    # -> [ExitRequested, ...] from the sweeps due before ts
    manager.on_exit_fill(ExitFilled(...))             # reduces the trade; Closed at zero, with its comment
    manager.advance_to(ts)                            # the watermark: run the sweeps due at or before ts
    manager.snapshot() / TradeManager.restore(config, data)    # plain JSON-able state for a changelog

Pure: no clock, no I/O; every input carries its event time and the sweeps run on event time, at the
multiples of the sweep interval since the epoch, so a replay or a backtest asks for the same exits, with the
same request ids, as the live run did. The modules:

    manager     TradeManager: the sweep (stop, target, risk reduction, kill switch, time close), exit
                signals, fills, progressive P&L, reading, snapshot and restore
    manual      an operator's hand: a manual exit request, the stop or the target moved (decided by the desk first)
    trade       TradeState: one trade's fills, stops, pending requests and integer trigger thresholds
    events      the inputs (EntrySubmitted, EntryFilled, ExitFilled, ExitCancelled, TradeSelector), the output
                (ExitRequested) and the views (TradeView, AccountView, TradeStatus)
    settings    TradeManagerConfig, StrategySettings, AccountSettings, TimeClose, RiskReductionLevel, and the
                glossary of the plan's names (TM-Isp, TM-IProfit, RR-Trigger, Qty-Sell, RM-Max-sp, RM-Max-sp%)
    timeclose   the instant a TimeClose closes trades on a trading day (NYSE calendar, early closes)
    fields      validation and exact price-to-1e-8 conversions;   errors   TradeError

Exit reasons are processors.risk.ExitReason; an ExitRequested becomes an exit order intent for the risk
decision (processors.risk.RiskIntent with action EXIT and the request's reason), which never blocks it.
"""

from processors.trades.errors import TradeError
from processors.trades.events import (AccountView, EntryFilled, EntrySubmitted, ExitCancelled, ExitFilled,
                                      ExitRequested, TradeSelector, TradeStatus, TradeView)
from processors.trades.manager import TradeManager
from processors.trades.manager_state import SNAPSHOT_VERSION
from processors.trades.settings import (DEFAULT_SWEEP_INTERVAL_S, AccountSettings, BreakEven, RiskReductionLevel,
                                        SellFraction, SellShares, StopOffset, StrategySettings, TimeClose,
                                        TradeManagerConfig)

__all__ = [
    "DEFAULT_SWEEP_INTERVAL_S", "SNAPSHOT_VERSION", "AccountSettings", "AccountView", "BreakEven", "EntryFilled",
    "EntrySubmitted", "ExitCancelled", "ExitFilled", "ExitRequested", "RiskReductionLevel", "SellFraction",
    "SellShares", "StopOffset", "StrategySettings", "TimeClose", "TradeError", "TradeManager", "TradeManagerConfig",
    "TradeSelector", "TradeStatus", "TradeView",
]

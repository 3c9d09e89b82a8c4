"""Typed, immutable messages shared by every stage: market data, decisions, trading events, operator changes
and the platform's own state.

Each class mirrors one Avro schema in `schemas/` field for field (a test keeps them equal), so the
schema stays the single source of truth and the codec maps records to these types by name.
Times are integer nanoseconds since the Unix epoch, UTC: `ts_event` is when it happened at the
source, `ts_init` when our object was created. Prices are exact `Decimal`s.

Every name is imported from here (`from processors.model import Bar`); the modules hold one family each:

    market      TradeTick, TradeTickBatch (and its PrintColumns), QuoteTick, Bar; price_e8, price_of_e8,
                plain_decimal
    decisions   SignalGenerated, SignalSuppressed, OrderIntentCreated, RiskDecisionMade, OvernightCoverageChecked
    trading     OrderStatusChanged, FillExecuted, TradeUpdated
    operator    AccountChanged, SettingsChanged, StrategyChanged, TradeActionRequested (with trade_action_id)
    health      DeadLetter, FeedStatusChanged, LatencyMeasured
"""

from processors.model.decisions import (OrderIntentCreated, OvernightCoverageChecked, RiskDecisionMade,
                                        SignalGenerated, SignalSuppressed)
from processors.model.health import DeadLetter, FeedStatusChanged, LatencyMeasured
from processors.model.market import (ID_SEPARATOR, PRICE_E8, Bar, PrintColumns, QuoteTick, TradeTick, TradeTickBatch,
                                     plain_decimal, price_e8, price_of_e8)
from processors.model.operator import (STRATEGY_CHANGES, TRADE_ACTIONS, AccountChanged, SettingsChanged,
                                       StrategyChanged, TradeActionRequested, trade_action_id)
from processors.model.trading import FillExecuted, OrderStatusChanged, TradeUpdated

__all__ = [
    "ID_SEPARATOR", "PRICE_E8", "STRATEGY_CHANGES", "TRADE_ACTIONS", "AccountChanged", "Bar", "DeadLetter",
    "FeedStatusChanged", "FillExecuted", "LatencyMeasured", "OrderIntentCreated", "OrderStatusChanged",
    "OvernightCoverageChecked", "PrintColumns", "QuoteTick", "RiskDecisionMade", "SettingsChanged",
    "SignalGenerated", "SignalSuppressed", "StrategyChanged", "TradeActionRequested", "TradeTick", "TradeTickBatch",
    "TradeUpdated", "plain_decimal", "price_e8", "price_of_e8", "trade_action_id",
]

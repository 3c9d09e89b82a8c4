"""What happened to our orders and trades: an order's changes at the broker, its fills, and each trade as it
stands after a change.

Part of processors.model (see its docstring for what every message shares).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal



@dataclass(frozen=True, slots=True, kw_only=True)
class OrderStatusChanged:
    """A change of one order at the broker, paper or live (schemas/order_status_changed.avsc)."""
    client_order_id: str
    sequence: int
    account_id: str
    strategy: str
    trade_id: str
    event: str
    status: str | None
    ts_event: int
    ts_init: int
    symbol: str
    side: str
    order_type: str
    quantity: int
    broker: str
    filled_quantity: int = 0
    broker_status: str = ""
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trigger_price: Decimal | None = None
    parent_order_id: str | None = None
    oca_group: str | None = None
    operation: str | None = None
    reason: str = ""
    broker_order_id: int | None = None
    broker_perm_id: int | None = None
    broker_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FillExecuted:
    """One execution of an order with its charges (schemas/fill_executed.avsc)."""
    exec_id: str
    client_order_id: str
    account_id: str
    strategy: str
    trade_id: str
    ts_event: int
    ts_init: int
    symbol: str
    side: str
    quantity: int
    price: Decimal
    filled_quantity: int
    leaves_quantity: int
    commission: Decimal
    regulatory_fees: Decimal
    broker: str
    multiplier: int = 1
    broker_perm_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeUpdated:
    """A trade as it stands after a change (schemas/trade_updated.avsc); its newest version is its deals row."""
    trade_id: str
    version: int
    change: str
    account_id: str
    strategy: str
    ss_type: str
    signal_type: str
    symbol: str
    direction: str
    status: str
    ts_event: int
    ts_init: int
    entry_qty: int
    exit_qty: int
    initial_stop: Decimal
    stop_price: Decimal
    pnl: Decimal
    charges: Decimal
    net_pnl: Decimal
    net_pnl_pct: Decimal
    comment: str
    entry_price: Decimal | None = None
    exit_price: Decimal | None = None
    target_price: Decimal | None = None
    opened_ns: int | None = None
    closed_ns: int | None = None

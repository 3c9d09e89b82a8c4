"""What the strategies and the risk stage decided: signals generated and suppressed, order intents, the risk
stage's answer to each intent, and the overnight coverage check.

Part of processors.model (see its docstring for what every message shares).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal



@dataclass(frozen=True, slots=True)
class SignalGenerated:
    signal_id: str
    strategy: str
    symbol: str
    side: str
    ts_event: int
    ts_init: int
    price: Decimal
    reason: str
    rule_values: dict[str, float] = field(default_factory=dict)
    action: str = "ENTRY"


@dataclass(frozen=True, slots=True)
class SignalSuppressed:
    signal_id: str
    strategy: str
    symbol: str
    side: str
    ts_event: int
    ts_init: int
    price: Decimal | None
    rule: str
    suppression: str
    rule_values: dict[str, float] = field(default_factory=dict)
    action: str = "ENTRY"


@dataclass(frozen=True, slots=True)
class OrderIntentCreated:
    client_order_id: str
    signal_id: str
    strategy: str
    mode: str
    symbol: str
    instrument: str
    contract: str
    side: str
    ts_event: int
    ts_init: int
    exchange: str
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    tick_size: Decimal
    reference_price: Decimal
    product: str
    quantity: int
    multiplier: int
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskDecisionMade:
    """The risk stage's answer to an order intent, with every check (parallel `check_*` tuples) and the
    figures behind it; built from a `processors.risk.RiskDecision` by `processors.risk.event`."""
    intent_id: str
    account_id: str
    strategy: str
    symbol: str
    side: str
    action: str
    ts_event: int
    ts_init: int
    regime: str | None
    outcome: str
    quantity: int
    requested_quantity: int | None
    reasons: tuple[str, ...]
    check_names: tuple[str, ...]
    check_values: tuple[Decimal | None, ...]
    check_limits: tuple[Decimal | None, ...]
    check_outcomes: tuple[str, ...]
    check_details: tuple[str, ...]
    check_allowed_quantities: tuple[int | None, ...]
    equity: Decimal | None
    signal_price: Decimal
    stop_price: Decimal | None = None
    unit_risk: Decimal | None = None
    risk_budget: Decimal | None = None
    risk_quantity: int | None = None
    trade_risk: Decimal | None = None
    open_risk_after: Decimal | None = None
    total_risk_pct: Decimal | None = None
    kill_switch_tripped: bool = False
    tripped_kill_switch: bool = False
    kill_switch_reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class OvernightCoverageChecked:
    """Whether the account's positions would be covered overnight, checked before the close
    (schemas/overnight_coverage_checked.avsc)."""
    check_id: str
    account_id: str
    ts_event: int
    ts_init: int
    regime: str
    equity: Decimal
    requirement: Decimal
    excess: Decimal
    positions: int
    uncovered: tuple[str, ...]
    detail: str

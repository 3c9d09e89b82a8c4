"""The answer to a risk intent: accept, resize or reject, the quantity, and every check behind it.

    outcome        accept   the quantity asked for (the strategy's, or the risk-sized one when it
                            asked for none; for an exit, the quantity to close)
                   resize   less than asked, at least one lot: a cap bound (the checks say which)
                   reject   nothing; `reasons` holds the failed checks' details
    quantity       units to order (0 when rejected), whole lots
    checks         every check's name, value, limit, outcome and detail, in the order they were made
    figures        for entries: the initial stop on the grid (after any adjustment), the unit risk,
                   the risk budget, the risk-sized quantity, the trade's risk (quantity × unit risk), the
                   open risk after it and that as % of equity (`total_risk_pct`)
    kill_switch    the switch after the decision; `tripped_kill_switch` is True when this decision
                   tripped it (the stage then publishes the trip and the trade manager closes the trades)

A decision is a pure function of (intent, account, snapshot, business days, event time): the same
inputs give the same decision, in a replay as live.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum

from processors.risk.account import Regime
from processors.risk.checks import Check
from processors.risk.intent import Action
from processors.risk.killswitch import KillSwitch


class Outcome(str, Enum):
    ACCEPT = "accept"
    RESIZE = "resize"
    REJECT = "reject"


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskDecision:
    intent_id: str
    account_id: str
    strategy: str
    symbol: str
    side: str
    action: Action
    ts_event: int
    regime: Regime | None
    outcome: Outcome
    quantity: int
    requested_quantity: int | None
    checks: tuple[Check, ...]
    reasons: tuple[str, ...]
    equity: Decimal | None
    signal_price: Decimal
    stop_price: Decimal | None = None
    unit_risk: Decimal | None = None
    risk_budget: Decimal | None = None
    risk_quantity: int | None = None
    trade_risk: Decimal | None = None
    open_risk_after: Decimal | None = None
    total_risk_pct: Decimal | None = None
    kill_switch: KillSwitch | None = None
    tripped_kill_switch: bool = False

    @property
    def accepted(self) -> bool:
        """True for accept and resize: an order of `quantity` may be sent."""
        return self.outcome is not Outcome.REJECT

    def check(self, name: str) -> Check:
        """The check called `name` (KeyError when the decision made none)."""
        for item in self.checks:
            if item.name == name:
                return item
        raise KeyError(name)


def outcome_of(quantity: int, asked: int, checks: tuple[Check, ...]) -> Outcome:
    if quantity <= 0 or any(check.failed for check in checks):
        return Outcome.REJECT
    return Outcome.ACCEPT if quantity >= asked else Outcome.RESIZE


def reasons_of(checks: tuple[Check, ...]) -> tuple[str, ...]:
    return tuple(f"{check.name}: {check.detail}" for check in checks if check.failed)

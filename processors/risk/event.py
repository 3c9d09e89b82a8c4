"""A `RiskDecision` as the event the risk stage publishes (`RiskDecisionMade`, topic `risk.decisions`).

    event = decision_event(decision, ts_init)

The checks become parallel tuples (`check_names[i]`, `check_values[i]`, ...), in the order they were
made. Money, prices and percentages travel as Avro decimals with 8 fractional digits: a figure with
more (a percentage such as 100/3) is rounded half-even to 8 digits in the event; the decision itself
was made on the exact figure, and the event says what it was to the hundred-millionth. Integer
figures (counts, quantities) are exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from processors.model import RiskDecisionMade
from processors.risk.decision import RiskDecision

EVENT_QUANTUM = Decimal("0.00000001")  # the schemas' decimal scale (8)
EVENT_MAX = Decimal(10) ** 16  # precision 24 with scale 8: 16 integer digits


def event_decimal(value: Decimal | int | None) -> Decimal | None:
    """`value` on the events' decimal grid; ValueError if it does not fit the schema's precision."""
    if value is None:
        return None
    quantized = Decimal(value).quantize(EVENT_QUANTUM, rounding=ROUND_HALF_EVEN)
    if abs(quantized) >= EVENT_MAX:
        raise ValueError(f"{value} has more than 16 integer digits: it does not fit an event decimal")
    return quantized


def decision_event(decision: RiskDecision, ts_init: int) -> RiskDecisionMade:
    """The published form of `decision`; `ts_init` is when the event is built (metadata only)."""
    checks = decision.checks
    switch = decision.kill_switch
    return RiskDecisionMade(
        intent_id=decision.intent_id, account_id=decision.account_id, strategy=decision.strategy,
        symbol=decision.symbol, side=decision.side, action=decision.action.value, ts_event=decision.ts_event,
        ts_init=ts_init, regime=None if decision.regime is None else decision.regime.value,
        outcome=decision.outcome.name, quantity=decision.quantity, requested_quantity=decision.requested_quantity,
        reasons=tuple(decision.reasons),
        check_names=tuple(check.name for check in checks),
        check_values=tuple(event_decimal(check.value) for check in checks),
        check_limits=tuple(event_decimal(check.limit) for check in checks),
        check_outcomes=tuple(check.outcome.value for check in checks),
        check_details=tuple(check.detail for check in checks),
        check_allowed_quantities=tuple(check.allowed_quantity for check in checks),
        equity=event_decimal(decision.equity), signal_price=event_decimal(decision.signal_price),
        stop_price=event_decimal(decision.stop_price), unit_risk=event_decimal(decision.unit_risk),
        risk_budget=event_decimal(decision.risk_budget), risk_quantity=decision.risk_quantity,
        trade_risk=event_decimal(decision.trade_risk), open_risk_after=event_decimal(decision.open_risk_after),
        total_risk_pct=event_decimal(decision.total_risk_pct),
        kill_switch_tripped=bool(switch and switch.tripped), tripped_kill_switch=decision.tripped_kill_switch,
        kill_switch_reason=switch.reason if switch else "")

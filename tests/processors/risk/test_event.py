"""The published form of a decision: every check in order, figures exact to the schemas' 8 decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processors.risk import decide
from processors.risk.event import decision_event, event_decimal

from .conftest import DAYS, account, entry, et, snapshot

D = Decimal


def test_an_entry_decision_becomes_its_event_with_every_check_in_order() -> None:
    decision = decide(entry(price="100.00"), account(), snapshot(50_000), DAYS, et(2026, 6, 10))
    event = decision_event(decision, ts_init=123)
    # Budget: min(RM-Max-sp-per-trade $500, 0.8% of $50,000 = $400) = $400; stop 2% under $100 = $98.00,
    # so $2.00 per share and floor(400 / 2) = 200 shares.
    assert (event.outcome, event.quantity, event.risk_quantity) == ("ACCEPT", 200, 200)
    assert (event.stop_price, event.unit_risk, event.risk_budget, event.trade_risk) == (D("98"), D("2"), D("400"),
                                                                                        D("400"))
    assert (event.action, event.regime, event.ts_event, event.ts_init) == ("entry", "intraday_margin",
                                                                            et(2026, 6, 10), 123)
    assert event.check_names == tuple(check.name for check in decision.checks)
    assert event.check_outcomes == tuple(check.outcome.value for check in decision.checks)
    assert event.check_values == tuple(check.value for check in decision.checks)
    assert len(event.check_limits) == len(event.check_details) == len(event.check_allowed_quantities) \
        == len(decision.checks)
    assert event.reasons == () and not event.kill_switch_tripped


def test_a_rejection_carries_its_reasons() -> None:
    decision = decide(entry(symbol="SPY", quantity=-5), account(), snapshot(), DAYS, et(2026, 6, 10))
    event = decision_event(decision, ts_init=1)
    assert event.outcome == "REJECT" and event.quantity == 0
    assert event.reasons and "quantity" in event.reasons[0]


def test_figures_are_rounded_half_even_to_eight_decimals_and_bounded() -> None:
    assert event_decimal(D(100) / D(3)) == D("33.33333333")
    assert event_decimal(D("0.000000125")) == D("0.00000012")
    assert event_decimal(None) is None
    with pytest.raises(ValueError, match="16 integer digits"):
        event_decimal(D(10) ** 16)

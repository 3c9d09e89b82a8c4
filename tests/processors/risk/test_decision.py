"""The decision's shape: deterministic, immutable, every check explained; bad input answered, never a crash."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from processors.model import OrderIntentCreated
from processors.risk import (
    Action,
    CheckOutcome,
    Outcome,
    RiskConfigError,
    RiskIntent,
    StopPercent,
    decide,
    reject_unknown_account,
)

from .conftest import DAYS, account, entry, et, snapshot

D = Decimal


def test_the_same_inputs_give_the_same_decision() -> None:
    intent, acct, snap = entry(), account(), snapshot()
    first = decide(intent, acct, snap, DAYS, intent.ts_event)
    assert decide(intent, acct, snap, DAYS, intent.ts_event) == first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.quantity = 1  # type: ignore[misc]


def test_every_check_has_a_name_figures_and_an_outcome() -> None:
    decision = decide(entry(), account(), snapshot(), DAYS, et(2026, 6, 10))
    names = [check.name for check in decision.checks]
    assert names == ["equity", "kill_switch", "max_drawdown_pct", "active_trades", "trades_per_day", "netting",
                     "day_trades",
                     "intraday_margin", "initial_stop", "stop_within_limits", "max_loss_per_trade", "max_open_risk",
                     "buying_power", "max_position_pct", "max_capital_utilized_pct"]
    assert all(isinstance(check.outcome, CheckOutcome) and check.detail for check in decision.checks)
    sizing = decision.check("max_loss_per_trade")
    assert (sizing.value, sizing.limit, sizing.allowed_quantity) == (D(400), D(400), 200)
    with pytest.raises(KeyError):
        decision.check("nothing")


def test_a_rejected_entry_still_shows_what_would_have_been_sized() -> None:
    decision = decide(entry(), account(max_trades_per_day=1), snapshot(trades_today=1), DAYS, et(2026, 6, 10))
    assert decision.outcome is Outcome.REJECT and decision.quantity == 0
    assert decision.risk_quantity == 200 and decision.trade_risk == 0
    assert decision.reasons == ("trades_per_day: 1 trades opened today + this one",)


@pytest.mark.parametrize(("fields", "words"), [
    ({"quantity": -5}, "quantity must be at least 1"),
    ({"signal_price": D(0)}, "signal_price must be above zero"),
    ({"lot_size": 0}, "lot_size must be at least 1"),
])
def test_bad_values_are_rejected_with_the_reason(fields, words) -> None:
    intent = dataclasses.replace(entry(), **fields)
    decision = decide(intent, account(), snapshot(), DAYS, intent.ts_event)
    assert decision.outcome is Outcome.REJECT and words in decision.reasons[0]


def test_an_exit_without_a_quantity_or_reason_is_rejected() -> None:
    intent = RiskIntent(intent_id="x", account_id="acct-1", strategy="s", symbol="SPY", side="SELL",
                        action=Action.EXIT, signal_price=D(100), tick_size=D("0.01"), ts_event=et(2026, 6, 10))
    decision = decide(intent, account(), snapshot(), DAYS, intent.ts_event)
    assert decision.outcome is Outcome.REJECT
    assert "needs a quantity" in decision.reasons[0] and "exit_reason" in decision.reasons[0]


def test_wrong_types_are_errors_naming_the_field() -> None:
    with pytest.raises(RiskConfigError) as error:
        dataclasses.replace(entry(), signal_price=100.0)
    assert error.value.field == "intent.signal_price"
    with pytest.raises(RiskConfigError) as error:
        dataclasses.replace(entry(), side="LONG")
    assert error.value.field == "intent.side"


def test_an_unknown_or_other_account_is_rejected() -> None:
    intent = entry()
    assert reject_unknown_account(intent, intent.ts_event).reasons == ("account: account 'acct-1' is not known",)
    other = dataclasses.replace(intent, account_id="acct-2")
    decision = decide(other, account(), snapshot(), DAYS, other.ts_event)
    assert decision.outcome is Outcome.REJECT and decision.check("account").failed


def test_an_order_intent_becomes_a_risk_intent() -> None:
    order = OrderIntentCreated(
        client_order_id="ts-abc", signal_id="sig", strategy="breakout", mode="VIRTUAL", symbol="SPY",
        instrument="STOCK", contract="SPY", side="BUY", ts_event=et(2026, 6, 10), ts_init=0, exchange="SMART",
        order_type="MARKET", limit_price=None, stop_price=None, tick_size=D("0.01"), reference_price=D("100.00"),
        product="MIS", quantity=100, multiplier=1)
    intent = RiskIntent.of_order_intent(order, account_id="acct-1", action="entry", stop=StopPercent(D(2)))
    assert (intent.intent_id, intent.signal_price, intent.action, intent.quantity) == ("ts-abc", D(100), Action.ENTRY,
                                                                                      None)
    assert decide(intent, account(), snapshot(), DAYS, intent.ts_event).quantity == 200

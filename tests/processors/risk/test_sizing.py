"""Sizing from risk and its caps, against figures worked out by hand; invariants by hypothesis."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.risk import (
    CheckOutcome,
    OpenTrade,
    Outcome,
    Position,
    StopAmount,
    StopBreachPolicy,
    StopPercent,
    StopPrice,
    decide,
)
from processors.risk.sizing import in_lots, risk_quantity
from processors.risk.stops import initial_stop, tighten_stop

from .conftest import DAYS, account, entry, et, snapshot

D = Decimal
TS = et(2026, 6, 10)


def run(intent, acct=None, snap=None):
    return decide(intent, acct or account(), snap or snapshot(), DAYS, intent.ts_event)


def test_quantity_is_the_budget_over_the_risk_per_share() -> None:
    # budget = min($500, 0.8 % of $50,000 = $400) = $400; stop 2 % under 100.00 = 98.00; risk 2.00 a share;
    # 400 / 2 = 200 shares, $20,000 = 40 % of equity (under Position% 50), intraday buying power $200,000.
    decision = run(entry("100.00", StopPercent(D(2))))
    assert decision.outcome is Outcome.ACCEPT
    assert decision.quantity == 200
    assert (decision.stop_price, decision.unit_risk, decision.risk_budget) == (D("98.00"), D("2.00"), D(400))
    assert decision.risk_quantity == 200
    assert decision.trade_risk == D(400) and decision.open_risk_after == D(400)
    assert decision.total_risk_pct == D("0.8")
    assert decision.check("max_position_pct").value == D(40)
    assert decision.check("buying_power").limit == D(200_000)
    assert decision.reasons == ()


def test_the_dollar_limit_is_the_budget_when_it_is_smaller() -> None:
    # 0.8 % of $100,000 = $800 > $500: the budget is $500, 250 shares at 2.00 a share.
    decision = run(entry("100.00", StopPercent(D(2))), snap=snapshot(100_000))
    assert decision.risk_budget == D(500) and decision.quantity == 250


@pytest.mark.parametrize(("side", "price", "spec", "stop", "quantity"), [
    ("BUY", "100.03", StopPercent(D("1.5")), "98.52", 264),    # 98.52955 down; 400 / 1.51 = 264.9
    ("SELL", "100.03", StopPercent(D("1.5")), "101.54", 264),  # 101.53045 up; 400 / 1.51
    ("BUY", "100.00", StopAmount(D("0.995")), "99.00", 400),   # 99.005 down; 400 / 1.00
    ("BUY", "100.00", StopPrice(D("97.456"), "swing_low(SPY, 5m)"), "97.45", 156),  # 400 / 2.55 = 156.9
    ("SELL", "100.00", StopPrice(D("102.001"), "swing_high(SPY, 5m)"), "102.01", 199),  # 400 / 2.01 = 199.004
])
def test_the_stop_rounds_to_the_grid_away_from_the_price(side, price, spec, stop, quantity) -> None:
    decision = run(entry(price, spec, side=side), acct=account(max_position_pct=D(100)))
    assert decision.stop_price == D(stop)
    assert decision.quantity == quantity
    assert decision.quantity * decision.unit_risk <= decision.risk_budget


@pytest.mark.parametrize(("side", "spec", "words"), [
    ("BUY", StopPrice(D("101.00")), "must be below the price"),
    ("BUY", StopPrice(D("100.00")), "must be below the price"),
    ("SELL", StopPrice(D("99.00")), "must be above the price"),
    ("BUY", StopPercent(D(100)), "must be above zero"),
])
def test_a_stop_on_the_wrong_side_is_rejected_with_the_reason(side, spec, words) -> None:
    decision = run(entry("100.00", spec, side=side))
    assert decision.outcome is Outcome.REJECT and decision.quantity == 0
    assert decision.check("initial_stop").outcome is CheckOutcome.FAILED
    assert any(words in reason for reason in decision.reasons)


def test_quantities_are_whole_lots() -> None:
    # 400 / 1.51 = 264.9 shares: in lots of 100, 200.
    decision = run(entry("100.03", StopPercent(D("1.5")), lot_size=100), acct=account(max_position_pct=D(100)))
    assert decision.quantity == 200 and decision.risk_quantity == 200


def test_position_pct_caps_the_quantity() -> None:
    # Position% 25 of $50,000 = $12,500 = 125 shares at 100.00, fewer than the 200 the risk allows.
    decision = run(entry("100.00"), acct=account(max_position_pct=D(25)))
    assert decision.outcome is Outcome.RESIZE and decision.quantity == 125
    cap = decision.check("max_position_pct")
    assert (cap.outcome, cap.allowed_quantity, cap.value, cap.limit) == (CheckOutcome.CAPPED, 125, D(25), D(25))
    assert decision.check("max_loss_per_trade").outcome is CheckOutcome.PASSED


def test_position_pct_counts_the_shares_already_held() -> None:
    # 50 SPY held: Position% 25 = 125 shares, 75 left.
    long = Position(symbol="SPY", quantity=50, last_price=D(100), reference_price=D(100), opened_ns=TS)
    snap = snapshot(cash=D(45_000), start_of_day_equity=D(50_000), positions=(long,))
    assert run(entry("100.00"), account(max_position_pct=D(25)), snap).quantity == 75


def test_an_entry_against_a_position_or_a_trade_on_the_other_side_is_refused_positions_are_netted() -> None:
    # A buy against a short of 50 would cover it rather than open a trade (and the short trade's exit could then
    # not be placed: the account would be net long): refused, saying what is held.
    short = Position(symbol="SPY", quantity=-50, last_price=D(100), reference_price=D(100), opened_ns=TS)
    snap = snapshot(cash=D(55_000), start_of_day_equity=D(50_000), positions=(short,))
    decision = run(entry("100.00"), account(max_position_pct=D(25)), snap)
    assert decision.outcome is Outcome.REJECT and decision.quantity == 0
    netting = decision.check("netting")
    assert (netting.outcome, netting.value) == (CheckOutcome.FAILED, D(-50))
    assert "holds -50 SPY and 0 short trades" in netting.detail
    # a short entry still working (nothing held yet) refuses a long entry too; one in another symbol does not
    working = OpenTrade(trade_id="w", symbol="SPY", side="SELL", quantity=10, entry_price=D(100),
                        stop_price=D(102), opened_ns=TS)
    decision = run(entry("100.00"), snap=snapshot(open_trades=(working,)))
    assert decision.check("netting").outcome is CheckOutcome.FAILED and decision.outcome is Outcome.REJECT
    elsewhere = OpenTrade(trade_id="w", symbol="QQQ", side="SELL", quantity=10, entry_price=D(100),
                          stop_price=D(102), opened_ns=TS)
    decision = run(entry("100.00"), snap=snapshot(open_trades=(elsewhere,)))
    assert decision.check("netting").outcome is CheckOutcome.PASSED and decision.quantity == 200


def test_capital_utilized_pct_counts_every_position() -> None:
    # $30,000 of QQQ held, Capital Utilized% 100 of $50,000: $20,000 left = 200 shares; 80 % leaves $10,000 = 100.
    held = Position(symbol="QQQ", quantity=60, last_price=D(500), reference_price=D(500), opened_ns=TS)
    snap = snapshot(cash=D(20_000), start_of_day_equity=D(50_000), positions=(held,))
    assert run(entry("100.00"), snap=snap).quantity == 200
    decision = run(entry("100.00"), account(max_capital_utilized_pct=D(80)), snap)
    assert decision.quantity == 100 and decision.outcome is Outcome.RESIZE
    assert decision.check("max_capital_utilized_pct").value == D(80)


def test_the_strategys_own_quantity_is_an_upper_bound() -> None:
    assert run(entry("100.00", quantity=150)).outcome is Outcome.ACCEPT
    assert run(entry("100.00", quantity=150)).quantity == 150
    decision = run(entry("100.00", quantity=300))   # the risk allows 200
    assert decision.outcome is Outcome.RESIZE and decision.quantity == 200
    assert decision.check("max_loss_per_trade").outcome is CheckOutcome.CAPPED


def test_max_open_risk_caps_then_refuses() -> None:
    # Open risk (50 − 48) × 900 = $1,800 of $2,000: $200 left = 100 shares at 2.00 a share.
    trade = OpenTrade(trade_id="t1", symbol="QQQ", side="BUY", quantity=900, entry_price=D(50), stop_price=D(48),
                      opened_ns=TS)
    held = Position(symbol="QQQ", quantity=900, last_price=D(50), reference_price=D(50), opened_ns=TS)
    snap = snapshot(cash=D(5_000), start_of_day_equity=D(50_000), positions=(held,), open_trades=(trade,))
    decision = run(entry("100.00"), acct=account(max_capital_utilized_pct=D(400)), snap=snap)
    assert decision.outcome is Outcome.RESIZE and decision.quantity == 100
    assert decision.check("max_open_risk").outcome is CheckOutcome.CAPPED
    assert decision.open_risk_after == D(2_000) and decision.total_risk_pct == D(4)
    full = OpenTrade(trade_id="t1", symbol="QQQ", side="BUY", quantity=1000, entry_price=D(50), stop_price=D(48),
                     opened_ns=TS)
    decision = run(entry("100.00"), acct=account(max_capital_utilized_pct=D(400)),
                   snap=snapshot(open_trades=(full,)))
    assert decision.outcome is Outcome.REJECT
    assert decision.check("max_open_risk").outcome is CheckOutcome.FAILED


def test_a_trade_whose_stop_is_at_break_even_has_no_open_risk() -> None:
    trade = OpenTrade(trade_id="t1", symbol="QQQ", side="SELL", quantity=1000, entry_price=D(50),
                      stop_price=D(49), opened_ns=TS)
    assert trade.risk == 0
    assert run(entry("100.00"), snap=snapshot(open_trades=(trade,))).quantity == 200


@pytest.mark.parametrize("policy", [StopBreachPolicy.REJECT, StopBreachPolicy.ADJUST])
def test_a_stop_too_far_for_one_lot_is_rejected_or_adjusted_as_configured(policy) -> None:
    # Lots of 100, stop 95.00: one lot risks $500 > the $400 budget. Adjust: 400 / 100 = 4.00 a share, stop 96.00.
    decision = run(entry("100.00", StopPrice(D(95)), lot_size=100), account(stop_breach_policy=policy))
    check = decision.check("stop_within_limits")
    if policy is StopBreachPolicy.REJECT:
        assert decision.outcome is Outcome.REJECT and check.outcome is CheckOutcome.FAILED
        assert "reject" in check.detail
    else:
        assert decision.outcome is Outcome.ACCEPT and check.outcome is CheckOutcome.ADJUSTED
        assert (decision.stop_price, decision.quantity, decision.trade_risk) == (D("96.00"), 100, D(400))


def test_an_adjusted_stop_rounds_towards_the_price_and_is_refused_inside_a_tick() -> None:
    assert tighten_stop("BUY", D("100.00"), D("3.337"), D("0.01")) == D("96.67")
    assert tighten_stop("SELL", D("100.00"), D("3.337"), D("0.01")) == D("103.33")
    assert tighten_stop("BUY", D("100.00"), D("0.004"), D("0.01")) is None


@settings(max_examples=300, deadline=None)
@given(budget=st.decimals(min_value=0, max_value=100_000, places=2),
       unit=st.decimals(min_value=D("0.0001"), max_value=1_000, places=4),
       lot=st.sampled_from([1, 10, 100]))
def test_risk_quantity_is_the_most_whole_lots_within_the_budget(budget, unit, lot) -> None:
    quantity = risk_quantity(budget, unit, lot)
    assert quantity >= 0 and quantity % lot == 0
    assert quantity * unit <= budget
    assert (quantity + lot) * unit > budget


@settings(max_examples=300, deadline=None)
@given(price=st.decimals(min_value=1, max_value=2_000, places=2),
       stop_pct=st.decimals(min_value=D("0.01"), max_value=50, places=2),
       equity=st.decimals(min_value=1_000, max_value=2_000_000, places=2),
       per_trade=st.decimals(min_value=1, max_value=10_000, places=2),
       lot=st.sampled_from([1, 5, 100]),
       side=st.sampled_from(["BUY", "SELL"]),
       policy=st.sampled_from(list(StopBreachPolicy)))
def test_a_decided_entry_never_risks_more_than_its_budget(price, stop_pct, equity, per_trade, lot, side,
                                                          policy) -> None:
    acct = account(max_loss_per_trade=per_trade, max_position_pct=D(400), max_capital_utilized_pct=D(400),
                   stop_breach_policy=policy)
    decision = run(entry(str(price), StopPercent(stop_pct), side=side, lot_size=lot), acct, snapshot(str(equity)))
    assert decision.quantity >= 0 and decision.quantity % lot == 0
    if decision.stop_price is not None:
        assert decision.stop_price % D("0.01") == 0
        assert (decision.stop_price < price) if side == "BUY" else (decision.stop_price > price)
        assert decision.quantity * decision.unit_risk <= decision.risk_budget
        assert decision.trade_risk <= min(per_trade, equity * D("0.8") / 100)
    if decision.outcome is Outcome.REJECT:
        assert decision.quantity == 0 and decision.reasons


def test_initial_stop_is_a_check_with_its_figures() -> None:
    stop, check = initial_stop("BUY", D("100.03"), StopPercent(D("1.5")), D("0.01"))
    assert stop == D("98.52") and (check.value, check.limit) == (D("98.52"), D("100.03"))
    assert "1.5 % of the price" in check.detail


def test_in_lots_is_never_negative() -> None:
    assert in_lots(-5, 1) == 0 and in_lots(250, 100) == 200

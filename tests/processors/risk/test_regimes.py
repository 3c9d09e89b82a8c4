"""The regimes: legacy PDT's day-trade count on NYSE business days, the intraday margin standard, cash
accounts with T+1 settlement and good-faith violations; hand-computed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.risk import (
    CashFill,
    CashLedger,
    CheckOutcome,
    Lot,
    OpenTrade,
    Outcome,
    PendingSettlement,
    Position,
    RegimePeriod,
    RoundTrip,
    StopAmount,
    decide,
)
from processors.risk.pdt import day_trades_in_window
from processors.risk.settlement import fold_ledger, settlement_date

from .conftest import DAYS, account, cash_account, entry, et, exit_, snapshot

D = Decimal


def day_trades(*days: tuple[int, int]) -> tuple[RoundTrip, ...]:
    return tuple(RoundTrip("IWM", et(2026, month, day, 10), et(2026, month, day, 11)) for month, day in days)


THIS_WEEK = day_trades((5, 11), (5, 12), (5, 13))          # Monday to Wednesday before Thursday 2026-05-14
SAME_WEEK_IN_JUNE = day_trades((6, 8), (6, 9), (6, 10))    # after the 2026-06-04 cut-over


def run(intent, snap, acct=None):
    return decide(intent, acct or account(max_position_pct=D(400), max_capital_utilized_pct=D(400)), snap, DAYS,
                  intent.ts_event)


def test_the_fourth_day_trade_in_five_business_days_is_refused_under_legacy_pdt_at_20000() -> None:
    decision = run(entry(ts=et(2026, 5, 14, 10)), snapshot(20_000, round_trips=THIS_WEEK))
    assert decision.regime.value == "legacy_pdt"
    assert decision.outcome is Outcome.REJECT
    check = decision.check("day_trades")
    assert (check.value, check.limit, check.outcome) == (D(3), D(3), CheckOutcome.FAILED)
    assert "day trade 4" in check.detail


def test_the_fourth_day_trade_is_allowed_under_legacy_pdt_at_30000() -> None:
    decision = run(entry(ts=et(2026, 5, 14, 10)), snapshot(30_000, round_trips=THIS_WEEK))
    assert decision.outcome is Outcome.ACCEPT
    assert decision.check("day_trades").outcome is CheckOutcome.PASSED


def test_the_fourth_day_trade_is_allowed_under_intraday_margin_at_20000() -> None:
    # The same account after its cut-over on 2026-06-04, the same pattern on Thursday 2026-06-11.
    decision = run(entry(ts=et(2026, 6, 11, 10)), snapshot(20_000, round_trips=SAME_WEEK_IN_JUNE))
    assert decision.regime.value == "intraday_margin"
    assert decision.outcome is Outcome.ACCEPT
    assert decision.check("day_trades").outcome is CheckOutcome.NOT_APPLICABLE


def test_two_day_trades_and_one_open_trade_from_today_leave_no_room() -> None:
    opened = OpenTrade(trade_id="t1", symbol="QQQ", side="BUY", quantity=10, entry_price=D(50), stop_price=D(49),
                       opened_ns=et(2026, 5, 14, 9, 40))
    decision = run(entry(ts=et(2026, 5, 14, 10)), snapshot(20_000, round_trips=THIS_WEEK[:2], open_trades=(opened,)))
    assert decision.outcome is Outcome.REJECT and decision.check("day_trades").value == D(3)
    assert run(entry(ts=et(2026, 5, 14, 10)), snapshot(20_000, round_trips=THIS_WEEK[:2])).accepted


def test_the_window_counts_nyse_business_days() -> None:
    # Friday 2026-05-29: Memorial Day (05-25) is not a business day, so the 5 days are 05-22 and 05-26..29.
    assert DAYS.last_n(dt.date(2026, 5, 29), 5) == tuple(dt.date(2026, 5, d) for d in (22, 26, 27, 28, 29))
    snap = snapshot(20_000, round_trips=day_trades((5, 21), (5, 22), (5, 26), (5, 27)))
    assert day_trades_in_window(snap, dt.date(2026, 5, 29), DAYS) == 3      # 05-21 is out
    overnight = RoundTrip("IWM", et(2026, 5, 26, 15), et(2026, 5, 27, 10))  # held overnight: not a day trade
    assert day_trades_in_window(snapshot(20_000, round_trips=(overnight,)), dt.date(2026, 5, 29), DAYS) == 0


def test_reg_t_buying_power_intraday_and_overnight() -> None:
    from processors.risk import MarginLevels, intraday_buying_power, overnight_buying_power

    reg_t = MarginLevels()
    assert overnight_buying_power(D(50_000), (), reg_t) == D(100_000)     # 50 % initial: 2×
    assert intraday_buying_power(D(50_000), (), reg_t) == D(200_000)      # 25 % maintenance: 4×
    held = Position(symbol="QQQ", quantity=80, last_price=D(500), reference_price=D(500), opened_ns=0)  # $40,000
    assert intraday_buying_power(D(50_000), (held,), reg_t) == D(160_000)  # (50,000 − 10,000) × 4
    assert overnight_buying_power(D(50_000), (held,), reg_t) == D(60_000)  # (50,000 − 20,000) × 2
    house = MarginLevels(initial_pct=D(50), maintenance_pct=D(30))
    assert intraday_buying_power(D(50_000), (), house) == D("166666.66")


def bp_entry(ts: int, intraday: bool = True):
    # 0.8 % of $20,000 = $160 budget, stop 0.25 under 100.00: 640 shares, $64,000.
    return entry("100.00", StopAmount(D("0.25")), ts=ts, intraday=intraday)


def test_buying_power_caps_the_entry_by_regime() -> None:
    # Legacy PDT under $25,000: overnight buying power, $40,000 = 400 shares.
    legacy = run(bp_entry(et(2026, 5, 14)), snapshot(20_000))
    assert (legacy.outcome, legacy.quantity) == (Outcome.RESIZE, 400)
    check = legacy.check("buying_power")
    assert (check.limit, check.value, check.outcome) == (D(40_000), D(40_000), CheckOutcome.CAPPED)
    # Intraday margin: $80,000 intraday, all 640 fit; a positional entry gets the overnight $40,000.
    assert run(bp_entry(et(2026, 6, 11)), snapshot(20_000)).quantity == 640
    assert run(bp_entry(et(2026, 6, 11), intraday=False), snapshot(20_000)).quantity == 400
    # Legacy PDT at $30,000 (a pattern day trader): 4× = $120,000; the budget is $240 for 960 shares.
    assert run(bp_entry(et(2026, 5, 14)), snapshot(30_000)).quantity == 960


def test_an_intraday_margin_deficit_refuses_entries() -> None:
    # $50,000 of QQQ on $10,000 of equity: maintenance $12,500 > $10,000.
    held = Position(symbol="QQQ", quantity=100, last_price=D(500), reference_price=D(500), opened_ns=0)
    snap = snapshot(cash=D(-40_000), start_of_day_equity=D(10_000), positions=(held,))
    decision = run(entry(ts=et(2026, 6, 11)), snap)
    check = decision.check("intraday_margin")
    assert (check.value, check.limit, check.outcome) == (D(12_500), D(10_000), CheckOutcome.FAILED)
    assert decision.outcome is Outcome.REJECT


# Cash account, Monday 2026-06-08: XYZ (held, paid for) sold at 10:00 for $10,000, which settles Tuesday;
# 50 ABC bought at 10:30 for $10,000 with those unsettled proceeds (at the broker, outside the platform).
MONDAY = dt.date(2026, 6, 8)
LEDGER = CashLedger(settled_cash=D(0), opening_lots=(Lot("XYZ", 100),), fills=(
    CashFill("XYZ", "SELL", 100, D(100), et(2026, 6, 8, 10)),
    CashFill("ABC", "BUY", 50, D(200), et(2026, 6, 8, 10, 30)),
))
ABC = Position(symbol="ABC", quantity=50, last_price=D(201), reference_price=D(200), opened_ns=et(2026, 6, 8, 10, 30))


def test_selling_before_the_funds_settle_is_a_good_faith_violation_and_refused() -> None:
    snap = snapshot(cash=D(0), start_of_day_equity=D(10_000), positions=(ABC,), cash_ledger=LEDGER)
    decision = run(exit_(50, symbol="ABC", ts=et(2026, 6, 8, 11)), snap, cash_account())
    assert decision.regime.value == "cash" and decision.outcome is Outcome.REJECT
    assert decision.check("good_faith").outcome is CheckOutcome.FAILED
    assert "settle on 2026-06-09" in decision.reasons[0]
    tuesday = run(exit_(50, symbol="ABC", ts=et(2026, 6, 9, 10)), snap, cash_account())
    assert tuesday.outcome is Outcome.ACCEPT and tuesday.check("good_faith").outcome is CheckOutcome.PASSED


def test_the_ledger_settles_t_plus_1_on_business_days() -> None:
    monday = fold_ledger(LEDGER, DAYS, et(2026, 6, 8, 11))
    assert (monday.settled_cash, monday.unsettled_cash) == (D(0), D(0))    # the proceeds paid for ABC
    assert monday.lots == (Lot("ABC", 50, dt.date(2026, 6, 9)),)
    assert settlement_date(dt.date(2026, 7, 2), DAYS) == dt.date(2026, 7, 6)   # Friday 07-03 is a holiday
    columbus = frozenset({dt.date(2026, 10, 12)})                              # NYSE open, no settlement
    assert settlement_date(dt.date(2026, 10, 9), DAYS, columbus) == dt.date(2026, 10, 13)


def test_a_cash_account_buys_with_settled_funds_only() -> None:
    # $10,000 settled, $5,000 pending until tomorrow; equity $15,000, budget 0.8 % = $120, stop 0.50 under 50:
    # 240 shares ($12,000) by risk, $10,000 settled = 200 shares.
    ledger = CashLedger(settled_cash=D(10_000), pending=(PendingSettlement(D(5_000), dt.date(2026, 6, 9)),))
    snap = snapshot(15_000, cash_ledger=ledger)
    acct = cash_account(max_position_pct=D(100))
    decision = run(entry("50.00", StopAmount(D("0.50")), ts=et(2026, 6, 8, 11)), snap, acct)
    assert (decision.outcome, decision.quantity) == (Outcome.RESIZE, 200)
    check = decision.check("buying_power")
    assert check.limit == D(10_000) and "unsettled 5000" in check.detail
    tuesday = run(entry("50.00", StopAmount(D("0.50")), ts=et(2026, 6, 9, 11)), snap, acct)
    assert tuesday.quantity == 240    # the $5,000 settled this morning: $15,000


def test_a_cash_account_cannot_sell_short_or_enter_without_its_ledger() -> None:
    ledger = CashLedger(settled_cash=D(50_000))
    short = run(entry(side="SELL", ts=et(2026, 6, 8, 11)), snapshot(cash_ledger=ledger), cash_account())
    assert short.outcome is Outcome.REJECT and short.check("cash_short").failed
    blind = run(entry(ts=et(2026, 6, 8, 11)), snapshot(), cash_account())
    assert blind.outcome is Outcome.REJECT and blind.check("cash_ledger").failed


@pytest.mark.parametrize(("day", "regime"), [(dt.date(2025, 12, 31), None), (dt.date(2026, 1, 1), "legacy_pdt"),
                                             (dt.date(2026, 6, 3), "legacy_pdt"),
                                             (dt.date(2026, 6, 4), "intraday_margin")])
def test_the_regime_in_force_follows_the_cut_over(day, regime) -> None:
    found = account().regime_on(day)
    assert (found.value if found else None) == regime
    assert account().regime_at(et(day.year, day.month, day.day, 0, 0)) == found


def test_an_instant_before_any_regime_is_rejected() -> None:
    acct = account(regimes=(RegimePeriod(dt.date(2026, 6, 4), "intraday_margin"),))
    decision = run(entry(ts=et(2026, 6, 3, 15)), snapshot(), acct)
    assert decision.outcome is Outcome.REJECT and decision.check("regime").failed

"""Progressive P&L (realised, charges, open risk, the remaining RM-Max-sp budget) and the kill switch that
latches when the day's loss reaches RM-Max-sp% (2 % of 10,000.00 = 200.00 here) until reset with a reason."""

from __future__ import annotations

import pytest

from processors.risk import ExitReason, RiskConfigError
from processors.trades import AccountSettings

from .conftest import D, LIMITS, at, entry, exit_fill, manager


def guarded():
    return manager(accounts={"ACC": AccountSettings(limits=LIMITS, start_of_day_equity=D(10_000))})


def test_realised_pnl_and_charges_update_the_open_risk_budget() -> None:
    m = guarded()
    m.on_entry_fill(entry("T1", ts=at(1), charges=D("1.00")))                      # risk 100 x 2.00 = 200
    m.on_entry_fill(entry("T2", symbol="QQQ", direction="short", quantity=50, price="50.00", stop="51.00",
                          ts=at(1)))                                              # risk 50 x 1.00 = 50
    view = m.account("ACC")
    assert (view.open_risk, view.remaining_risk_budget) == (D("250.00"), D("1749.00"))  # 2000 - 1 - 250
    m.on_exit_fill(exit_fill(None, 100, "101.00", at(2), charges=D("1.00")))
    view = m.account("ACC")
    assert (view.realised_pnl, view.charges, view.net_realised_pnl) == (D("100.00"), D("2.00"), D("98.00"))
    assert (view.open_risk, view.remaining_risk_budget) == (D("50.00"), D("2048.00"))   # 2000 + 98 - 50
    assert m.open_trades("ACC")[0].trade_id == "T2"
    assert m.has_open_trades("ACC") and not m.has_open_trades("OTHER")


def test_the_kill_switch_latches_closes_everything_and_is_reset_only_with_a_reason() -> None:
    m = guarded()
    m.on_entry_fill(entry("T1", stop="95.00", ts=at(1)))
    m.on_entry_fill(entry("T2", symbol="QQQ", quantity=50, price="200.00", stop="190.00", ts=at(1)))
    m.on_price("SPY", D("98.01"), at(2))                     # loss 199.00: under the limit
    assert m.advance_to(at(5)) == []
    assert m.account("ACC").day_loss_pct == D("1.990000")
    m.on_price("SPY", D("98.00"), at(6))                     # loss 200.00 = 2 % of 10,000.00
    first, second = m.advance_to(at(10))
    assert [(r.trade_id, r.reason, r.quantity, r.trigger_price, r.ts_event) for r in (first, second)] == [
        ("T1", ExitReason.KILL_SWITCH, 100, D("98.00"), at(10)), ("T2", ExitReason.KILL_SWITCH, 50, None, at(10))]
    assert m.account("ACC").kill_switch_tripped
    assert "max_drawdown_pct 2 %" in m.account("ACC").kill_switch_reason

    m.on_price("SPY", D("101.00"), at(11))                   # the loss recovers: still latched
    m.on_entry_fill(entry("T3", ts=at(12)))
    m.on_price("SPY", D("101.10"), at(13))
    [late] = m.advance_to(at(15))
    assert (late.trade_id, late.reason) == ("T3", ExitReason.KILL_SWITCH)
    assert m.account("ACC").kill_switch_tripped

    with pytest.raises(RiskConfigError) as raised:
        m.reset_kill_switch("ACC", " ", at(16))
    assert raised.value.field == "kill_switch.reset_reason"
    m.reset_kill_switch("ACC", "operator: feed glitch checked", at(16))
    m.on_entry_fill(entry("T4", ts=at(17)))
    assert m.advance_to(at(30)) == []
    assert not m.account("ACC").kill_switch_tripped
    with pytest.raises(RiskConfigError):
        m.reset_kill_switch("ACC", "again", at(31))


def test_a_reset_while_the_loss_is_past_the_limit_trips_again_at_the_next_sweep() -> None:
    m = guarded()
    m.on_entry_fill(entry("T1", stop="95.00", ts=at(1)))
    m.on_price("SPY", D("97.00"), at(2))
    assert [r.reason for r in m.advance_to(at(5))] == [ExitReason.KILL_SWITCH]
    m.reset_kill_switch("ACC", "let it go on", at(6))
    assert m.advance_to(at(10)) == []                         # the request is still pending: not asked twice
    assert m.account("ACC").kill_switch_tripped


def test_the_day_loss_counts_from_start_day() -> None:
    m = guarded()
    m.on_entry_fill(entry("T1", stop="90.00", intraday=False, ts=at(1)))
    m.on_price("SPY", D("97.00"), at(2))                     # -300.00 ...
    m.start_day("ACC", D(20_000), at(3))                     # ... before this day began
    m.on_price("SPY", D("95.00"), at(4))                     # -200.00 today = 1 % of 20,000.00
    assert m.advance_to(at(5)) == []
    assert (m.account("ACC").day_pnl, m.account("ACC").day_loss_pct) == (D("-200.00"), D("1.000000"))


def test_an_option_trade_counts_its_contract_multiplier_in_risk_pnl_and_the_day_loss() -> None:
    m = guarded()
    # 5 contracts of 100 at 2.00 with the stop at 1.50: risk 5 x 100 x 0.50 = 250.
    m.on_entry_fill(entry("O1", symbol="SPY261218C00600000", quantity=5, price="2.00", stop="1.50", ts=at(1),
                          charges=D("3.25"), multiplier=100))
    assert m.account("ACC").open_risk == D("250.00")
    assert m.open_trades("ACC")[0].multiplier == 100
    # Marked at 1.80: the day's P&L is 5 x 100 x (1.80 - 2.00) - 3.25 = -103.25.
    m.on_price("SPY261218C00600000", D("1.80"), at(2))
    assert m.account("ACC").day_pnl == D("-103.25")
    m.on_exit_fill(exit_fill(None, 5, "2.40", at(3), trade_id="O1", charges=D("3.25")))
    view = m.account("ACC")
    assert (view.realised_pnl, view.net_realised_pnl, view.day_pnl) == (D("200.00"), D("193.50"), D("193.50"))
    row = m.deal_row_of("O1")
    assert (row.pnl, row.charges, row.net_pnl, row.net_pnl_pct) == (D("200.00"), D("6.50"), D("193.50"), D("19.35"))

"""A settings change of an account takes effect at its instant: later entries are decided on the new
limits, trades already open are kept, and an account the desk does not hold is refused."""

from __future__ import annotations

import pytest

from processors.trading.errors import TradingDeskError

from .conftest import D, account, desk, et, intent, tick

WED = (2026, 6, 10)


def test_a_tighter_limit_refuses_the_next_entry_and_keeps_the_open_trade() -> None:
    d = desk()
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    d.on_trade(tick("100.02", et(*WED, 10, 0, 1)))                     # the first trade is open
    d.change_account(account(max_active_trades=1), et(*WED, 10, 5))
    (refused,) = d.on_intent(intent(et(*WED, 10, 6), "ts-2", symbol="ABC"), ts_init=0)
    assert refused.outcome == "REJECT"
    assert any(reason.startswith("max_active_trades") or "active" in reason for reason in refused.reasons)
    assert d.trade_status("ts-1").value == "Running"                   # nothing is closed by the change
    d.change_account(account(max_active_trades=5), et(*WED, 10, 7))
    decision, order = d.on_intent(intent(et(*WED, 10, 8), "ts-3", symbol="ABC"), ts_init=0)
    assert (decision.outcome, order.event) == ("ACCEPT", "ACCEPTED")


def test_a_lower_drawdown_limit_latches_the_kill_switch_at_the_next_sweep() -> None:
    d = desk()
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    d.on_trade(tick("100.02", et(*WED, 10, 0, 1)))
    d.on_trade(tick("98.50", et(*WED, 10, 0, 2)))      # a loss of 200 x 1.52 + $1 = $305: under 3 % of $50,000
    assert not d.book("acct-1").kill_switch.tripped
    d.change_account(account(max_drawdown_pct=D("0.5")), et(*WED, 10, 0, 3))   # the limit is now $250
    d.on_trade(tick("98.50", et(*WED, 10, 0, 6)))      # the 10:00:05 sweep measures against the new limit
    assert d.book("acct-1").kill_switch.tripped
    assert d.deal_rows()[0].comment == "kill switch"


def test_an_account_not_on_the_desk_is_refused() -> None:
    with pytest.raises(TradingDeskError, match="not on this desk"):
        desk().change_account(account("acct-9"), et(*WED, 10))


def test_a_kill_switch_tripped_by_hand_refuses_entries_closes_the_trades_and_is_reset_with_a_reason() -> None:
    d = desk()
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    d.on_trade(tick("100.02", et(*WED, 10, 0, 1)))                     # a trade is open, no loss to speak of
    with pytest.raises(TradingDeskError, match="reason"):
        d.trip_kill_switch("acct-1", " ", et(*WED, 10, 0, 2))
    d.trip_kill_switch("acct-1", "news halt", et(*WED, 10, 0, 2))
    assert d.book("acct-1").kill_switch.reason == "tripped by hand: news halt"
    (refused,) = d.on_intent(intent(et(*WED, 10, 0, 3), "ts-2", symbol="ABC"), ts_init=0)
    assert refused.outcome == "REJECT" and refused.kill_switch_tripped
    d.on_trade(tick("100.05", et(*WED, 10, 0, 6)))                     # the 10:00:05 sweep closes the trade
    d.on_trade(tick("100.06", et(*WED, 10, 0, 7)))
    [row] = d.deal_rows()
    assert (row.status.value, row.comment) == ("Completed", "kill switch")
    assert d.trip_kill_switch("acct-1", "again", et(*WED, 10, 0, 8)) == []  # tripped already: nothing changes
    d.reset_kill_switch("acct-1", "halt lifted", et(*WED, 10, 1))
    decision, order = d.on_intent(intent(et(*WED, 10, 2), "ts-3", symbol="ABC"), ts_init=0)
    assert (decision.outcome, order.event) == ("ACCEPT", "ACCEPTED")

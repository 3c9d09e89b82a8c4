"""Entry limits (active trades, trades per day, the drawdown latch and the kill switch), and exits, which no
entry limit ever blocks."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processors.risk import (
    CheckOutcome,
    ExitReason,
    KillSwitch,
    OpenTrade,
    Outcome,
    Position,
    RiskConfigError,
    RoundTrip,
    decide,
    evaluate_drawdown,
)

from .conftest import DAYS, LIMITS, account, entry, et, exit_, snapshot

D = Decimal
TS = et(2026, 6, 10, 11)


def trade(n: int, symbol: str = "QQQ") -> OpenTrade:
    return OpenTrade(trade_id=f"t{n}", symbol=symbol, side="BUY", quantity=10, entry_price=D(50), stop_price=D(49),
                     opened_ns=et(2026, 6, 10, 9, 45))


def run(intent, snap, acct=None):
    return decide(intent, acct or account(), snap, DAYS, intent.ts_event)


def test_active_trades_include_this_one() -> None:
    acct = account(max_active_trades=2)
    assert run(entry(ts=TS), snapshot(open_trades=(trade(1),)), acct).outcome is Outcome.ACCEPT
    decision = run(entry(ts=TS), snapshot(open_trades=(trade(1), trade(2))), acct)
    assert decision.outcome is Outcome.REJECT
    check = decision.check("active_trades")
    assert (check.value, check.limit, check.outcome) == (D(3), D(2), CheckOutcome.FAILED)


def test_trades_per_day_include_this_one() -> None:
    acct = account(max_trades_per_day=3)
    assert run(entry(ts=TS), snapshot(trades_today=2), acct).outcome is Outcome.ACCEPT
    decision = run(entry(ts=TS), snapshot(trades_today=3), acct)
    assert decision.outcome is Outcome.REJECT
    assert (decision.check("trades_per_day").value, decision.check("trades_per_day").limit) == (D(4), D(3))


def losing(realised: str, last: str) -> dict:
    """Start of day $50,000; 100 QQQ bought today at 50 now at `last`; `realised` P&L today."""
    held = Position(symbol="QQQ", quantity=100, last_price=D(last), reference_price=D(50), opened_ns=TS)
    cash = D(50_000) + D(realised) - 100 * D(50)
    return {"cash": cash, "start_of_day_equity": D(50_000), "realised_pnl_today": D(realised), "positions": (held,)}


def test_the_drawdown_trips_the_kill_switch_at_the_limit() -> None:
    # 3 % of $50,000 = $1,500. Realised −$1,000 and unrealised 100 × (44 − 50) = −$600: a loss of $1,600, 3.2 %.
    decision = run(entry(ts=TS), snapshot(**losing("-1000", "44")))
    assert decision.outcome is Outcome.REJECT and decision.tripped_kill_switch
    check = decision.check("max_drawdown_pct")
    assert (check.value, check.limit, check.outcome) == (D("3.2"), D(3), CheckOutcome.FAILED)
    assert decision.kill_switch.tripped and decision.kill_switch.tripped_at_ns == TS
    assert "max_drawdown_pct 3 % reached" in decision.kill_switch.reason
    # Exactly $1,500 (realised −$900, unrealised −$600) reaches the limit; $1,499 does not.
    assert run(entry(ts=TS), snapshot(**losing("-900", "44"))).tripped_kill_switch
    assert run(entry(ts=TS), snapshot(**losing("-899", "44"))).outcome is Outcome.ACCEPT


def test_the_kill_switch_latches_until_reset_with_a_reason() -> None:
    _, tripped = evaluate_drawdown(LIMITS, snapshot(**losing("-1000", "44")), TS)
    assert tripped.tripped
    recovered = snapshot(kill_switch=tripped)   # flat, no loss: still refused
    decision = run(entry(ts=TS + 1), recovered)
    assert decision.outcome is Outcome.REJECT and not decision.tripped_kill_switch
    assert decision.check("kill_switch").outcome is CheckOutcome.FAILED
    assert decision.check("max_drawdown_pct").outcome is CheckOutcome.PASSED
    assert tripped.trip("again", TS + 2) is tripped   # the first trip's reason and time are kept
    with pytest.raises(RiskConfigError) as error:
        tripped.reset("  ", TS + 3)
    assert error.value.field == "kill_switch.reset_reason"
    reset = tripped.reset("loss reviewed with the desk; limits unchanged", TS + 3)
    assert not reset.tripped and reset.reset_at_ns == TS + 3 and reset.reason == tripped.reason
    assert run(entry(ts=TS + 4), snapshot(kill_switch=reset)).outcome is Outcome.ACCEPT
    with pytest.raises(RiskConfigError):
        reset.reset("twice", TS + 5)


def everything_breached() -> dict:
    """Kill switch tripped, a 10 % loss, active trades and trades per day full, 3 day trades this week with
    $20,000, no buying power left, open risk at its limit: every entry limit says no."""
    held = Position(symbol="SPY", quantity=300, last_price=D(60), reference_price=D(66), opened_ns=TS)
    trades = tuple(OpenTrade(trade_id=f"t{n}", symbol="SPY", side="BUY", quantity=60, entry_price=D(66),
                             stop_price=D("59.34"), opened_ns=TS) for n in range(5))
    trips = tuple(RoundTrip("IWM", et(2026, 5, d, 10), et(2026, 5, d, 11)) for d in (11, 12, 13))
    return {"cash": D(2_000), "start_of_day_equity": D(20_000), "realised_pnl_today": D(-200), "positions": (held,),
            "open_trades": trades, "trades_today": 10, "round_trips": trips,
            "kill_switch": KillSwitch().trip("operator", TS)}


@pytest.mark.parametrize("ts", [et(2026, 5, 14, 15), et(2026, 6, 10, 15)], ids=["legacy_pdt", "intraday_margin"])
@pytest.mark.parametrize("reason", list(ExitReason))
def test_exits_are_never_blocked_by_entry_limits(ts, reason) -> None:
    snap = snapshot(**everything_breached())
    refused = run(entry(ts=ts), snap)
    assert refused.outcome is Outcome.REJECT
    assert {"kill_switch", "active_trades", "trades_per_day"} <= {c.name for c in refused.checks if c.failed}
    decision = run(exit_(300, ts=ts, reason=reason), snap)
    assert decision.outcome is Outcome.ACCEPT and decision.quantity == 300
    assert decision.check("entry_limits").outcome is CheckOutcome.NOT_APPLICABLE
    assert not decision.reasons


def test_an_exit_closes_at_most_what_is_held() -> None:
    held = Position(symbol="SPY", quantity=-80, last_price=D(100), reference_price=D(100), opened_ns=TS)
    snap = snapshot(cash=D(58_000), start_of_day_equity=D(50_000), positions=(held,))
    decision = run(exit_(100, side="BUY", ts=TS), snap)
    assert decision.outcome is Outcome.RESIZE and decision.quantity == 80
    assert decision.check("position").outcome is CheckOutcome.CAPPED
    wrong_way = run(exit_(10, side="SELL", ts=TS), snap)   # selling does not close a short
    assert wrong_way.outcome is Outcome.REJECT and "closes a long position" in wrong_way.reasons[0]
    nothing = run(exit_(10, symbol="QQQ", ts=TS), snap)
    assert nothing.outcome is Outcome.REJECT and nothing.quantity == 0

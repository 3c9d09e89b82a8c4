"""The trading desk end to end, figures by hand: risk sizing, fills at the next print, charges by date, the
sweep's stop, target and time close, unknown strategies and accounts, the day-trade rule, the kill switch."""

from __future__ import annotations

import datetime as dt

import pytest

from processors.deals import DealStatus
from processors.risk import StopPercent
from processors.trades import StrategySettings, TimeClose, TradeStatus
from processors.trading import StrategyTrading, TargetPercent, TradingDeskError

from .conftest import D, account, desk, et, intent, kinds, tick
from processors.trading import TradingDesk

WED = (2026, 6, 10)


def test_a_long_entry_sized_by_risk_stopped_at_the_sweep_and_its_deal_to_the_cent() -> None:
    d = desk()
    out = d.on_intent(intent(et(*WED, 10)), ts_init=et(*WED, 10) + 5)
    decision, accepted = out
    # budget min($500, 0.8 % of $50,000) = $400; stop 2 % under 100.00 = 98.00; 400 / 2.00 = 200 shares
    assert (decision.outcome, decision.quantity, decision.stop_price, decision.risk_budget) == (
        "ACCEPT", 200, D("98.00"), D("400.00000000"))
    assert (accepted.event, accepted.sequence, accepted.status, accepted.quantity, accepted.trade_id) == (
        "ACCEPTED", 0, "Placed", 200, "ts-1")
    assert d.trade_status("ts-1") is TradeStatus.WAITING

    fills = d.on_trade(tick("100.02", et(*WED, 10, 0, 1)))      # the next print fills the market order
    assert kinds(fills) == ["fill:ts-1:200@100.02"]
    assert (fills[0].commission, fills[0].regulatory_fees) == (D("1.00"), D("0.00"))   # 200 x 0.005 = 1.00
    assert d.trade_status("ts-1") is TradeStatus.RUNNING

    assert d.on_trade(tick("97.90", et(*WED, 10, 0, 2))) == []  # through the stop: acted on at the 10:00:05 sweep
    out = d.on_trade(tick("97.80", et(*WED, 10, 0, 6)))
    assert kinds(out) == ["decision:exit:ACCEPT:200", "order:ts-1:exit:1:ACCEPTED:0", "fill:ts-1:exit:1:200@97.80"]
    exit_decision, exit_order, exit_fill = out
    assert exit_decision.ts_event == exit_order.ts_event == et(*WED, 10, 0, 5)
    assert exit_order.order_type == "MARKET" and exit_order.side == "SELL"
    # 200 x 97.80 = 19,560.00 sold on 2026-06-10: SEC 19,560 x 20.60 / 1e6 = 0.402936 -> 0.41,
    # TAF 200 x 0.000195 = 0.039 -> 0.04; commission 1.00
    assert (exit_fill.commission, exit_fill.regulatory_fees) == (D("1.00"), D("0.45"))

    (row,) = d.deal_rows()
    assert (row.entry_qty, row.exit_qty, row.entry_price, row.exit_price) == (200, 200, D("100.02"), D("97.80"))
    assert (row.pnl, row.charges, row.net_pnl, row.net_pnl_pct) == (D("-444.00"), D("2.45"), D("-446.45"),
                                                                     D("-2.2318"))   # -446.45 / 20,004.00
    assert (row.status, row.comment) == (DealStatus.COMPLETED, "stop-loss")

    book = d.book("acct-1").snapshot_at(et(*WED, 10, 1))
    assert book.cash == book.equity == D("49553.55")          # 50,000 - 20,004 - 1.00 + 19,560 - 1.45
    assert book.realised_pnl_today == D("-446.45") and book.positions == () and book.trades_today == 1


@pytest.mark.parametrize(("day", "regulatory"), [((2026, 6, 10), D("0.45")), ((2026, 10, 14), D("0.41"))])
def test_the_sales_regulatory_fees_follow_the_trade_date(day, regulatory) -> None:
    d = desk()
    d.on_intent(intent(et(*day, 10)), ts_init=0)
    d.on_trade(tick("100.02", et(*day, 10, 0, 1)))
    d.on_trade(tick("97.90", et(*day, 10, 0, 2)))
    fill = d.on_trade(tick("97.80", et(*day, 10, 0, 6)))[-1]
    assert fill.regulatory_fees == regulatory                 # the TAF holiday of Oct-Dec 2026 charges no TAF


def test_a_target_is_hit_and_sold_at_the_next_print() -> None:
    strategies = {"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(D(2)), target=TargetPercent(D(2)))}
    d = desk(strategies=strategies)
    d.on_intent(intent(et(*WED, 10)), ts_init=0)
    d.on_trade(tick("100.02", et(*WED, 10, 0, 1)))
    assert d.trade_manager.trade("ts-1").target_price == D("102.03")   # 100.02 x 1.02 = 102.0204, up to the tick
    d.on_trade(tick("102.05", et(*WED, 10, 0, 3)))
    out = d.on_trade(tick("102.10", et(*WED, 10, 0, 7)))
    assert kinds(out) == ["decision:exit:ACCEPT:200", "order:ts-1:exit:1:ACCEPTED:0", "fill:ts-1:exit:1:200@102.10"]
    # 200 x 102.10 = 20,420: SEC 0.420652 -> 0.43, TAF 0.04
    assert out[-1].regulatory_fees == D("0.47")
    (row,) = d.deal_rows()
    assert (row.pnl, row.charges, row.net_pnl, row.comment) == (D("416.00"), D("2.47"), D("413.53"), "profit target")


def test_a_time_close_sells_at_the_first_print_after_it() -> None:
    d = desk(tm_strategies={"breakout": StrategySettings(time_close=TimeClose(at_et=dt.time(15, 55)))})
    d.on_intent(intent(et(*WED, 15, 50)), ts_init=0)
    d.on_trade(tick("100.02", et(*WED, 15, 50, 1)))
    out = d.advance_to(et(*WED, 15, 55))
    assert kinds(out) == ["decision:exit:ACCEPT:200", "order:ts-1:exit:1:ACCEPTED:0"]
    assert out[0].ts_event == et(*WED, 15, 55)
    assert kinds(d.on_trade(tick("100.50", et(*WED, 15, 55, 1)))) == ["fill:ts-1:exit:1:200@100.50"]
    (row,) = d.deal_rows()
    assert (row.pnl, row.comment, row.status) == (D("96.00"), "time close", DealStatus.COMPLETED)


def test_an_unknown_strategy_or_account_is_rejected_with_the_reason() -> None:
    strategies = {"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(D(2))),
                  "ghost": StrategyTrading(account_id="acct-9", stop=StopPercent(D(2)))}
    d = desk(strategies=strategies)
    (unknown,) = d.on_intent(intent(et(*WED, 10), "ts-1", strategy="nobody"), ts_init=0)
    assert (unknown.outcome, unknown.account_id, unknown.quantity) == ("REJECT", "(unassigned)", 0)
    assert unknown.reasons == ("strategy: strategy 'nobody' is not on this desk (no account trades it)",)
    (ghost,) = d.on_intent(intent(et(*WED, 10), "ts-2", strategy="ghost"), ts_init=0)
    assert (ghost.outcome, ghost.account_id) == ("REJECT", "acct-9")
    assert ghost.reasons == ("account: account 'acct-9' is not known",)
    assert d.broker.orders() == ()


def test_a_duplicate_intent_is_ignored() -> None:
    d = desk()
    assert len(d.on_intent(intent(et(*WED, 10)), ts_init=0)) == 2
    before = d.snapshot()
    assert d.on_intent(intent(et(*WED, 10, 0, 1)), ts_init=1) == []
    assert d.snapshot() == before


def _day_trades(d: TradingDesk, day: tuple[int, int, int], count: int) -> None:
    """`count` round trips of XYZ on `day`, each entered by intent and closed by an exit signal."""
    for n in range(count):
        start = et(*day, 10, n * 5)
        d.on_intent(intent(start, f"ts-{n}"), ts_init=0)
        d.on_trade(tick("100.00", start + 10**9))
        d.on_exit_signal("breakout", "XYZ", start + 2 * 10**9)
        d.on_trade(tick("100.00", start + 3 * 10**9))


def test_the_legacy_rule_refuses_a_fourth_day_trade_that_intraday_margin_allows() -> None:
    small = account(capital=20_000)                            # under the $25,000 pattern-day-trader minimum
    legacy = desk(accounts=[small])
    _day_trades(legacy, (2026, 5, 20), 3)
    assert [row.comment for row in legacy.deal_rows()] == ["exit rule"] * 3
    decision, = legacy.on_intent(intent(et(2026, 5, 20, 11), "ts-4"), ts_init=0)
    assert decision.outcome == "REJECT"
    assert any(reason.startswith("day_trades:") and "day trade 4" in reason for reason in decision.reasons)

    margin = desk(accounts=[small])                            # the same, after 2026-06-04
    _day_trades(margin, WED, 3)
    decision, order = margin.on_intent(intent(et(*WED, 11), "ts-4"), ts_init=0)
    assert (decision.outcome, order.event) == ("ACCEPT", "ACCEPTED")
    assert decision.check_outcomes[decision.check_names.index("day_trades")] == "not_applicable"


def test_the_kill_switch_closes_the_trades_and_refuses_entries_until_reset() -> None:
    d = desk(accounts=[account(max_drawdown_pct=D("0.5"))])   # RM-Max-sp% 0.5 % of $50,000 = $250
    d.on_intent(intent(et(*WED, 10)), ts_init=0)
    d.on_trade(tick("100.02", et(*WED, 10, 0, 1)))
    d.on_trade(tick("98.50", et(*WED, 10, 0, 2)))             # above the stop; 200 x -1.52 - 1.00 = -305.00
    out = d.on_trade(tick("98.50", et(*WED, 10, 0, 6)))
    assert kinds(out) == ["decision:exit:ACCEPT:200", "order:ts-1:exit:1:ACCEPTED:0", "fill:ts-1:exit:1:200@98.50"]
    assert d.deal_rows()[0].comment == "kill switch"
    assert d.book("acct-1").kill_switch.tripped

    (refused,) = d.on_intent(intent(et(*WED, 10, 1), "ts-2"), ts_init=0)
    assert refused.outcome == "REJECT" and any(r.startswith("kill_switch:") for r in refused.reasons)
    (next_day,) = d.on_intent(intent(et(2026, 6, 11, 10), "ts-3"), ts_init=0)   # it latches over night
    assert next_day.outcome == "REJECT" and next_day.kill_switch_tripped

    with pytest.raises(TradingDeskError):
        d.reset_kill_switch("acct-1", " ", et(2026, 6, 11, 10, 5))
    d.reset_kill_switch("acct-1", "loss reviewed", et(2026, 6, 11, 10, 5))
    assert not d.trade_manager.account("acct-1").kill_switch_tripped
    decision, order = d.on_intent(intent(et(2026, 6, 11, 10, 6), "ts-4"), ts_init=0)
    assert (decision.outcome, order.event) == ("ACCEPT", "ACCEPTED")
    with pytest.raises(TradingDeskError):
        d.reset_kill_switch("acct-1", "again", et(2026, 6, 11, 10, 7))


def test_a_working_entry_counts_against_the_risk_room() -> None:
    d = desk(accounts=[account(max_open_risk=D(500))])
    first = d.on_intent(intent(et(*WED, 10), "ts-1", order_type="LIMIT", limit_price="99.00"), ts_init=0)[0]
    assert first.quantity == 200                               # 400 / 2.00, open risk 400 of 500
    second = d.on_intent(intent(et(*WED, 10, 1), "ts-2"), ts_init=0)[0]
    assert second.quantity == 50                               # (500 - 400) / 2.00: the working entry counts


def test_an_order_type_the_paper_broker_does_not_know_is_rejected() -> None:
    (decision,) = desk().on_intent(intent(et(*WED, 10), order_type="MOC"), ts_init=0)
    assert decision.outcome == "REJECT" and decision.check_names == ("order_type",)


def test_a_config_whose_trade_manager_has_other_limits_is_refused() -> None:
    from processors.trades import AccountSettings, TradeManagerConfig

    from .conftest import CALENDAR, DAYS, LIMITS
    from processors.trading import DeskConfig
    other = AccountSettings(limits=LIMITS.__class__(**{**{f: getattr(LIMITS, f) for f in LIMITS.__slots__},
                                                        "max_drawdown_pct": D(9)}), start_of_day_equity=D(1))
    with pytest.raises(TradingDeskError, match="trade_manager.accounts.acct-1.limits"):
        DeskConfig(accounts=[account()], strategies={},
                   trade_manager=TradeManagerConfig(calendar=CALENDAR, accounts={"acct-1": other}), days=DAYS)


def test_an_entry_on_the_other_side_of_a_running_or_working_trade_is_refused_and_the_trade_still_exits() -> None:
    # Positions are netted per symbol: a short entry while a long trade is open would sell part of the long
    # position, and the short trade's buy-to-close would then find the account net long (a stuck trade). Refused.
    d = desk()
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    working = d.on_intent(intent(et(*WED, 10, 0, 0, 500), "ts-2", side="SELL"), ts_init=0)   # ts-1 still working
    assert kinds(working) == ["decision:entry:REJECT:0"]
    assert working[0].reasons[0].startswith("netting: the account holds 0 XYZ and 1 long trades open or working")
    d.on_trade(tick("100.00", et(*WED, 10, 0, 1)))                                         # ts-1 fills 200
    running = d.on_intent(intent(et(*WED, 10, 0, 2), "ts-3", side="SELL"), ts_init=0)
    assert kinds(running) == ["decision:entry:REJECT:0"]
    assert running[0].reasons[0].startswith("netting: the account holds 200 XYZ and 1 long trades")
    d.on_trade(tick("97.90", et(*WED, 10, 0, 3)))
    out = d.on_trade(tick("97.80", et(*WED, 10, 0, 6)))                                    # the long trade stops out
    assert kinds(out) == ["decision:exit:ACCEPT:200", "order:ts-1:exit:1:ACCEPTED:0", "fill:ts-1:exit:1:200@97.80"]
    # flat again, a short opens: equity 50,000 - 446.45 = 49,553.55, budget 0.8 % = 396.43, / 2.00 = 198 shares
    assert kinds(d.on_intent(intent(et(*WED, 10, 0, 7), "ts-4", side="SELL"), ts_init=0))[0] == \
        "decision:entry:ACCEPT:198"

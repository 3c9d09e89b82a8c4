"""An operator's add-on: a CHANGE_QUANTITY to more units of a running trade, decided by processors.risk.decide as a
strategy's entry is, placed as a MARKET order whose id is the action id, its fills added to the same trade (figures
by hand).

The trade of most tests (conftest's acct-1, $50,000, with the per-trade budget raised to min($300, 100 % of equity)
= $300): an entry signal at 100.00 with a 2 % stop (98.00), 300 / 2.00 = 150 shares filled at the first print 100.00
at 10:00:01 on Wednesday 2026-06-10 ($1.00 commission, the minimum: 150 x $0.005 = $0.75). Its risk is
150 x 2.00 = $300, the whole budget, until its stop moves.
"""

from __future__ import annotations

import dataclasses

from processors.model import FillExecuted, OrderStatusChanged, RiskDecisionMade
from processors.paper import FillModel
from processors.risk import StopPercent
from processors.trading import StrategyTrading, TradingDesk
from processors.trading.session import TradingSession

from .conftest import D, account, desk, et, intent, tick
from .test_live_desk import fills_as_paper
from .test_manual_actions import action, check, decision

WED = (2026, 6, 10)
MON, TUE = (2026, 6, 1), (2026, 6, 2)        # the legacy PDT regime (until 2026-06-03)
BUDGET_300 = {"max_loss_per_trade": D(300), "max_loss_per_trade_pct": D(100)}


def capped(**limits) -> TradingDesk:
    """acct-1 with `limits`, its strategy taking the intent's quantity as an upper bound."""
    return desk(accounts=[account(**limits)], strategies={"breakout": StrategyTrading(
        account_id="acct-1", stop=StopPercent(D(2)), cap_at_intent_quantity=True)})


def opened(d: TradingDesk | None = None) -> TradingDesk:
    d = d or desk(accounts=[account(**BUDGET_300)])
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    d.on_trade(tick("100.00", et(*WED, 10, 0, 1)))
    return d


def add(d: TradingDesk, at: int, quantity: int, trade_id: str = "ts-1") -> list:
    return d.on_trade_action(action("CHANGE_QUANTITY", at, trade_id=trade_id, quantity=quantity), ts_init=0)


# == accepted, filled, stopped out =================================================================
def test_an_add_on_is_an_entry_order_of_the_action_id_added_to_the_trade_and_stopped_out_with_it() -> None:
    d = opened()
    run = TradingSession({}, d)
    run.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), 0)   # the trade risks 150 x 1.00
    events = run.on_trade_action(action("CHANGE_QUANTITY", et(*WED, 10, 2), quantity=200), 0).trading
    made = decision(events)
    action_id = "ts-1:manual:change_quantity:" + str(et(*WED, 10, 2))
    assert (made.intent_id, made.action, made.side, made.outcome, made.quantity, made.requested_quantity) == (
        action_id, "entry", "BUY", "ACCEPT", 50, 50)
    assert made.check_names[:2] == ("operator", "add_on")
    # budget $300 less the trade's $150 leaves $150: 150 units at 100.00 - 99.00; open risk 150 + 50 x 1.00
    assert (made.stop_price, made.unit_risk, made.risk_budget, made.risk_quantity) == (
        D("99.00000000"), D("1.00000000"), D("300.00000000"), 150)
    assert (made.trade_risk, made.open_risk_after) == (D("50.00000000"), D("200.00000000"))
    assert check(made, "max_loss_per_trade") == ("passed", D("200.00000000"), D("300.00000000"))
    assert check(made, "active_trades")[:2] == ("passed", D("1.00000000"))      # the trade's own, not a second
    assert check(made, "trades_per_day")[:2] == ("passed", D("1.00000000"))
    [order] = [e for e in events if isinstance(e, OrderStatusChanged)]
    assert (order.client_order_id, order.trade_id, order.side, order.order_type, order.quantity) == (
        action_id, "ts-1", "BUY", "MARKET", 50)

    filled = run.on_trade(tick("101.00", et(*WED, 10, 2, 1)), 0).trading
    assert [(f.client_order_id, f.trade_id, f.quantity, f.price, f.commission) for f in filled
            if isinstance(f, FillExecuted)] == [(action_id, "ts-1", 50, D("101.00"), D("1.00"))]
    [added] = [e for e in filled if type(e).__name__ == "TradeUpdated"]
    assert (added.change, added.entry_qty, added.entry_price) == ("ADDED", 200, D("100.25000000"))
    view = d.trade_manager.trade("ts-1")      # (150 x 100.00 + 50 x 101.00) / 200 = 100.25, exactly
    assert (view.open_quantity, view.average_entry_price, view.stop_price) == (200, D("100.25"), D("99.00"))
    assert d.book("acct-1").trades_today == 1                                   # no new trade opened

    d.on_trade(tick("98.90", et(*WED, 10, 3, 1)))     # through the stop: the 10:03:05 sweep asks for all 200
    d.on_trade(tick("98.80", et(*WED, 10, 3, 6)))     # and this print fills them
    [row] = d.deal_rows()
    assert (row.entry_qty, row.exit_qty, row.entry_price, row.exit_price) == (200, 200, D("100.25"), D("98.80"))
    # P&L 200 x (98.80 - 100.25) = -290.00; charges $1.00 + $1.00 + the sale's $1.00 + SEC 19,760 x 20.60 / 1e6
    # = 0.407056 -> 0.41 + TAF 200 x 0.000195 = 0.039 -> 0.04: $3.45
    assert (row.pnl, row.charges, row.net_pnl, row.comment) == (D("-290.00"), D("3.45"), D("-293.45"), "stop-loss")
    assert row.net_pnl_pct == D("-1.4636")                                     # -293.45 / 20,050 x 100


def test_an_add_on_is_resized_to_the_open_risk_room() -> None:
    # max open risk $250: the entry gets 250 / 2.00 = 125 shares ($250); the stop at 99.00 leaves $125 of it
    d = opened(desk(accounts=[account(max_open_risk=D(250), **BUDGET_300)]))
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)
    made = decision(add(d, et(*WED, 10, 2), 325))
    assert (made.outcome, made.quantity, made.requested_quantity) == ("RESIZE", 125, 200)
    assert check(made, "max_open_risk") == ("capped", D("250.00000000"), D("250.00000000"))
    assert check(made, "max_loss_per_trade")[0] == "passed"           # $300 - $125 leaves 175 units
    d.on_trade(tick("100.00", et(*WED, 10, 2, 1)))
    assert d.trade_manager.trade("ts-1").open_quantity == 250


def test_an_add_on_is_resized_to_the_buying_power() -> None:
    d = capped(max_loss_per_trade=D(5000), max_loss_per_trade_pct=D(100), max_open_risk=D(100_000),
               max_position_pct=D(1000), max_capital_utilized_pct=D(1000))
    d.on_intent(intent(et(*WED, 10), "ts-1", quantity=1000), ts_init=0)
    d.on_trade(tick("100.00", et(*WED, 10, 0, 1)))                    # 1,000 shares, $5.00 commission
    made = decision(add(d, et(*WED, 10, 1), 2500))
    # intraday margin: (equity 49,995 - 25 % of 100,000) x 100 / 25 = 99,980 of buying power, 999 shares at 100.00
    assert (made.outcome, made.quantity, made.requested_quantity) == ("RESIZE", 999, 1500)
    assert check(made, "buying_power") == ("capped", D("99900.00000000"), D("99980.00000000"))
    assert check(made, "max_loss_per_trade")[0] == "passed"           # ($5,000 - $2,000) / 2.00 = 1,500


def test_an_add_on_is_refused_by_the_kill_switch() -> None:
    d = opened()
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)
    d.trip_kill_switch("acct-1", "news halt", et(*WED, 10, 1, 1))
    events = add(d, et(*WED, 10, 1, 2), 200)
    made = decision(events)
    assert (made.action, made.outcome, made.quantity) == ("entry", "REJECT", 0)
    assert check(made, "kill_switch")[0] == "failed"
    assert [e for e in events if isinstance(e, OrderStatusChanged)] == []
    assert d.trade_manager.trade("ts-1").open_quantity == 150


def test_the_legacy_day_trade_count_lets_an_add_on_join_todays_trade_and_refuses_a_4th_day_trade() -> None:
    # $20,000 is under the $25,000 PDT minimum; each entry asks for 50 shares (risk $100 of the $500 budget)
    d = capped(capital=20_000, max_loss_per_trade_pct=D(5))

    def round_trip(day, hour, trade_id, symbol):  # noqa: ANN001, ANN202
        d.on_intent(intent(et(*day, hour), trade_id, symbol=symbol, price="50.00", quantity=50), ts_init=0)
        d.on_trade(tick("50.00", et(*day, hour, 0, 1), symbol=symbol))
        d.on_trade_action(action("CLOSE", et(*day, hour, 1), trade_id=trade_id), ts_init=0)
        d.on_trade(tick("50.00", et(*day, hour, 1, 1), symbol=symbol))

    d.on_intent(intent(et(*MON, 10), "ts-1", quantity=50), ts_init=0)
    d.on_trade(tick("100.00", et(*MON, 10, 0, 1)))
    round_trip(MON, 11, "ts-2", "AAA")
    round_trip(MON, 12, "ts-3", "BBB")
    joined = decision(add(d, et(*MON, 13), 60))       # 2 day trades + ts-1 opened today = 3: no new one
    assert (joined.outcome, joined.quantity) == ("ACCEPT", 10)
    assert check(joined, "day_trades") == ("passed", D("3.00000000"), D("3.00000000"))
    d.on_trade(tick("100.00", et(*MON, 13, 0, 1)))
    round_trip(TUE, 10, "ts-4", "CCC")                # the 3rd day trade in the window
    fourth = decision(add(d, et(*TUE, 11), 70))       # ts-1 opened Monday: units bought and sold today
    assert (fourth.outcome, fourth.quantity) == ("REJECT", 0)
    assert check(fourth, "day_trades") == ("failed", D("3.00000000"), D("3.00000000"))
    assert "this entry would make day trade 4" in fourth.reasons[0]
    assert d.trade_manager.trade("ts-1").open_quantity == 60


# == while it works ================================================================================
def test_a_second_add_on_or_one_with_exits_pending_waits() -> None:
    d = opened()
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)
    add(d, et(*WED, 10, 2), 200)
    second = decision(add(d, et(*WED, 10, 2, 1), 210))
    assert second.reasons == (f"working_entry: entry order ts-1:manual:change_quantity:{et(*WED, 10, 2)} of the trade "
                              "still works: an add-on waits until it is done",)
    d.on_trade(tick("100.00", et(*WED, 10, 2, 2)))
    d.on_trade_action(action("CHANGE_QUANTITY", et(*WED, 10, 3), quantity=150), ts_init=0)   # a partial exit
    pending = decision(add(d, et(*WED, 10, 3, 1), 250))
    assert pending.reasons[0].startswith("pending_exits: 50 of the 200 open units are being closed")


def test_a_close_cancels_the_working_add_on_and_closes_what_is_open() -> None:
    d = opened()
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)
    add(d, et(*WED, 10, 2), 200)
    events = d.on_trade_action(action("CLOSE", et(*WED, 10, 2, 0, 500)), ts_init=0)
    orders = [(e.client_order_id, e.event) for e in events if isinstance(e, OrderStatusChanged)]
    assert orders == [(f"ts-1:manual:change_quantity:{et(*WED, 10, 2)}", "CANCELLED"), ("ts-1:exit:1", "ACCEPTED")]
    assert decision(events).quantity == 150
    d.on_trade(tick("100.00", et(*WED, 10, 2, 1)))
    [row] = d.deal_rows()
    assert (row.entry_qty, row.exit_qty, row.status.value) == (150, 150, "Completed")
    assert d._add_ons == {} and d.trade_manager.open_trades("acct-1") == ()


def test_the_risk_counts_a_working_add_on_with_its_trade_at_its_price_and_the_stop_moved_meanwhile() -> None:
    d = opened()
    d.on_trade(tick("101.00", et(*WED, 10, 0, 30)))
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)   # risk 150 x 1.00
    add(d, et(*WED, 10, 2), 200)      # 50 at 101.00: budget left 150 / 2.00 = 75, asked 50
    [record] = d._prepare("acct-1", et(*WED, 10, 2)).snapshot_at(et(*WED, 10, 2)).open_trades
    # (150 x 100.00 + 50 x 101.00) / 200 = 100.25; 200 x (100.25 - 99.00) = 250.00 = 150 + 50 x 2.00
    assert (record.quantity, record.entry_price, record.risk) == (200, D("100.25"), D("250.00"))
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 2, 1), price="99.50"), ts_init=0)
    [record] = d._prepare("acct-1", et(*WED, 10, 2, 1)).snapshot_at(et(*WED, 10, 2, 1)).open_trades
    assert record.risk == D("150.00")                                          # 200 x (100.25 - 99.50)
    d.on_trade(tick("101.00", et(*WED, 10, 2, 2)))
    view = d.trade_manager.trade("ts-1")
    assert (view.open_quantity, view.stop_price, view.average_entry_price) == (200, D("99.50"), D("100.25"))


# == snapshot, replay ==============================================================================
def test_a_desk_restored_mid_add_on_continues_as_one_run_and_a_replay_gives_the_same_ids() -> None:
    def run(cut: int | None) -> tuple[list, list]:  # noqa: ANN202
        d = opened(desk(accounts=[account(**BUDGET_300)], fill_model=FillModel(partial_fills=True)))
        steps = [lambda: d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0),
                 lambda: add(d, et(*WED, 10, 2), 250),
                 lambda: d.on_trade(tick("100.00", et(*WED, 10, 2, 1), size=30)),     # 30 of the 100
                 lambda: d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 2, 2), price="99.20"), ts_init=0),
                 lambda: d.on_trade(tick("100.40", et(*WED, 10, 2, 3))),              # the other 70
                 lambda: d.on_trade(tick("99.10", et(*WED, 10, 3, 1))),
                 lambda: d.on_trade(tick("99.00", et(*WED, 10, 3, 6)))]
        out = []
        for i, step in enumerate(steps):
            if i == cut:
                d = TradingDesk.restore(d.config, d.snapshot())     # noqa: F841 (the steps read d)
            out += step()
        return out, d.deal_rows()

    events, rows = run(None)
    made = [e for e in events if isinstance(e, RiskDecisionMade) and e.action == "entry"]
    assert [(m.intent_id, m.outcome, m.quantity) for m in made] == [
        (f"ts-1:manual:change_quantity:{et(*WED, 10, 2)}", "ACCEPT", 100)]
    [row] = rows      # (150 x 100.00 + 30 x 100.00 + 70 x 100.40) / 250 = 100.112; stopped out at 99.00
    assert (row.entry_qty, row.exit_qty, row.entry_price, row.pnl) == (250, 250, D("100.112"), D("-278.00"))
    for cut in (2, 3, 4):          # with the add-on working, partly filled, and its stop moved
        assert run(cut) == (events, rows)


def test_a_live_add_on_filled_after_its_trade_closed_opens_a_trade_of_its_own() -> None:
    d = desk(accounts=[dataclasses.replace(account(**BUDGET_300), broker="ibkr")])
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    [entry] = d.take_outbox()
    d.on_broker_events(fills_as_paper(entry, D("100.00"), et(*WED, 10, 0, 1), 5001), 0)
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)
    add(d, et(*WED, 10, 2), 200)
    [add_on] = d.take_outbox()
    d.on_trade_action(action("CLOSE", et(*WED, 10, 3)), ts_init=0)      # a live order cannot be cancelled here
    [close] = d.take_outbox()
    d.on_broker_events(fills_as_paper(close, D("99.60"), et(*WED, 10, 3, 1), 5002), 0)
    assert d.trade_manager.trade("ts-1").status.value == "Closed"
    events = d.on_broker_events(fills_as_paper(add_on, D("99.50"), et(*WED, 10, 3, 2), 5003), 0)
    assert [f.trade_id for f in events if isinstance(f, FillExecuted)] == [add_on.client_order_id]
    closed, own = d.trade_manager.trade("ts-1"), d.trade_manager.trade(add_on.client_order_id)
    assert (closed.status.value, closed.entry_quantity, closed.exit_quantity) == ("Closed", 150, 150)
    assert (own.status.value, own.open_quantity, own.average_entry_price, own.stop_price) == (
        "Running", 50, D("99.50"), D("99.00"))          # the closed trade's last stop
    assert d.book("acct-1").trades_today == 2 and d._add_ons == {}
    assert [r.entry_qty for r in d.deal_rows()] == [150, 50]

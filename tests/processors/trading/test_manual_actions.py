"""An operator's manual actions on a running trade, decided by the desk as intents are (figures by hand).

The trade of every test: acct-1 (conftest: $50,000, per-trade budget min($500, 0.8 % of equity), max open risk
$2,000), an entry signal at 100.00 with a 2 % stop (98.00): 400 / 2.00 = 200 shares, filled at the first print
100.00 at 10:00:01 on Wednesday 2026-06-10 ($1.00 commission). Its risk is 200 x (100.00 - 98.00) = $400; no target.
"""

from __future__ import annotations

from decimal import Decimal

from processors.model import FillExecuted, OrderStatusChanged, RiskDecisionMade, TradeActionRequested, trade_action_id
from processors.trading import TradingDesk
from processors.trading.session import TradingSession

from .conftest import D, account, desk, et, intent, tick

WED = (2026, 6, 10)


def action(kind: str, at: int, *, trade_id: str = "ts-1", account_id: str = "acct-1", price: str | None = None,
           quantity: int | None = None) -> TradeActionRequested:
    return TradeActionRequested(action_id=trade_action_id(trade_id, kind, at), account_id=account_id,
                                trade_id=trade_id, action=kind, ts_event=at, ts_init=at, operator="ana",
                                price=None if price is None else D(price), quantity=quantity, reason="desk review")


def opened(**limits) -> TradingDesk:
    d = desk(accounts=[account(**limits)]) if limits else desk()
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    d.on_trade(tick("100.00", et(*WED, 10, 0, 1)))
    assert d.trade_status("ts-1").value == "Running"
    return d


def decision(events) -> RiskDecisionMade:
    [made] = [e for e in events if isinstance(e, RiskDecisionMade)]
    return made


def check(made: RiskDecisionMade, name: str) -> tuple[str, Decimal | None, Decimal | None]:
    i = made.check_names.index(name)
    return made.check_outcomes[i], made.check_values[i], made.check_limits[i]


# == close ========================================================================================
def test_a_close_is_an_exit_order_filled_by_the_next_print_and_commented_manual() -> None:
    d = opened()
    events = d.on_trade_action(action("CLOSE", et(*WED, 10, 1)), ts_init=5)
    made = decision(events)
    assert (made.intent_id, made.action, made.outcome, made.quantity) == (
        "ts-1:manual:close:" + str(et(*WED, 10, 1)), "exit", "ACCEPT", 200)
    assert made.check_names[0] == "operator" and "asked by ana: desk review" in made.check_details[0]
    assert check(made, "entry_limits")[0] == "not_applicable"
    [order] = [e for e in events if isinstance(e, OrderStatusChanged)]
    assert (order.client_order_id, order.side, order.order_type, order.quantity) == ("ts-1:exit:1", "SELL", "MARKET",
                                                                                     200)
    fills = [e for e in d.on_trade(tick("101.00", et(*WED, 10, 1, 1))) if isinstance(e, FillExecuted)]
    assert [(f.quantity, f.price) for f in fills] == [(200, D("101.00"))]
    [row] = d.deal_rows()
    assert (row.status.value, row.comment, row.pnl) == ("Completed", "manual", D("200.00"))   # 200 x (101 - 100)


def test_a_close_is_not_blocked_by_the_kill_switch() -> None:
    d = opened()
    d.trip_kill_switch("acct-1", "news halt", et(*WED, 10, 0, 2))
    assert d.book("acct-1").kill_switch.tripped
    made = decision(d.on_trade_action(action("CLOSE", et(*WED, 10, 0, 3)), ts_init=0))   # before the 10:00:05 sweep
    assert (made.outcome, made.quantity, made.kill_switch_tripped) == ("ACCEPT", 200, True)
    d.on_trade(tick("99.50", et(*WED, 10, 0, 4)))
    [row] = d.deal_rows()
    assert (row.status.value, row.comment) == ("Completed", "manual")


def test_a_second_close_before_the_first_fills_is_refused_every_unit_is_being_closed() -> None:
    d = opened()
    d.on_trade_action(action("CLOSE", et(*WED, 10, 1)), ts_init=0)
    made = decision(d.on_trade_action(action("CLOSE", et(*WED, 10, 1, 0, 500)), ts_init=0))
    assert made.outcome == "REJECT"
    assert made.reasons == ("pending_exits: every one of the 200 open units is being closed already by pending exits",)


def test_a_request_given_twice_is_decided_once() -> None:
    d = opened()
    request = action("CLOSE", et(*WED, 10, 1))
    assert d.on_trade_action(request, ts_init=0)
    assert d.on_trade_action(request, ts_init=0) == []


# == quantity ======================================================================================
def test_fewer_units_is_a_partial_manual_exit_of_the_difference() -> None:
    d = opened()
    made = decision(d.on_trade_action(action("CHANGE_QUANTITY", et(*WED, 10, 1), quantity=150), ts_init=0))
    assert (made.action, made.outcome, made.quantity, made.requested_quantity) == ("exit", "ACCEPT", 50, 50)
    d.on_trade(tick("100.50", et(*WED, 10, 1, 1)))
    [row] = d.deal_rows()
    assert (row.status.value, row.comment) == ("Running", "manual")
    view = d.trade_manager.trade("ts-1")
    assert (view.open_quantity, view.exit_quantity) == (150, 50)


def test_more_units_past_the_per_trade_budget_or_the_same_are_refused_with_the_reason() -> None:
    d = opened()
    more = decision(d.on_trade_action(action("CHANGE_QUANTITY", et(*WED, 10, 1), quantity=300), ts_init=0))
    assert (more.action, more.outcome, more.requested_quantity) == ("entry", "REJECT", 100)
    # the trade risks $400 of the $399.992 budget (0.8 % of $49,999 after the $1 commission): nothing is left
    assert check(more, "max_loss_per_trade") == ("failed", D("402.00000000"), D("399.99200000"))
    assert more.reasons[0].startswith("stop_within_limits: one lot of 1 at stop 98.00 risks 2.00; room 0 = ")
    same = decision(d.on_trade_action(action("CHANGE_QUANTITY", et(*WED, 10, 2), quantity=200), ts_init=0))
    assert same.reasons == ("quantity: the trade has 200 open units already: nothing to change",)
    zero = decision(d.on_trade_action(action("CHANGE_QUANTITY", et(*WED, 10, 3), quantity=0), ts_init=0))
    assert zero.outcome == "REJECT" and zero.reasons[0].startswith("quantity: the new open quantity must be")
    assert d.trade_manager.trade("ts-1").open_quantity == 200


# == stop ==========================================================================================
def test_a_tighter_stop_is_accepted_and_stops_the_trade_out_on_the_prints_after_it() -> None:
    d = opened()
    made = decision(d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="98.50"), ts_init=0))
    assert (made.action, made.outcome, made.stop_price) == ("move_stop", "ACCEPT", D("98.50"))
    assert (made.trade_risk, made.open_risk_after) == (D("300.00000000"), D("300.00000000"))   # 200 x 1.50
    assert check(made, "price_side") == ("passed", D("98.50"), D("100"))
    assert d.trade_manager.trade("ts-1").stop_price == D("98.50")
    d.on_trade(tick("98.60", et(*WED, 10, 1, 2)))      # above the new stop: nothing at the 10:01:05 sweep
    d.on_trade(tick("98.40", et(*WED, 10, 1, 7)))      # through it
    d.on_trade(tick("98.30", et(*WED, 10, 1, 11)))     # the 10:01:10 sweep's exit fills here
    [row] = d.deal_rows()
    assert (row.status.value, row.comment) == ("Completed", "stop-loss")


def test_a_stop_on_the_wrong_side_of_the_price_is_refused() -> None:
    d = opened()
    made = decision(d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="100.50"), ts_init=0))
    assert made.outcome == "REJECT"
    assert made.reasons == ("price_side: a long's stop must be below the latest price 100, got 100.5",)
    assert d.trade_manager.trade("ts-1").stop_price == D("98.00")


def test_a_wider_stop_past_the_per_trade_budget_is_refused_with_the_figures() -> None:
    d = opened()
    made = decision(d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="97.90"), ts_init=0))
    assert made.outcome == "REJECT"
    # 200 x 2.10 = 420 over min(500, equity 49,999 (50,000 less the entry's $1.00 commission) x 0.8 % = 399.992)
    assert check(made, "risk_budget") == ("failed", D(420), D("399.992"))
    assert check(made, "max_open_risk") == ("passed", D(420), D(2000))
    assert made.reasons[0].startswith("risk_budget: the trade's risk at stop 97.9: 200 units x 2.10 x 1 = 420.00")
    assert d.trade_manager.trade("ts-1").stop_price == D("98.00")


def test_a_wider_stop_past_the_accounts_open_risk_is_refused_with_the_figures() -> None:
    # budget min(1000, 5 % of 50,000) = 1000, so 1000 / 2 = 500 shares, capped by the open risk room 500 / 2 = 250
    d = opened(max_loss_per_trade=D(1000), max_loss_per_trade_pct=D(5), max_open_risk=D(500))
    assert d.trade_manager.trade("ts-1").open_quantity == 250
    made = decision(d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="97.90"), ts_init=0))
    assert check(made, "risk_budget") == ("passed", D("525.00"), D(1000))    # 250 x 2.10
    assert check(made, "max_open_risk") == ("failed", D("525.00"), D(500))   # 500 - 500 + 525
    assert made.reasons == ("max_open_risk: open risk 500.00 - 500.00 + 525.00 = 525.00, limit max_open_risk 500",)


def test_a_stop_off_the_tick_grid_is_refused() -> None:
    made = decision(opened().on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="98.505"), ts_init=0))
    assert made.reasons == ("price: the new stop 98.505 is not on the tick grid of 0.01",)


# == target ========================================================================================
def test_a_target_is_moved_on_the_right_side_and_taken_at_a_sweep() -> None:
    d = opened()
    made = decision(d.on_trade_action(action("MOVE_TARGET", et(*WED, 10, 1), price="101.00"), ts_init=0))
    assert (made.action, made.outcome) == ("move_target", "ACCEPT")
    assert d.trade_manager.trade("ts-1").target_price == D("101.00")
    d.on_trade(tick("101.10", et(*WED, 10, 1, 2)))
    d.on_trade(tick("101.05", et(*WED, 10, 1, 6)))     # the 10:01:05 sweep's exit fills here
    [row] = d.deal_rows()
    assert (row.status.value, row.comment) == ("Completed", "profit target")


def test_a_target_below_the_price_or_the_stop_is_refused() -> None:
    d = opened()
    below = decision(d.on_trade_action(action("MOVE_TARGET", et(*WED, 10, 1), price="99.00"), ts_init=0))
    assert below.reasons == ("price_side: a long's target must be above the latest price 100, got 99",)
    under_stop = decision(d.on_trade_action(action("MOVE_TARGET", et(*WED, 10, 2), price="97.00"), ts_init=0))
    assert [r.split(":")[0] for r in under_stop.reasons] == ["price_side", "stop_target"]
    assert d.trade_manager.trade("ts-1").target_price is None


# == the trade =====================================================================================
def test_an_unknown_trade_another_accounts_and_a_closed_one_are_refused() -> None:
    d = opened()
    unknown = decision(d.on_trade_action(action("CLOSE", et(*WED, 10, 1), trade_id="ts-9"), ts_init=0))
    assert unknown.reasons == ("trade: trade 'ts-9' is not running on this desk (unknown, or its entry has not "
                               "filled yet)",)
    other = decision(d.on_trade_action(action("CLOSE", et(*WED, 10, 2), account_id="acct-2"), ts_init=0))
    assert other.reasons == ("trade: trade 'ts-1' is of account 'acct-1', not 'acct-2'",)
    d.on_trade_action(action("CLOSE", et(*WED, 10, 3)), ts_init=0)
    d.on_trade(tick("100.00", et(*WED, 10, 3, 1)))
    closed = decision(d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 4), price="99.00"), ts_init=0))
    assert closed.reasons == ("trade: trade 'ts-1' is Closed: only a running trade changes by hand",)


def test_a_restored_desk_keeps_the_moved_stop_and_target() -> None:
    d = opened()
    d.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0)
    d.on_trade_action(action("MOVE_TARGET", et(*WED, 10, 2), price="102.00"), ts_init=0)
    restored = TradingDesk.restore(d.config, d.snapshot())
    view = restored.trade_manager.trade("ts-1")
    assert (view.stop_price, view.target_price) == (D("99.00"), D("102.00"))
    assert restored.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), ts_init=0) == []


# == the session: the trade's events ===============================================================
def test_the_session_publishes_stop_and_target_moves_as_trade_events() -> None:
    d = desk()
    run = TradingSession({}, d)
    d.on_intent(intent(et(*WED, 10), "ts-1"), ts_init=0)
    opened_events = run.on_trade(tick("100.00", et(*WED, 10, 0, 1)), 0).trading
    assert [e.change for e in opened_events if type(e).__name__ == "TradeUpdated"] == ["OPENED"]
    stop = run.on_trade_action(action("MOVE_STOP", et(*WED, 10, 1), price="99.00"), 0).trading
    target = run.on_trade_action(action("MOVE_TARGET", et(*WED, 10, 2), price="102.00"), 0).trading
    refused = run.on_trade_action(action("MOVE_STOP", et(*WED, 10, 3), price="100.50"), 0).trading
    updates = [e for e in stop + target + refused if type(e).__name__ == "TradeUpdated"]
    assert [(u.change, u.version, u.stop_price, u.target_price, u.ts_event) for u in updates] == [
        ("STOP_MOVED", 1, D("99.00000000"), None, et(*WED, 10, 1)),
        ("TARGET_MOVED", 2, D("99.00000000"), D("102.00000000"), et(*WED, 10, 2))]

"""Entry and exit fills: Waiting -> Running -> Closed, the exact average entry, partial exits, the comment,
the deals rows, and exit requests that are never made twice for the same shares."""

from __future__ import annotations

from processors.deals import DEALS_COLUMNS, DealStatus
from processors.risk import ExitReason
from processors.trades import EntrySubmitted, ExitCancelled, TradeStatus

from .conftest import D, at, entry, exit_fill, manager, prices


def test_partial_entry_fills_add_to_the_trade_at_the_exact_average_price() -> None:
    m = manager()
    m.on_entry_fill(entry(quantity=60, price="100.00", ts=at(1)))
    m.on_entry_fill(entry(quantity=40, price="100.25", ts=at(2)))
    view = m.trade("T1")
    assert (view.entry_quantity, view.open_quantity) == (100, 100)
    assert view.average_entry_price == D("100.10")           # (6000.00 + 4010.00) / 100


def test_a_submitted_entry_waits_and_its_first_fill_makes_it_running() -> None:
    m = manager()
    m.on_entry_submitted(EntrySubmitted(trade_id="T1", account_id="ACC", strategy="breakout", symbol="SPY",
                                        direction="long", stop_price=D("98.00"), ts_event=at(0.5)))
    assert m.trade("T1").status is TradeStatus.WAITING
    assert m.deal_rows() == []                               # no fill: not a deal yet
    m.on_entry_fill(entry(ts=at(1)))
    assert (m.trade("T1").status, m.trade("T1").opened_ns) == (TradeStatus.RUNNING, at(1))


def test_exit_fills_close_the_trade_with_its_comment_and_pnl() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1), charges=D("1.00")))
    m.on_price("SPY", D("97.90"), at(2))
    [request] = m.advance_to(at(5))
    m.on_exit_fill(exit_fill(request.request_id, 40, "97.90", at(6), charges=D("0.50")))
    view = m.trade("T1")
    assert (view.status, view.open_quantity, view.pending_exit_quantity) == (TradeStatus.RUNNING, 60, 60)
    m.on_exit_fill(exit_fill(request.request_id, 60, "97.80", at(7), charges=D("0.50")))
    view = m.trade("T1")
    assert (view.status, view.open_quantity, view.closed_ns, view.comment) == \
        (TradeStatus.CLOSED, 0, at(7), "stop-loss")
    assert view.realised_pnl == D("-216.00")                 # 40 x 97.90 + 60 x 97.80 - 100 x 100.00
    [row] = m.deal_rows()
    assert (row.entry_qty, row.exit_qty, row.exit_price, row.pnl, row.charges, row.net_pnl, row.status) == \
        (100, 100, D("97.84"), D("-216.00"), D("2.00"), D("-218.00"), DealStatus.COMPLETED)
    assert len(row.cells()) == len(DEALS_COLUMNS)


def test_a_manual_exit_without_a_request_is_recorded_as_manual_and_shown_partially_in_the_deals() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_exit_fill(exit_fill(None, 30, "101.00", at(2)))
    [row] = m.deal_rows()
    assert (row.entry_qty, row.exit_qty, row.pnl, row.status, row.comment) == \
        (100, 30, D("30.00"), DealStatus.RUNNING, "manual")


def test_a_pending_exit_is_not_requested_twice() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("97.00"), at(2))
    [first] = m.advance_to(at(5))
    assert prices(m, "SPY", (6, "96.00"), (11, "95.00")) == []   # still through the stop, sweeps at 10 and 15
    assert m.advance_to(at(30)) == []
    m.on_exit_fill(exit_fill(first.request_id, 40, "96.90", at(31)))
    assert m.on_price("SPY", D("94.00"), at(32)) + m.advance_to(at(40)) == []
    assert m.trade("T1").pending_exit_quantity == 60


def test_a_cancelled_request_frees_its_unfilled_shares_for_the_next_request() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("97.00"), at(2))
    [first] = m.advance_to(at(5))
    m.on_exit_fill(exit_fill(first.request_id, 40, "96.90", at(6)))
    m.on_exit_cancelled(ExitCancelled(trade_id="T1", request_id=first.request_id, ts_event=at(7), reason="rejected"))
    [second] = m.advance_to(at(10))
    assert (second.request_id, second.reason, second.quantity, second.trigger_price) == \
        ("T1:exit:2", ExitReason.STOP_LOSS, 60, D("97.00"))
    # a cancel of a request that is no longer pending changes nothing
    m.on_exit_fill(exit_fill(second.request_id, 60, "96.95", at(11)))
    assert m.on_exit_cancelled(ExitCancelled(trade_id="T1", request_id=second.request_id, ts_event=at(12))) == []


def test_a_replay_asks_for_the_same_exits_with_the_same_ids() -> None:
    def run() -> list:
        m = manager()
        out = m.on_entry_fill(entry(ts=at(1)))
        out += m.on_entry_fill(entry("T2", symbol="QQQ", price="50.00", stop="49.00", ts=at(1)))
        out += prices(m, "SPY", (2, "97.00"))
        out += prices(m, "QQQ", (3, "48.00"))
        return out + m.advance_to(at(20))

    first, second = run(), run()
    assert first == second
    assert [r.request_id for r in first] == ["T1:exit:1", "T2:exit:1"]


def test_a_manual_exit_trims_pending_requests_to_what_is_open() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("97.00"), at(2))
    m.advance_to(at(5))
    m.on_exit_fill(exit_fill(None, 70, "97.10", at(6)))
    assert (m.trade("T1").open_quantity, m.trade("T1").pending_exit_quantity) == (30, 30)

"""Exit signals from the rule engine: the selected running trades are asked to close with EXIT_RULE, once."""

from __future__ import annotations

from processors.risk import ExitReason
from processors.trades import TradeSelector

from .conftest import D, at, entry, manager


def test_an_exit_signal_closes_the_selected_trades_at_its_own_time() -> None:
    m = manager()
    m.on_entry_fill(entry("T1", ts=at(1)))
    m.on_entry_fill(entry("T2", strategy="meanrev", ts=at(1)))
    m.on_entry_fill(entry("T3", symbol="QQQ", price="50.00", stop="49.00", ts=at(1)))
    m.on_price("SPY", D("100.40"), at(2))
    requests = m.on_exit_signal(TradeSelector(strategy="breakout"), at(3), "close below the 20-bar mean")
    assert [(r.trade_id, r.reason, r.quantity, r.ts_event, r.trigger_price) for r in requests] == [
        ("T1", ExitReason.EXIT_RULE, 100, at(3), D("100.40")), ("T3", ExitReason.EXIT_RULE, 100, at(3), None)]
    assert m.on_exit_signal(TradeSelector(strategy="breakout"), at(4)) == []     # pending: not asked twice


def test_a_predicate_selects_over_the_trade_view() -> None:
    m = manager()
    m.on_entry_fill(entry("T1", ts=at(1)))
    m.on_entry_fill(entry("T2", quantity=10, ts=at(1)))
    [request] = m.on_exit_signal(lambda trade: trade.open_quantity < 50, at(2))
    assert request.trade_id == "T2"

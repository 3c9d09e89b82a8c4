"""Bad input is refused with a TradeError naming the field, and a refused event changes nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from processors.trades import (EntrySubmitted, ExitCancelled, RiskReductionLevel, SellFraction, StrategySettings,
                               TimeClose, TradeError)

from .conftest import D, at, entry, exit_fill, manager


def refused(call, field: str) -> TradeError:
    with pytest.raises(TradeError) as raised:
        call()
    assert raised.value.field == field, raised.value
    return raised.value


@pytest.mark.parametrize(("build", "field"), [
    (lambda: entry(quantity=-5), "entry.quantity"),
    (lambda: entry(quantity=0), "entry.quantity"),
    (lambda: replace(entry(), price=100.0), "entry.price"),          # a float
    (lambda: entry(price="0"), "entry.price"),
    (lambda: entry(price="100.000000001"), "entry.price"),           # beyond 1e-8
    (lambda: entry(direction="up"), "entry.direction"),
    (lambda: entry(target="97.00"), "entry.target_price"),           # a long's target under its stop
    (lambda: entry(account=""), "entry.account_id"),
    (lambda: exit_fill(None, -1, "100.00", at(2)), "exit.quantity"),
    (lambda: exit_fill(None, 1, "100.00", at(2), reason="panic"), "exit.reason"),
], ids=["negative quantity", "zero quantity", "float price", "zero price", "nine decimals", "direction",
        "target under stop", "empty account", "negative exit", "unknown reason"])
def test_an_event_with_a_wrong_value_cannot_be_built(build, field: str) -> None:
    refused(build, field)


def test_a_stop_or_target_on_the_wrong_side_of_the_entry_is_refused() -> None:
    m = manager()
    error = refused(lambda: m.on_entry_fill(entry(stop="100.50")), "entry.stop_price")
    assert "stop must be below its entry price 100.00" in error.message
    refused(lambda: m.on_entry_fill(entry(direction="short", stop="99.00")), "entry.stop_price")
    refused(lambda: m.on_entry_fill(entry(stop="98.00", target="99.50", price="100.00")), "entry.target_price")
    assert m.trades() == []


def test_unknown_trades_and_requests_are_refused_and_change_nothing() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("99.00"), at(2))
    before = m.snapshot()
    refused(lambda: m.on_exit_fill(exit_fill(None, 10, "99.00", at(30), trade_id="NOPE")), "exit.trade_id")
    refused(lambda: m.on_exit_fill(exit_fill("T1:exit:7", 10, "99.00", at(30))), "exit.request_id")
    refused(lambda: m.on_exit_fill(exit_fill(None, 101, "99.00", at(30))), "exit.quantity")
    refused(lambda: m.on_exit_cancelled(ExitCancelled(trade_id="T1", request_id="T1:exit:1", ts_event=at(30))),
            "exit_cancelled.request_id")
    refused(lambda: m.on_entry_fill(entry(symbol="QQQ", ts=at(30))), "entry.symbol")
    refused(lambda: m.on_entry_fill(entry(stop="97.00", ts=at(30))), "entry.stop_price")
    refused(lambda: m.on_price("SPY", D("-1"), at(30)), "price.price")
    refused(lambda: m.trade("NOPE"), "trade_id")
    refused(lambda: m.reset_kill_switch("NOPE", "why", at(30)), "reset.account_id")
    refused(lambda: m.on_entry_submitted(EntrySubmitted(trade_id="T1", account_id="ACC", strategy="breakout",
                                                        symbol="SPY", direction="long", stop_price=D("98.00"),
                                                        ts_event=at(30))), "entry.trade_id")
    assert m.snapshot() == before


def test_an_exit_beyond_its_request_or_after_the_close_is_refused() -> None:
    m = manager()
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("97.00"), at(2))
    [request] = m.advance_to(at(5))
    m.on_exit_fill(exit_fill(request.request_id, 60, "97.00", at(6)))
    refused(lambda: m.on_exit_fill(exit_fill(request.request_id, 41, "97.00", at(7))), "exit.quantity")
    refused(lambda: m.on_exit_fill(exit_fill(request.request_id, 40, "97.00", at(7), reason="manual")), "exit.reason")
    m.on_exit_fill(exit_fill(request.request_id, 40, "97.00", at(7)))
    refused(lambda: m.on_exit_fill(exit_fill(None, 1, "97.00", at(8))), "exit.trade_id")
    refused(lambda: m.on_entry_fill(entry(ts=at(8))), "entry.trade_id")


@pytest.mark.parametrize(("build", "field"), [
    (lambda: TimeClose(), "time_close"),
    (lambda: TimeClose(at_et=dt.time(15, 55), before_close_s=300), "time_close"),
    (lambda: TimeClose(before_close_s=-1), "time_close.before_close_s"),
    (lambda: RiskReductionLevel(trigger_r=D(0), sell=SellFraction(D("0.5"))), "risk_reduction.trigger_r"),
    (lambda: SellFraction(D("1.5")), "risk_reduction.sell.fraction"),
    (lambda: RiskReductionLevel(trigger_r=D(1), sell=None), "risk_reduction"),
    (lambda: StrategySettings(risk_reduction=(RiskReductionLevel(trigger_r=D(2), sell=SellFraction(D("0.5"))),
                                              RiskReductionLevel(trigger_r=D(1), sell=SellFraction(D("0.5"))))),
     "strategy.risk_reduction"),
    (lambda: manager(interval_s=0), "config.sweep_interval_s"),
], ids=["no time", "two times", "negative offset", "zero R", "fraction above 1", "level doing nothing",
        "levels out of order", "zero interval"])
def test_a_bad_setting_is_refused(build, field: str) -> None:
    refused(build, field)

"""The manager's state as plain JSON-able data: restoring it at any point and going on gives the same exit
requests and the same final state as a run that was never interrupted."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from processors.risk import ExitReason
from processors.trades import (AccountSettings, BreakEven, ExitCancelled, RiskReductionLevel, SellFraction,
                               StrategySettings, TimeClose, TradeError, TradeManager, TradeSelector)

from .conftest import CAL, D, LIMITS, entry, et, exit_fill, manager


def day(hour: int, minute: int, second: int = 0) -> int:
    return et(2026, 11, 27, hour, minute, second)            # an early-close day (13:00)


def configured() -> TradeManager:
    return manager(
        strategies={"breakout": StrategySettings(
            time_close=TimeClose(before_close_s=300),
            risk_reduction=(RiskReductionLevel(trigger_r=D(1), sell=SellFraction(D("0.5")), move_stop=BreakEven()),))},
        accounts={"ACC": AccountSettings(limits=LIMITS, start_of_day_equity=D(10_000))})


Step = Callable[[TradeManager], list]

SCENARIO: list[Step] = [
    lambda m: m.on_entry_fill(entry("T1", ts=day(10, 0, 1))),
    lambda m: m.on_entry_fill(entry("T2", symbol="QQQ", direction="short", quantity=50, price="50.00", stop="51.00",
                                    target="47.00", strategy="fade", ts=day(10, 0, 2))),
    lambda m: m.on_price("SPY", D("101.00"), day(10, 0, 3)),
    lambda m: m.on_price("SPY", D("102.10"), day(10, 0, 7)),
    lambda m: m.on_price("QQQ", D("49.50"), day(10, 0, 8)),
    lambda m: m.advance_to(day(10, 0, 10)),
    lambda m: m.on_exit_fill(exit_fill("T1:exit:1", 50, "102.05", day(10, 0, 11))),
    lambda m: m.on_entry_fill(entry("T3", quantity=10, price="102.00", stop="101.00", ts=day(10, 0, 12))),
    lambda m: m.on_entry_fill(entry("T3", quantity=10, price="102.20", stop="101.00", ts=day(10, 0, 13))),
    lambda m: m.on_price("SPY", D("99.90"), day(10, 0, 14)),
    lambda m: m.advance_to(day(10, 0, 15)),
    lambda m: m.on_exit_cancelled(ExitCancelled(trade_id="T3", request_id="T3:exit:1", ts_event=day(10, 0, 16))),
    lambda m: m.on_price("SPY", D("99.80"), day(10, 0, 21)),
    lambda m: m.on_exit_signal(TradeSelector(symbol="QQQ"), day(10, 0, 22), "fade exit"),
    lambda m: m.on_entry_fill(entry("T4", account="ACC2", ts=day(11, 0))),
    lambda m: m.on_entry_fill(entry("T5", symbol="IWM", quantity=100, price="200.00", stop="150.00", strategy="fade",
                                    ts=day(11, 30))),
    lambda m: m.on_price("IWM", D("197.00"), day(11, 31)),
    lambda m: m.advance_to(day(11, 32)),
    lambda m: m.reset_kill_switch("ACC", "checked", day(11, 33)),
    lambda m: m.on_price("SPY", D("100.10"), day(12, 0)),
    lambda m: m.advance_to(day(16, 0)),
]


def run(cut: int | None) -> tuple[list, dict]:
    m = configured()
    out: list = []
    for index, step in enumerate(SCENARIO):
        if index == cut:
            m = TradeManager.restore(configured().config, json.loads(json.dumps(m.snapshot())))
        out += step(m)
    return out, m.snapshot()


UNINTERRUPTED = run(None)


def test_the_scenario_exercises_every_kind_of_exit() -> None:
    requests, _ = UNINTERRUPTED
    assert {r.reason for r in requests} == {ExitReason.RISK_REDUCTION, ExitReason.STOP_LOSS, ExitReason.EXIT_RULE,
                                            ExitReason.KILL_SWITCH, ExitReason.TIME_CLOSE}
    assert [(r.trade_id, r.ts_event) for r in requests if r.reason is ExitReason.TIME_CLOSE] == [("T4", day(12, 55))]


@pytest.mark.parametrize("cut", range(len(SCENARIO)))
def test_restore_and_continue_equals_an_uninterrupted_run(cut: int) -> None:
    assert run(cut) == UNINTERRUPTED


def test_a_snapshot_of_another_version_is_refused() -> None:
    state = configured().snapshot()
    with pytest.raises(TradeError) as raised:
        TradeManager.restore(configured().config, {**state, "version": 99})
    assert raised.value.field == "snapshot.version"
    assert CAL.day(dt.date(2026, 11, 27)).early_close

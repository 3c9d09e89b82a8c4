"""Restore + continue = one run: a scripted session cut at every step, its snapshot through JSON and back, gives
the same events and the same final state as the uninterrupted run; and two runs give the same bytes."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from processors.model import Bar
from processors.paper import FillModel
from processors.risk import StopPercent
from processors.trades import StrategySettings, TimeClose
from processors.trading import StrategyTrading, TargetPercent, TradingDesk

from .conftest import D, account, cash_account, config, et, intent, kinds, tick

WED, THU = (2026, 6, 10), (2026, 6, 11)
Step = Callable[[TradingDesk], list]

STRATEGIES = {"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(D(2)), target=TargetPercent(D(3))),
              "cash": StrategyTrading(account_id="cash-1", stop=StopPercent(D(1)), intraday=False)}


def _config():
    return config(accounts=[account(max_drawdown_pct=D("0.5")), cash_account()], strategies=STRATEGIES,
                  tm_strategies={"breakout": StrategySettings(time_close=TimeClose(at_et=dt.time(15, 55)))},
                  fill_model=FillModel(partial_fills=True))


def _bar(day, hour, minute, open_, high, low, close) -> Bar:
    return Bar(symbol="XYZ", timeframe="1m", session="regular", start=et(*day, hour, minute),
               end=et(*day, hour, minute + 1), open=D(open_), high=D(high), low=D(low), close=D(close),
               volume=50_000, vwap=D(open_), trades=100, ts_init=7)


def _script() -> list[Step]:
    """Two accounts (margin and cash); a kill switch that refuses an entry until reset the next day; a duplicate
    intent; a stop filled at the next day's first print (the day roll); a target; a limit entry filled in two
    prints; a market entry filled at a bar's open; a time close; an exit signal."""
    return [
        lambda d: d.on_intent(intent(et(*WED, 10), "a-1"), ts_init=1),                                    # 0
        lambda d: d.on_intent(intent(et(*WED, 10), "c-1", strategy="cash", symbol="ABC", price="50.00"), ts_init=2),
        lambda d: d.on_trade(tick("100.02", et(*WED, 10, 0, 1))),
        lambda d: d.on_trade(tick("50.01", et(*WED, 10, 0, 1), symbol="ABC")),
        lambda d: d.on_trade(tick("98.50", et(*WED, 10, 0, 2))),
        lambda d: d.on_trade(tick("98.50", et(*WED, 10, 0, 6))),           # 5: the kill switch closes a-1
        lambda d: d.on_intent(intent(et(*WED, 10, 1), "a-2"), ts_init=3),  # refused: latched
        lambda d: d.on_intent(intent(et(*WED, 10, 1), "a-2"), ts_init=4),  # a duplicate: nothing
        lambda d: d.on_trade(tick("49.00", et(*WED, 10, 3), symbol="ABC")),
        lambda d: d.advance_to(et(*WED, 16)),                              # 9: c-1's stop, sent at 10:03:05
        lambda d: d.on_trade(tick("49.50", et(*THU, 9, 30), symbol="ABC")),  # the day roll, then c-1's exit fills
        lambda d: d.reset_kill_switch("acct-1", "reviewed", et(*THU, 9, 31)),
        lambda d: d.on_intent(intent(et(*THU, 10), "a-3"), ts_init=5),
        lambda d: d.on_trade(tick("100.02", et(*THU, 10, 0, 1))),
        lambda d: d.on_trade(tick("103.10", et(*THU, 10, 0, 3))),
        lambda d: d.on_trade(tick("103.20", et(*THU, 10, 0, 7))),          # 15: a-3's target
        lambda d: d.on_intent(intent(et(*THU, 10, 1), "a-4", order_type="LIMIT", limit_price="102.00"), ts_init=6),
        lambda d: d.on_trade(tick("101.90", et(*THU, 10, 1, 2), size=100)),   # a-4: 100 of its shares
        lambda d: d.on_trade(tick("101.80", et(*THU, 10, 1, 4))),             # ... and the rest
        lambda d: d.on_intent(intent(et(*THU, 15, 50), "a-5"), ts_init=7),
        lambda d: d.on_bar(_bar(THU, 15, 50, "100.00", "100.40", "99.90", "100.30")),   # 20: a-5 at the open
        lambda d: d.advance_to(et(*THU, 15, 55)),                          # the time close of a-4 and a-5
        lambda d: d.on_trade(tick("100.25", et(*THU, 15, 55, 2))),
        lambda d: d.on_intent(intent(et(*THU, 15, 56), "c-2", strategy="cash", symbol="ABC", price="50.00"),
                              ts_init=8),
        lambda d: d.on_trade(tick("49.80", et(*THU, 15, 56, 1), symbol="ABC")),
        lambda d: d.on_exit_signal("cash", "ABC", et(*THU, 15, 57)),      # 25
        lambda d: d.on_trade(tick("49.90", et(*THU, 15, 57, 1), symbol="ABC")),
    ]


def _run(desk: TradingDesk, steps: list[Step]) -> list[list]:
    return [step(desk) for step in steps]


def test_the_script_does_what_it_says() -> None:
    desk = TradingDesk(_config())
    out = _run(desk, _script())
    assert kinds(out[5]) == ["decision:exit:ACCEPT:200", "order:a-1:exit:1:ACCEPTED:0", "fill:a-1:exit:1:200@98.50"]
    assert out[6][0].outcome == "REJECT" and out[6][0].kill_switch_tripped and out[7] == []
    assert kinds(out[10]) == ["fill:c-1:exit:1:800@49.50"]
    assert out[10][0].ts_event == et(*THU, 9, 30)
    assert [e.quantity for e in out[17]] == [100] and sum(e.quantity for e in out[18]) > 0
    assert kinds(out[20])[0].startswith("fill:a-5:") and out[20][0].price == D("100.00")
    rows = desk.deal_rows()
    assert [(row.symbol, row.comment) for row in rows] == [
        ("XYZ", "kill switch"), ("ABC", "stop-loss"), ("XYZ", "profit target"), ("XYZ", "time close"),
        ("XYZ", "time close"), ("ABC", "exit rule")]
    assert all(row.status == "Completed" for row in rows)
    assert desk.book("acct-1").positions() == () and desk.book("cash-1").positions() == ()
    sequences = [(e.client_order_id, e.sequence) for step in out for e in step if hasattr(e, "sequence")]
    assert len(sequences) == len(set(sequences))        # (client order id, sequence) is a natural key


def test_restore_at_every_cut_continues_as_one_run() -> None:
    steps = _script()
    whole = TradingDesk(_config())
    expected = _run(whole, steps)
    final = json.dumps(whole.snapshot(), sort_keys=True)
    for cut in range(len(steps) + 1):
        first = TradingDesk(_config())
        _run(first, steps[:cut])
        data = json.loads(json.dumps(first.snapshot()))
        restored = TradingDesk.restore(_config(), data)
        assert _run(restored, steps[cut:]) == expected[cut:], f"cut at step {cut}"
        assert json.dumps(restored.snapshot(), sort_keys=True) == final, f"cut at step {cut}"
        assert restored.deal_rows() == whole.deal_rows()


def test_two_runs_give_the_same_events_byte_for_byte() -> None:
    one = repr(_run(TradingDesk(_config()), _script()))
    two = repr(_run(TradingDesk(_config()), _script()))
    assert one == two

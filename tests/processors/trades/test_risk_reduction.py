"""Risk reduction (RR-Trigger in R, Qty-Sell in whole lots) and the stop moved as configured, once per level."""

from __future__ import annotations

from processors.risk import ExitReason
from processors.trades import BreakEven, RiskReductionLevel, SellFraction, SellShares, StopOffset, StrategySettings

from .conftest import D, at, entry, exit_fill, manager, prices


def reducing(*levels: RiskReductionLevel):
    return manager(strategies={"breakout": StrategySettings(risk_reduction=levels)})


HALF_AT_1R_TO_BREAK_EVEN = RiskReductionLevel(trigger_r=D(1), sell=SellFraction(D("0.5")), move_stop=BreakEven())


def test_at_1r_half_is_sold_and_the_stop_moves_to_break_even_then_the_rest_is_stopped_there() -> None:
    m = reducing(HALF_AT_1R_TO_BREAK_EVEN)
    m.on_entry_fill(entry(ts=at(1)))                        # 100 @ 100.00, stop 98.00: R = 2.00, 1R at 102.00
    assert prices(m, "SPY", (2, "101.99")) + m.advance_to(at(5)) == []
    m.on_price("SPY", D("102.10"), at(6))
    [reduce] = m.advance_to(at(10))
    assert (reduce.reason, reduce.quantity, reduce.trigger_price, reduce.ts_event) == \
        (ExitReason.RISK_REDUCTION, 50, D("102.10"), at(10))
    assert m.trade("T1").stop_price == D("100.00")
    m.on_exit_fill(exit_fill(reduce.request_id, 50, "102.05", at(11)))
    assert prices(m, "SPY", (12, "101.00"), (16, "102.50")) + m.advance_to(at(20)) == []   # once per level
    m.on_price("SPY", D("99.95"), at(21))
    [stop] = m.advance_to(at(25))
    assert (stop.reason, stop.quantity, stop.trigger_price) == (ExitReason.STOP_LOSS, 50, D("99.95"))
    m.on_exit_fill(exit_fill(stop.request_id, 50, "99.90", at(26)))
    view = m.trade("T1")
    assert view.comment == "risk reduction; stop-loss"
    assert view.realised_pnl == D("97.50")                   # 50 x 2.05 - 50 x 0.10


def test_the_quantity_sold_is_rounded_down_to_whole_lots() -> None:
    m = reducing(HALF_AT_1R_TO_BREAK_EVEN)
    m.on_entry_fill(entry(quantity=300, lot_size=100, ts=at(1)))
    m.on_price("SPY", D("102.00"), at(2))
    [reduce] = m.advance_to(at(5))
    assert reduce.quantity == 100                            # half of 300 is 150: one whole lot of 100


def test_two_levels_crossed_in_one_interval_each_sell_once_and_move_the_stop_in_turn() -> None:
    m = reducing(HALF_AT_1R_TO_BREAK_EVEN,
                 RiskReductionLevel(trigger_r=D(2), sell=SellShares(30), move_stop=StopOffset(D("1.00"))))
    m.on_entry_fill(entry(ts=at(1)))
    m.on_price("SPY", D("104.50"), at(2))                    # past 1R (102.00) and 2R (104.00)
    first, second = m.advance_to(at(5))
    assert [(r.request_id, r.quantity) for r in (first, second)] == [("T1:exit:1", 50), ("T1:exit:2", 30)]
    assert m.trade("T1").stop_price == D("101.00")           # break-even 100.00, then 1.00 up
    assert m.trade("T1").risk_reduction_levels_done == 2


def test_a_stop_moved_through_the_latest_price_is_hit_at_once() -> None:
    m = reducing(RiskReductionLevel(trigger_r=D(1), sell=SellShares(20), move_stop=StopOffset(D("5.00"))))
    m.on_entry_fill(entry(ts=at(1)))
    prices(m, "SPY", (2, "102.50"), (3, "102.20"))
    reduce, stop = m.advance_to(at(5))                       # the stop 98.00 -> 103.00, above 102.20
    assert (reduce.reason, reduce.quantity) == (ExitReason.RISK_REDUCTION, 20)
    assert (stop.reason, stop.quantity, stop.trigger_price) == (ExitReason.STOP_LOSS, 80, D("102.20"))


def test_a_short_is_reduced_when_the_price_falls_by_r() -> None:
    m = reducing(HALF_AT_1R_TO_BREAK_EVEN)
    m.on_entry_fill(entry(direction="short", price="50.00", stop="51.00", ts=at(1)))   # 1R at 49.00
    m.on_price("SPY", D("49.00"), at(2))
    [reduce] = m.advance_to(at(5))
    assert (reduce.side, reduce.quantity, reduce.trigger_price) == ("BUY", 50, D("49.00"))
    assert m.trade("T1").stop_price == D("50.00")

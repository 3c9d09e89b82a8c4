"""The incremental aggregator: hand-computed cases, session alignment, event-time closing, state export,
and update_many == update_raw print by print."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.bars import (
    ACCEPTED,
    DUPLICATE,
    EXCLUDED_CONDITION,
    INVALID,
    LATE,
    OUTSIDE_SESSION,
    BarAggregator,
    Timeframe,
)
from processors.calendar import ET, parse_sessions
from processors.model import TradeTick

from .conftest import CAL, DAY, REGULAR, S, et, run, tick


def test_one_bar_by_hand() -> None:
    ticks = [tick(et(11, 24, 9, 30, 1), "10.00", 100), tick(et(11, 24, 9, 31), "10.50", 200),
             tick(et(11, 24, 9, 32), "9.75", 300), tick(et(11, 24, 9, 34, 59), "10.25", 400)]
    (bar,), rejected, _ = run(ticks)
    assert rejected == []
    assert (bar.open, bar.high, bar.low, bar.close) == (Decimal("10.00"), Decimal("10.50"), Decimal("9.75"),
                                                        Decimal("10.25"))
    assert bar.volume == 1000 and bar.trades == 4
    # vwap = (10*100 + 10.5*200 + 9.75*300 + 10.25*400) / 1000 = 10125 / 1000 = 10.125
    assert bar.vwap == Decimal("10.12500000")
    assert (bar.start, bar.end) == (et(11, 24, 9, 30), et(11, 24, 9, 35))
    assert bar.session == "regular" and bar.timeframe == "5m" and bar.ts_init == 7


def test_bar_closes_when_event_time_passes_its_end_plus_lateness() -> None:
    agg = BarAggregator("5m", REGULAR, CAL, lateness_ns=2 * S)
    agg.handle_tick(tick(et(11, 24, 9, 31), "10"))
    agg.handle_tick(tick(et(11, 24, 9, 35, 1), "11"))     # watermark 9:35:01 < 9:35:02: still open
    assert agg.drain()[0] == []
    # A tick of the first bar arriving within the lateness is merged; it is the new close? No: the
    # close is the latest event time, so it only moves high/low/volume here.
    assert agg.handle_tick(tick(et(11, 24, 9, 34, 59), "12")) == 0
    agg.handle_tick(tick(et(11, 24, 9, 35, 2), "11"))     # watermark reaches end + lateness
    (bar,), _ = agg.drain()
    assert (bar.open, bar.high, bar.close, bar.volume) == (Decimal("10"), Decimal("12"), Decimal("12"), 200)
    assert bar.ts_init == et(11, 24, 9, 35, 2) + 1000     # the tick that closed it
    assert agg.handle_tick(tick(et(11, 24, 9, 33), "13")) == LATE
    (_, rejected) = agg.drain()
    assert rejected[0].error_class == "LateTick" and rejected[0].is_error


def test_out_of_order_open_and_close_follow_event_time() -> None:
    ticks = [tick(et(11, 24, 9, 32), "2"), tick(et(11, 24, 9, 31), "1"), tick(et(11, 24, 9, 34), "4"),
             tick(et(11, 24, 9, 33), "3")]
    (bar,), _, _ = run(ticks, lateness_ns=60 * S)
    assert (bar.open, bar.close, bar.high, bar.low) == (Decimal("1"), Decimal("4"), Decimal("4"), Decimal("1"))


def test_rejections() -> None:
    ticks = [tick(et(11, 24, 9, 31), "0"), tick(et(11, 24, 9, 31), "10", 0),
             tick(et(11, 24, 8, 0), "10"),                             # pre-market, regular selected
             tick(et(11, 24, 9, 31), "10", trade_id="a"), tick(et(11, 24, 9, 32), "10", trade_id="a"),
             tick(et(11, 24, 9, 33), "99", conditions=("Q",)),           # official open: neither
             tick(et(11, 24, 9, 33), "50", 7, conditions=("I",))]        # odd lot: volume only
    (bar,), rejected, codes = run(ticks)
    assert codes == [INVALID, INVALID, OUTSIDE_SESSION, 0, DUPLICATE, EXCLUDED_CONDITION, 0]
    assert [r.error_class for r in rejected] == ["InvalidTick", "InvalidTick", "OutsideSession", "DuplicateTick",
                                                 "ExcludedCondition"]
    assert bar.high == Decimal("10") and bar.volume == 107 and bar.trades == 2


def test_nan_price_is_invalid() -> None:
    agg = BarAggregator("5m", REGULAR, CAL)
    assert agg.update_raw("SPY", et(11, 24, 10), 0, float("nan"), 100) == INVALID


@pytest.mark.parametrize(("day", "timeframe", "count"), [
    ((11, 24), "5m", 78), ((11, 24), "60m", 7), ((11, 24), "30m", 13), ((11, 24), "1d", 1),
    ((11, 27), "5m", 42), ((11, 27), "60m", 4), ((3, 9), "5m", 78), ((11, 2), "15m", 26),
])
def test_bar_counts_per_session(day: tuple[int, int], timeframe: str, count: int) -> None:
    trading = CAL.day(dt.date(2026, *day))
    ticks = [tick(t, "10") for t in range(trading.open, trading.close, 30 * S)]
    bars, _, _ = run(ticks, timeframe)
    assert len(bars) == count
    assert bars[0].start == trading.open and bars[-1].end == trading.close
    assert all(b.end - b.start <= Timeframe.parse(timeframe).length_ns for b in bars if timeframe != "1d")


def test_sixty_minute_bars_start_at_0930_and_last_is_clipped() -> None:
    trading = CAL.day(dt.date(2026, 11, 24))
    bars, _, _ = run([tick(t, "10") for t in range(trading.open, trading.close, 60 * S)], "60m")
    starts = [dt.datetime.fromtimestamp(b.start / S, ET).strftime("%H:%M") for b in bars]
    assert starts == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
    assert bars[-1].end - bars[-1].start == 30 * 60 * S


def test_extended_sessions_never_share_a_bar() -> None:
    trading = CAL.day(dt.date(2026, 11, 27))  # early close: regular to 13:00, post to 17:00
    ticks = [tick(t, "10") for t in range(trading.pre_open, trading.post_close, 60 * S)]
    bars, _, _ = run(ticks, "60m", parse_sessions("extended"))
    by_session = {s: [b for b in bars if b.session == s] for s in ("pre", "regular", "post")}
    assert [len(v) for v in by_session.values()] == [6, 4, 4]  # 04-09:30, 09:30-13:00, 13:00-17:00
    for b in bars:
        session, w_start, w_end, _ = CAL.locate(b.start)
        assert w_start <= b.start < b.end <= w_end and session.value == b.session


def test_state_export_resumes_identically() -> None:
    trading = CAL.day(dt.date(2026, 11, 24))
    rng = np.random.default_rng(5)
    times = np.sort(rng.integers(trading.open, trading.close, 2000))
    ticks = [tick(int(t), f"{10 + rng.integers(0, 100) / 100:.2f}", int(rng.integers(1, 9)) * 100,
                  symbol=("SPY", "QQQ")[i % 2], trade_id=str(i)) for i, t in enumerate(times)]
    whole, _, _ = run(ticks, "15m", lateness_ns=S)
    first = BarAggregator("15m", REGULAR, CAL, S)
    for t in ticks[:1000]:
        first.handle_tick(t)
    emitted, _ = first.drain()
    states = {s: first.to_state(s) for s in first.symbols()}
    second = BarAggregator("15m", REGULAR, CAL, S)
    for symbol, state in json.loads(json.dumps(states)).items():
        second.load_state(symbol, state)
    for t in ticks[1000:]:
        second.handle_tick(t)
    second.flush(ts_init=7)
    key = lambda b: (b.symbol, b.start)  # noqa: E731
    assert sorted(emitted + second.drain()[0], key=key) == sorted(whole, key=key)


def test_state_without_ids_resumes_identically_with_the_ids_supplied_apart() -> None:
    """`to_state(ids=False)` records each open bar's id count; `take_new_ids` hands out the ids counted
    since it was last called, in arrival order; `load_state` with the ids behaves as the full state
    (duplicates refused)."""
    opening = CAL.day(dt.date(2026, 11, 24)).open
    ticks = [tick(opening + i * S, "10.00", 100, trade_id=f"T{i}") for i in range(30)]
    first = BarAggregator("15m", REGULAR, CAL, S)
    for t in ticks[:20]:
        first.handle_tick(t)
    state = first.to_state("SPY", ids=False)
    assert state["bars"][0][12] == 20
    assert first.take_new_ids("SPY", opening) == [f"T{i}" for i in range(20)]
    assert first.take_new_ids("SPY", opening) == []
    first.handle_tick(ticks[3])  # a duplicate: not counted
    first.handle_tick(tick(opening + 40 * S, "10.00", 100, trade_id="X"))
    assert first.take_new_ids("SPY", opening) == ["X"]
    assert first.trade_ids("SPY", opening) == [f"T{i}" for i in range(20)] + ["X"]
    assert first.open_bars("SPY") == [opening]
    first = BarAggregator("15m", REGULAR, CAL, S)
    for t in ticks[:20]:
        first.handle_tick(t)
    second = BarAggregator("15m", REGULAR, CAL, S)
    second.load_state("SPY", state, {opening: first.trade_ids("SPY", opening)})
    assert second.to_state("SPY") == first.to_state("SPY")
    codes = [second.handle_tick(t) for t in ticks[10:30]]
    assert codes.count(DUPLICATE) == 10 and codes.count(ACCEPTED) == 10
    with pytest.raises(ValueError, match="counts 20 trade ids, 19 were supplied"):
        BarAggregator("15m", REGULAR, CAL, S).load_state("SPY", state, {opening: [f"T{i}" for i in range(19)]})


def test_timeframe_parsing() -> None:
    assert Timeframe.parse("5m").length_ns == 300 * S
    assert Timeframe.parse("1h").text == "1h" and Timeframe.parse("90m").text == "90m"
    for bad in ("5", "0m", "2d", "m5"):
        with pytest.raises(ValueError, match="timeframe"):
            Timeframe.parse(bad)
    with pytest.raises(ValueError, match="lateness"):
        BarAggregator("5m", REGULAR, CAL, -1)



@st.composite
def batch_streams(draw):
    """One symbol's prints in batches, mostly in event-time order (the fast path's case) with the exceptions
    that must send a batch the print-by-print way: out of order, late, bad prints, conditions, repeated or
    missing trade ids, other sessions."""
    start = draw(st.sampled_from([DAY.pre_open + 5000 * S, DAY.open - 90 * S, DAY.open,
                                  DAY.close - 400 * S]))
    batches, ts, number = [], start, 0
    for _ in range(draw(st.integers(1, 12))):
        batch = []
        for _ in range(draw(st.integers(1, 25))):
            ts += draw(st.sampled_from([0, 0, 1, S, 7 * S, 61 * S, 301 * S]))
            odd = draw(st.integers(0, 80))  # 0-6: an exception; most batches have none
            number += 1
            batch.append(TradeTick(
                symbol="SPY", ts_event=ts - (120 * S if odd == 0 else 0), ts_init=number,
                price=Decimal("0") if odd == 1 else Decimal(draw(st.sampled_from(["9.99", "10.01", "10.5", "12"]))),
                size=0 if odd == 2 else draw(st.sampled_from([1, 100, 250])), feed="t",
                trade_id=None if odd == 3 else (f"r{number - 1}" if odd == 4 else f"t{number}"),
                conditions=("I",) if odd == 5 else (("Q",) if odd == 6 else ())))
        if draw(st.booleans()):  # feeds without trade ids
            batch = [TradeTick(t.symbol, t.ts_event, t.ts_init, t.price, t.size, t.feed) for t in batch]
        batches.append(batch)
    return batches


@settings(max_examples=300, deadline=None)
@given(batches=batch_streams(), timeframe=st.sampled_from(["1m", "5m", "60m", "1d"]),
       sessions=st.sampled_from(["regular", "extended"]), lateness=st.sampled_from([0, 30 * S, 600 * S]),
       draw_take=st.booleans())
def test_update_many_equals_update_raw_print_by_print(batches, timeframe, sessions, lateness, draw_take) -> None:
    """Same bars (every field, ts_init included), same rejections in the same order, same state, and the
    same new trade ids handed out (after every batch, or all at once at the end)."""
    selection = parse_sessions(sessions)
    each = BarAggregator(timeframe, selection, CAL, lateness)
    many = BarAggregator(timeframe, selection, CAL, lateness)
    for batch in batches:
        codes = [each.handle_tick(t) for t in batch]
        refused = many.update_many("SPY", [t.ts_event for t in batch], [t.ts_init for t in batch],
                                   [float(t.price) for t in batch], [t.size for t in batch],
                                   [t.trade_id for t in batch], [t.conditions for t in batch])
        assert refused == [i for i, code in enumerate(codes) if code != ACCEPTED]
        assert each.drain() == many.drain()
        assert each.to_state("SPY") == many.to_state("SPY")
        for start in each.open_bars("SPY") if draw_take else ():
            assert each.take_new_ids("SPY", start) == many.take_new_ids("SPY", start)
    for start in each.open_bars("SPY"):
        assert each.take_new_ids("SPY", start) == many.take_new_ids("SPY", start)
    each.flush(9)
    many.flush(9)
    assert each.drain() == many.drain()

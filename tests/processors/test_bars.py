"""Bars: hand-computed cases, session alignment, event-time closing, and incremental == batch."""

from __future__ import annotations

import datetime as dt
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
    TickArrays,
    Timeframe,
    aggregate_batch,
    resample_bars,
)
from processors.calendar import ET, build_nyse_calendar, parse_sessions
from processors.model import TradeTick

CAL = build_nyse_calendar(dt.date(2026, 3, 2), dt.date(2026, 12, 31))
REGULAR = parse_sessions("regular")
S = 1_000_000_000


def et(mo: int, d: int, h: int, mi: int = 0, s: float = 0) -> int:
    whole = int(dt.datetime(2026, mo, d, h, mi, int(s), tzinfo=ET).timestamp()) * S
    return whole + int(round((s - int(s)) * S))


def tick(ts: int, price: str, size: int = 100, symbol: str = "SPY", trade_id: str | None = None,
         conditions: tuple[str, ...] = ()) -> TradeTick:
    return TradeTick(symbol=symbol, ts_event=ts, ts_init=ts + 1000, price=Decimal(price), size=size, feed="t",
                     trade_id=trade_id, conditions=conditions)


def run(ticks: list[TradeTick], timeframe: str = "5m", sessions=REGULAR, lateness_ns: int = 0):
    agg = BarAggregator(timeframe, sessions, CAL, lateness_ns)
    codes = [agg.handle_tick(t) for t in ticks]
    agg.flush(ts_init=7)
    bars, rejected = agg.drain()
    return bars, rejected, codes


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
    import json
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


def test_resample_one_minute_bars_matches_direct_aggregation() -> None:
    trading = CAL.day(dt.date(2026, 11, 24))
    rng = np.random.default_rng(9)
    times = np.sort(rng.integers(trading.open, trading.close, 5000))
    ticks = [tick(int(t), f"{100 + rng.integers(0, 500) / 100:.2f}", 100) for t in times]
    one_minute, _, _ = run(ticks, "1m")
    direct, _, _ = run(ticks, "30m")
    resampled = resample_bars(one_minute, "30m", CAL, REGULAR)
    strip = lambda b: (b.start, b.end, b.open, b.high, b.low, b.close, b.volume, b.trades)  # noqa: E731
    assert [strip(b) for b in resampled] == [strip(b) for b in direct]
    assert all(abs(r.vwap - d.vwap) <= Decimal("0.00000001") * 30 for r, d in zip(resampled, direct))


def test_timeframe_parsing() -> None:
    assert Timeframe.parse("5m").length_ns == 300 * S
    assert Timeframe.parse("1h").text == "1h" and Timeframe.parse("90m").text == "90m"
    for bad in ("5", "0m", "2d", "m5"):
        with pytest.raises(ValueError, match="timeframe"):
            Timeframe.parse(bad)
    with pytest.raises(ValueError, match="lateness"):
        BarAggregator("5m", REGULAR, CAL, -1)


DAY = CAL.day(dt.date(2026, 11, 27))


@st.composite
def tick_streams(draw):
    n = draw(st.integers(1, 120))
    out = []
    for i in range(n):
        ts = draw(st.integers(DAY.pre_open - 600 * S, DAY.post_close + 600 * S))
        price = draw(st.sampled_from(["0", "9.99", "10.00", "10.01", "10.5", "11.25", "12"]))
        size = draw(st.sampled_from([0, 1, 100, 250]))
        symbol = draw(st.sampled_from(["SPY", "QQQ"]))
        trade_id = draw(st.one_of(st.none(), st.sampled_from(["a", "b", "c"])))
        conditions = draw(st.sampled_from([(), ("@",), ("I",), ("Q",), ("T",), ("@", "W")]))
        out.append(TradeTick(symbol=symbol, ts_event=ts, ts_init=i, price=Decimal(price), size=size, feed="t",
                             trade_id=trade_id, conditions=conditions))
    return out


@settings(max_examples=150, deadline=None)
@given(ticks=tick_streams(), timeframe=st.sampled_from(["1m", "5m", "60m", "1d"]),
       sessions=st.sampled_from(["regular", "extended"]), lateness=st.sampled_from([0, 30 * S, 3600 * S]))
def test_incremental_equals_batch(ticks, timeframe, sessions, lateness) -> None:
    selection = parse_sessions(sessions)
    bars, _, codes = run(ticks, timeframe, selection, lateness)
    batch = aggregate_batch(TickArrays.from_ticks(ticks), timeframe, selection, CAL, lateness, flush_ts_init=7)
    key = lambda b: (b.symbol, b.start)  # noqa: E731
    assert sorted(bars, key=key) == sorted(batch.bars, key=key)
    assert codes == batch.rejected_codes.tolist()
    for bar in bars:
        assert bar.low <= bar.open <= bar.high and bar.low <= bar.close <= bar.high
    accepted_volume = sum(t.size for t, c in zip(ticks, codes) if c == 0 and "Q" not in t.conditions)
    assert sum(b.volume for b in bars) <= accepted_volume


MARKET = __import__("pathlib").Path(__file__).resolve().parents[3] / "shared" / "data" / "market"


@pytest.mark.parametrize("timeframe", ["5m", "15m", "30m", "60m"])
def test_cross_check_with_pandas_resample_on_real_prices(timeframe: str) -> None:
    """Real 1-minute closes and volumes (shared/data/market), replayed as one print per minute on a
    2026 NYSE day, aggregated by us and by pandas' resample anchored at 09:30 ET."""
    import pandas as pd

    raw = pd.read_csv(MARKET / "2006-01-02-volume-min-001.txt")
    first_day = raw[raw["Date"] == raw["Date"].iloc[0]].head(390)
    trading = CAL.day(dt.date(2026, 11, 24))
    ts = trading.open + np.arange(len(first_day)) * 60 * S + 30 * S
    ticks = [tick(int(t), f"{c:.2f}", int(v)) for t, c, v in zip(ts, first_day["Close"], first_day["Volume"])]
    ours = aggregate_batch(TickArrays.from_ticks(ticks), timeframe, REGULAR, CAL).bars

    frame = pd.DataFrame({"price": first_day["Close"].to_numpy(), "size": first_day["Volume"].to_numpy()},
                         index=pd.to_datetime(ts, utc=True))
    minutes = int(timeframe[:-1])
    resampled = frame.resample(f"{minutes}min", origin=pd.Timestamp(trading.open, tz="UTC"), label="left",
                               closed="left")
    expected = pd.DataFrame({"open": resampled["price"].first(), "high": resampled["price"].max(),
                             "low": resampled["price"].min(), "close": resampled["price"].last(),
                             "volume": resampled["size"].sum()}).dropna()
    assert len(ours) == len(expected)
    for bar, (start, row) in zip(ours, expected.iterrows()):
        assert bar.start == start.value
        assert [float(bar.open), float(bar.high), float(bar.low), float(bar.close)] == pytest.approx(
            [row.open, row.high, row.low, row.close], abs=1e-9)
        assert bar.volume == row.volume


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

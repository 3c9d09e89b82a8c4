"""The batch aggregator: equal to the incremental one (property), and to pandas' resample on real prices."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.bars import TickArrays, aggregate_batch
from processors.calendar import parse_sessions
from processors.model import TradeTick

from .conftest import CAL, DAY, REGULAR, S, run, tick


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


MARKET = Path(__file__).resolve().parents[4] / "shared" / "data" / "market"


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


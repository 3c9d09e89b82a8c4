from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

import pandas as pd

from connectors.base import ListFeedSink
from connectors.replay.feed import ReplayFeed, load_ticks

CSV = """ts,symbol,price,size,trade_id,conditions
2026-11-24T14:30:00Z,SPY,600.01,100,1,@
2026-11-24T14:30:01Z,QQQ,510.5,200,2,
2026-11-24T14:30:11Z,SPY,600.02,300,3,@;I
"""


class FakeClock:
    """Time advances only when the feed waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits.append(round(seconds, 9))
        self.now += seconds
        return False


def test_csv_replay_at_ten_times_speed(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(CSV)
    ticks = load_ticks(path)
    sink, clock = ListFeedSink(), FakeClock()
    feed = ReplayFeed(ticks, sink, speed=10.0, clock=clock, wall_ns=lambda: 42)
    assert feed.run(threading.Event(), wait=clock.wait) == 3
    assert clock.waits == [0.1, 1.0]  # 1 s and 10 s gaps at 10x
    assert [t.trade_id for t in sink.trades] == ["1", "2", "3"]
    assert sink.trades[2].conditions == ("@", "I") and sink.trades[0].price == Decimal("600.01")
    assert all(t.ts_init == 42 for t in sink.trades) and sink.trades[0].ts_event == ticks[0].ts_event
    assert sink.statuses[0].event == "connected" and "finished: 3/3" in sink.statuses[-1].detail


def test_as_fast_as_possible_never_waits_and_parquet_reads_the_same(tmp_path: Path) -> None:
    csv_path = tmp_path / "ticks.csv"
    csv_path.write_text(CSV)
    from_csv = load_ticks(csv_path)
    parquet = tmp_path / "ticks.parquet"
    pd.DataFrame({"ts": [t.ts_event for t in from_csv], "symbol": [t.symbol for t in from_csv],
                  "price": [float(t.price) for t in from_csv], "size": [t.size for t in from_csv],
                  "trade_id": [t.trade_id for t in from_csv],
                  "conditions": [";".join(t.conditions) for t in from_csv]}).to_parquet(parquet)
    assert load_ticks(parquet) == from_csv
    sink, clock = ListFeedSink(), FakeClock()
    ReplayFeed(load_ticks(parquet), sink, speed=None, clock=clock).run(threading.Event(), wait=clock.wait)
    assert clock.waits == [] and len(sink.trades) == 3


def test_stop_interrupts_a_replay(tmp_path: Path) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text(CSV)
    stop = threading.Event()
    stop.set()
    sink = ListFeedSink()
    assert ReplayFeed(load_ticks(path), sink, speed=1.0).run(stop) == 0

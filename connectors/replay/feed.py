"""The file replay feed: ticks from a CSV or Parquet file, at real time, N times faster, or as fast
as possible, in the file's order (which is the arrival order the pipeline sees).

CSV: `ts,symbol,price,size[,trade_id,conditions]` (see processors.csvio). Parquet: the same columns,
`ts` as integer epoch nanoseconds or a timezone-aware timestamp. Event times are kept; `ts_init` is
the wall-clock time the tick is published (its arrival in our system).
"""

from __future__ import annotations

import csv
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from connectors.base import FeedSink
from processors.csvio import read_ticks
from processors.model import FeedStatusChanged, TradeTick

log = logging.getLogger(__name__)
NS = 1_000_000_000


def load_ticks(path: Path) -> list[TradeTick]:
    if path.suffix.lower() == ".parquet":
        import pandas as pd

        frame = pd.read_parquet(path)
        ts = frame["ts"]
        ts_ns = ts.astype("int64") if ts.dtype.kind in "iu" else pd.to_datetime(ts, utc=True).astype("int64")
        trade_ids = frame["trade_id"].astype(str) if "trade_id" in frame else [None] * len(frame)
        conditions = frame["conditions"] if "conditions" in frame else [""] * len(frame)
        return [TradeTick(symbol=str(s), ts_event=int(t), ts_init=int(t), price=Decimal(str(p)), size=int(z),
                          feed="replay", trade_id=i, conditions=tuple(str(c or "").replace(";", " ").split()))
                for s, t, p, z, i, c in zip(frame["symbol"], ts_ns, frame["price"], frame["size"], trade_ids,
                                            conditions)]
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        return read_ticks(reader, header, feed="replay")


class ReplayFeed:
    name = "replay"

    def __init__(self, ticks: Sequence[TradeTick], sink: FeedSink, speed: float | None,
                 clock: Callable[[], float] = time.monotonic, wall_ns: Callable[[], int] = time.time_ns) -> None:
        """`speed`: 1.0 real time, N times faster, None as fast as possible."""
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        self.ticks = ticks
        self.sink = sink
        self.speed = speed
        self.clock = clock
        self.wall_ns = wall_ns
        self.published = 0

    def _status(self, event: str, detail: str, rate: float = 0.0) -> None:
        symbols = tuple(sorted({t.symbol for t in self.ticks}))
        self.sink.on_status(FeedStatusChanged(feed=self.name, ts_init=self.wall_ns(), connected=True, active=True,
                                              subscribed_symbols=symbols, messages_per_second=rate, event=event,
                                              detail=detail))

    def run(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> int:
        wait = wait or stop.wait
        pace = "as fast as possible" if self.speed is None else f"at {self.speed:g}x"
        self._status("connected", f"replaying {len(self.ticks)} ticks {pace}")
        start_clock = self.clock()
        first_event = self.ticks[0].ts_event if self.ticks else 0
        last_beat, since_beat = start_clock, 0
        for tick in self.ticks:
            if stop.is_set():
                break
            if self.speed is not None:
                delay = start_clock + (tick.ts_event - first_event) / NS / self.speed - self.clock()
                if delay > 0 and wait(delay):
                    break
            self.sink.on_trade(replace(tick, ts_init=self.wall_ns()))
            self.published += 1
            since_beat += 1
            now = self.clock()
            if now - last_beat >= 2.0:
                self._status("heartbeat", f"replayed {self.published}/{len(self.ticks)} {pace}",
                             since_beat / (now - last_beat))
                last_beat, since_beat = now, 0
        self._status("heartbeat", f"replay finished: {self.published}/{len(self.ticks)} ticks")
        return self.published

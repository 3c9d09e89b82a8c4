"""Merging the partitions of the trades topics into one event-time-ordered stream, deterministically.

A multi-symbol strategy needs every symbol's trades in one order, and that order must not depend on
how the consumer's fetches happened to interleave partitions (or a replay would decide differently
from the backtest, which sorts by time). `PartitionMerge` holds every pending event in one heap and
releases, in (ts, partition, offset) order, those strictly older than the frontier:

    frontier = min over partitions not at their end of (newest ts seen there) - window

Within a partition, prints arrive almost in time order: different symbols' batches interleave with a
disorder bounded by the feed's batching window, which `window_ns` covers. A partition that is at its
end (the consumer reported EOF) does not hold the others back; one that has sent nothing yet and is not
at its end holds everything. An event older than one already released is still released (the bar
aggregator's lateness rules apply downstream) and counted in `late`.
"""

from __future__ import annotations

import heapq
from typing import Any


class PartitionMerge:
    def __init__(self, partitions: list[int], window_ns: int = 0) -> None:
        if window_ns < 0:
            raise ValueError("window_ns must not be negative")
        self.window_ns = window_ns
        self.newest: dict[int, int | None] = dict.fromkeys(partitions)
        self.at_end: dict[int, bool] = dict.fromkeys(partitions, False)
        self._heap: list[tuple[int, int, int, Any]] = []
        self.released_ns: int | None = None
        self.late = 0

    def push(self, partition: int, offset: int, ts_ns: int, item: Any) -> None:
        heapq.heappush(self._heap, (ts_ns, partition, offset, item))
        newest = self.newest[partition]
        self.newest[partition] = ts_ns if newest is None else max(newest, ts_ns)
        self.at_end[partition] = False

    def end_of_partition(self, partition: int) -> None:
        self.at_end[partition] = True

    def frontier(self) -> float:
        live = [self.newest[p] for p, ended in self.at_end.items() if not ended]
        if not live:
            return float("inf")
        if any(newest is None for newest in live):
            return float("-inf")
        return min(live) - self.window_ns  # type: ignore[type-var]

    def pop_ready(self) -> list[Any]:
        """Every event that can be released now, in (ts, partition, offset) order."""
        frontier = self.frontier()
        out: list[Any] = []
        while self._heap and self._heap[0][0] < frontier:
            ts_ns, _, _, item = heapq.heappop(self._heap)
            if self.released_ns is not None and ts_ns < self.released_ns:
                self.late += 1
            else:
                self.released_ns = ts_ns
            out.append(item)
        return out

    def pending(self) -> int:
        return len(self._heap)

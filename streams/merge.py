"""Merging the partitions of a topic into one event-time-ordered stream, deterministically.

A multi-symbol strategy needs every symbol's trades in one order, and that order must not depend on
how the consumer's fetches happened to interleave partitions (or a replay would decide differently
from live). `PartitionMerge` is a k-way merge: an event is released only when every partition that
is not at its end has something queued, and the smallest (ts_event, partition, offset) goes first.
A partition at its end (the consumer reported EOF) does not hold the others back; if it receives an
event older than what was already released, the event is still released (the bar aggregator's
lateness rules apply downstream) and counted in `late`.
"""

from __future__ import annotations

import heapq
from collections import deque
from typing import Any


class PartitionMerge:
    def __init__(self, partitions: list[int]) -> None:
        self.queues: dict[int, deque[tuple[int, int, Any]]] = {p: deque() for p in partitions}
        self.at_end: dict[int, bool] = dict.fromkeys(partitions, False)
        self.released_ns: int | None = None
        self.late = 0

    def push(self, partition: int, offset: int, ts_ns: int, item: Any) -> None:
        self.queues[partition].append((ts_ns, offset, item))
        self.at_end[partition] = False

    def end_of_partition(self, partition: int) -> None:
        self.at_end[partition] = True

    def _blocked(self) -> bool:
        return any(not queue and not self.at_end[p] for p, queue in self.queues.items())

    def pop_ready(self) -> list[Any]:
        """Every event that can be released now, in (ts, partition, offset) order."""
        out: list[Any] = []
        heads = [(q[0][0], p, q[0][1]) for p, q in self.queues.items() if q]
        heapq.heapify(heads)
        while heads and not self._blocked():
            ts_ns, partition, _ = heapq.heappop(heads)
            _, _, item = self.queues[partition].popleft()
            if self.released_ns is not None and ts_ns < self.released_ns:
                self.late += 1
            else:
                self.released_ns = ts_ns
            out.append(item)
            queue = self.queues[partition]
            if queue:
                heapq.heappush(heads, (queue[0][0], partition, queue[0][1]))
        return out

    def pending(self) -> int:
        return sum(len(q) for q in self.queues.values())

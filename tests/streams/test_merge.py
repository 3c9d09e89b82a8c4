"""The partition merge: one event-time order whatever the fetch interleaving."""

from __future__ import annotations

import random

import pytest

from streams.merge import PartitionMerge


def test_release_waits_for_every_partition_not_at_its_end() -> None:
    merge = PartitionMerge([0, 1])
    merge.push(0, 0, 10, "a10")
    merge.push(0, 1, 30, "a30")
    assert merge.pop_ready() == []              # partition 1 has sent nothing: it could bring anything
    merge.push(1, 0, 20, "b20")
    assert merge.pop_ready() == ["a10"]         # partition 1 may still send something at 20 or later
    merge.push(1, 1, 40, "b40")
    assert merge.pop_ready() == ["b20"]         # frontier 30 (partition 0's newest): a30 waits for a tie
    merge.end_of_partition(0)
    assert merge.pop_ready() == ["a30"]         # frontier 40
    merge.end_of_partition(1)
    assert merge.pop_ready() == ["b40"] and merge.pending() == 0
    merge.push(1, 2, 25, "b25")                 # older than what was released: still released, counted late
    merge.end_of_partition(1)
    assert merge.pop_ready() == ["b25"] and merge.late == 1


@pytest.mark.parametrize("disorder", [0, 5])
def test_any_interleaving_of_fetches_gives_the_time_order(disorder: int) -> None:
    """Partitions whose own order is off by up to `disorder` (batched symbols) come out fully sorted
    when the window covers the disorder."""
    streams = {}
    for p in range(4):
        rng = random.Random(p)
        times = sorted(rng.sample(range(0, 4000, 4), 50))
        streams[p] = sorted(times, key=lambda t: t + rng.uniform(-disorder, disorder))  # bounded disorder
    expected = sorted((ts, p, i) for p, times in streams.items() for i, ts in enumerate(times))
    for seed in range(20):
        rng = random.Random(seed)
        merge = PartitionMerge(list(streams), window_ns=2 * disorder)
        cursors = dict.fromkeys(streams, 0)
        released: list = []
        while any(cursors[p] < len(streams[p]) for p in streams):
            p = rng.choice([p for p in streams if cursors[p] < len(streams[p])])
            for _ in range(rng.randint(1, 7)):   # a fetch of a few records from one partition
                if cursors[p] < len(streams[p]):
                    i = cursors[p]
                    merge.push(p, i, streams[p][i], (streams[p][i], p, i))
                    cursors[p] += 1
            if cursors[p] == len(streams[p]):
                merge.end_of_partition(p)
            released += merge.pop_ready()
        released += merge.pop_ready()
        assert released == expected and merge.pending() == 0 and merge.late == 0

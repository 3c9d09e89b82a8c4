"""The k-way partition merge: one event-time order whatever the fetch interleaving."""

from __future__ import annotations

import random

from streams.merge import PartitionMerge


def test_release_waits_for_every_partition_not_at_its_end() -> None:
    merge = PartitionMerge([0, 1])
    merge.push(0, 0, 10, "a10")
    merge.push(0, 1, 30, "a30")
    assert merge.pop_ready() == []            # partition 1 could still bring something older
    merge.push(1, 0, 20, "b20")
    assert merge.pop_ready() == ["a10", "b20"]  # a30 waits: partition 1 is empty and not at its end
    merge.end_of_partition(1)
    assert merge.pop_ready() == ["a30"]
    merge.end_of_partition(0)
    merge.push(1, 1, 25, "b25")               # older than what was released: still released, counted late
    assert merge.pop_ready() == ["b25"] and merge.late == 1


def test_any_interleaving_of_fetches_gives_the_same_order() -> None:
    streams = {p: sorted(random.Random(p).sample(range(1000), 50)) for p in range(4)}
    expected = sorted((ts, p, i) for p, times in streams.items() for i, ts in enumerate(times))
    for seed in range(20):
        rng = random.Random(seed)
        merge = PartitionMerge(list(streams))
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
        assert released == expected and merge.pending() == 0

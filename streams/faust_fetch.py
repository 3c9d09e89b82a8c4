"""The worker consumer's fetch wait: faust-streaming creates its aiokafka consumer with a fixed
`fetch_max_wait_ms=1500`, and that long poll is most of the worker's latency.

aiokafka keeps one fetch request in flight per broker. The request covers every assigned partition
that has no records waiting: the stream partitions, and also the changelog and internal partitions
that rarely have new data. When it has to wait out the long poll, new ticks that arrive meanwhile
are fetched only by the next request. Measured with `benchmarks/bench_pipeline.py` at 10,000
ticks/s (batches of 200 prints):

| fetch wait | bar-close p50 | bar-close p99 |
|---|---|---|
| 1,500 ms | 1,780 ms | 2,417 ms |
| 100 ms | 119 ms | 195 ms |

`WORKER_FETCH_MAX_WAIT_MS` (default 20) sets it. A short wait costs idle fetch requests (fifty a
second at 20 ms when nothing arrives), which is nothing next to the work.

Under load the opposite holds: with aiokafka's `fetch_min_bytes` of 1 every fetch returns at once with
the little that arrived since the last, so the worker decodes many small fetch responses in Python
and the broker answers as many requests. `WORKER_FETCH_MIN_BYTES` (default 16,384) lets the broker
collect that much, or wait out the fetch wait, before it answers: at 50,000 ticks/s (about 1.7 MB/s
of batches) 16 KiB arrive in about 10 ms, below the 20 ms wait. At 10,000 ticks/s the wait governs,
and a fetch adds at most 20 ms.
"""

from __future__ import annotations

import os

import faust


DEFAULT_FETCH_MAX_WAIT_MS = 20
DEFAULT_FETCH_MIN_BYTES = 16_384


def install(app: faust.App, fetch_max_wait_ms: int, fetch_min_bytes: int = 1) -> None:
    """Give the app's worker consumer `fetch_max_wait_ms` and `fetch_min_bytes` (set on the aiokafka
    consumer Faust creates, before it starts and builds its fetcher from them)."""
    thread = app.consumer._thread  # faust's consumer thread, the owner of the aiokafka consumer
    create = thread._create_worker_consumer

    def create_worker_consumer(transport):  # noqa: ANN001, ANN202 - Faust's signature
        consumer = create(transport)
        if not (hasattr(consumer, "_fetch_max_wait_ms") and hasattr(consumer, "_fetch_min_bytes")):
            raise RuntimeError("aiokafka's consumer no longer has _fetch_max_wait_ms and _fetch_min_bytes: "
                               "streams/faust_fetch.py needs updating for this aiokafka version")
        consumer._fetch_max_wait_ms = fetch_max_wait_ms
        consumer._fetch_min_bytes = fetch_min_bytes
        return consumer

    thread._create_worker_consumer = create_worker_consumer

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

`WORKER_FETCH_MAX_WAIT_MS` (default 100) sets it. A shorter wait costs some idle fetch requests
(ten a second at 100 ms), which is nothing next to the work.
"""

from __future__ import annotations

import os

import faust

from tradestream.errors import ConfigError

DEFAULT_FETCH_MAX_WAIT_MS = 100


def configured_fetch_max_wait_ms() -> int:
    raw = os.environ.get("WORKER_FETCH_MAX_WAIT_MS", str(DEFAULT_FETCH_MAX_WAIT_MS)).strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 60_000:
        raise ConfigError(f"WORKER_FETCH_MAX_WAIT_MS={raw!r} must be an integer number of milliseconds, 1-60000")
    return int(raw)


def install(app: faust.App, fetch_max_wait_ms: int) -> None:
    """Give the app's worker consumer `fetch_max_wait_ms` (set on the aiokafka consumer Faust creates,
    before it starts and builds its fetcher from it)."""
    thread = app.consumer._thread  # faust's consumer thread, the owner of the aiokafka consumer
    create = thread._create_worker_consumer

    def create_worker_consumer(transport):  # noqa: ANN001, ANN202 - Faust's signature
        consumer = create(transport)
        if not hasattr(consumer, "_fetch_max_wait_ms"):
            raise RuntimeError("aiokafka's consumer no longer has _fetch_max_wait_ms: "
                               "streams/faust_fetch.py needs updating for this aiokafka version")
        consumer._fetch_max_wait_ms = fetch_max_wait_ms
        return consumer

    thread._create_worker_consumer = create_worker_consumer

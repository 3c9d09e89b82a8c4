"""The verifier's reads of the bucket run ahead of its checks on a bounded pool: given back in the items' order,
never more than the window in flight, and each read in turn without a pool."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors.s3archive.verifier import _ahead


class CountingRead:
    """A read that records how many of its calls run at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = 0

    def __call__(self, item: int) -> int:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return item * item
        finally:
            with self.lock:
                self.running -= 1


@pytest.mark.parametrize("window", [1, 3, 16])
def test_reads_come_back_in_order_with_at_most_the_window_ahead(window: int) -> None:
    read = CountingRead()
    given: list[int] = []

    def items():  # noqa: ANN202
        for item in range(50):
            given.append(item)
            yield item

    with ThreadPoolExecutor(4) as pool:
        for position, (item, value) in enumerate(_ahead(items(), read, pool, window)):
            assert (item, value) == (position, position * position)
            assert len(given) - position <= window      # items taken but not yet given back
    assert read.most <= min(window, 4)


def test_without_a_pool_each_read_runs_in_turn_here() -> None:
    threads = []
    results = list(_ahead(range(3), lambda item: threads.append(threading.current_thread()) or item, None, 8))
    assert results == [(0, 0), (1, 1), (2, 2)] and set(threads) == {threading.current_thread()}

"""`GET /api/feeds`: the market-data feeds' state for the overview: whether a fail-over pair runs on its primary or
has failed over to its secondary (or a feed runs alone, or none serves), the serving feed, the last fail-over or
hand-back, and each feed's last report (connected, active, rate, last latency, how old), judged now by
`processors.feed_state` from the feed-status watcher's memory. A report older than the API's `feed_stale_after_s`
counts as silent, as in the health check. The same for every user; the changes also reach the page live as the
`feed` messages of `/api/live`.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from litestar import Controller, get

from api.auth import SECURITY
from api.settings import ApiSettings
from api.health import FeedWatcher


@runtime_checkable
class FeedBoardWatcher(Protocol):
    """A feed-status watcher that keeps the feeds' board (`connectors.kafka.feedwatch.FeedStatusWatcher`)."""

    def overview(self, now_ns: int, stale_after_ns: int) -> dict[str, object]: ...


NOTHING = {"mode": "down", "active_feed": None, "last_switch": None, "feeds": []}


class FeedsController(Controller):
    path = "/api/feeds"
    security = SECURITY

    @get("/")
    async def feeds(self, watcher: FeedWatcher, settings: ApiSettings) -> dict[str, object]:
        """The feeds' mode (primary, fail-over, single or down), the serving feed, the last fail-over or hand-back and
        each feed's last report, as of now."""
        if not isinstance(watcher, FeedBoardWatcher):
            return NOTHING
        return watcher.overview(time.time_ns(), int(settings.feed_stale_after_s * 1e9))

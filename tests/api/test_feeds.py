"""`GET /api/feeds` without Kafka: the watcher's board judged now with the API's staleness, behind the log-in; a
watcher without a board answers that no feed serves."""

from __future__ import annotations

import time

from litestar.testing import TestClient

from api.app import create_app
from api.settings import ApiSettings
from processors.feed_state import FeedBoard

from .conftest import TOKEN, StubAuthenticator, StubFeedWatcher


class BoardWatcher(StubFeedWatcher):
    def __init__(self) -> None:
        super().__init__()
        self.board = FeedBoard()
        self.asked: list[int] = []

    def overview(self, now_ns: int, stale_after_ns: int) -> dict[str, object]:
        self.asked.append(stale_after_ns)
        return self.board.overview(now_ns, stale_after_ns)


def test_the_feeds_state_as_of_now(offline_settings: ApiSettings) -> None:
    watcher = BoardWatcher()
    now = time.time_ns()
    watcher.board.update({"feed": "ibkr", "role": "primary", "ts_init": now - 60 * 10**9, "connected": False,
                          "active": False, "messages_per_second": 0.0, "event": "disconnected"})
    watcher.board.update({"feed": "polygon", "role": "secondary", "ts_init": now, "connected": True, "active": True,
                          "messages_per_second": 40.0, "event": "failover", "detail": "failover to polygon"})
    with TestClient(app=create_app(offline_settings, feed_watcher=watcher, authenticator=StubAuthenticator())) as client:
        assert client.get("/api/feeds").status_code == 401
        body = client.get("/api/feeds", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert (body["mode"], body["active_feed"], body["last_switch"]["event"]) == ("fail-over", "polygon", "failover")
    assert [(f["feed"], f["fresh"]) for f in body["feeds"]] == [("ibkr", False), ("polygon", True)]
    assert watcher.asked == [int(offline_settings.feed_stale_after_s * 1e9)]


def test_a_watcher_without_a_board(offline_client: TestClient) -> None:
    assert offline_client.get("/api/feeds").json() == {"mode": "down", "active_feed": None, "last_switch": None,
                                                      "feeds": []}

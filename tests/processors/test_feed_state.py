"""The feeds' state from their reports, worked out by hand: a pair on its primary, failed over to its secondary and
handed back; a feed alone; a silent or disconnected feed is down; an older report does not replace a newer one."""

from __future__ import annotations

import pytest

from processors.feed_state import FeedBoard

S = 10**9
STALE = 15 * S


def report(feed: str, at_s: int, *, role: str = "", active: bool = True, connected: bool = True,
           event: str = "heartbeat", detail: str | None = None) -> dict[str, object]:
    return {"feed": feed, "ts_init": at_s * S, "connected": connected, "active": active, "messages_per_second": 12.0,
            "last_latency_ns": 2_500_000, "event": event, "detail": detail, "role": role}


def test_a_pair_on_its_primary_fails_over_and_hands_back() -> None:
    board = FeedBoard()
    board.update(report("ibkr", 100, role="primary"))
    board.update(report("polygon", 101, role="secondary", active=False))
    view = board.overview(102 * S, STALE)
    assert (view["mode"], view["active_feed"], view["last_switch"]) == ("primary", "ibkr", None)
    assert [(f["feed"], f["role"], f["active"], f["fresh"]) for f in view["feeds"]] == [
        ("ibkr", "primary", True, True), ("polygon", "secondary", False, True)]
    assert view["feeds"][0]["last_latency_ms"] == 2.5 and view["feeds"][0]["age_s"] == 2.0

    board.update(report("ibkr", 110, role="primary", active=False, connected=False, event="disconnected"))
    board.update(report("polygon", 111, role="secondary", event="failover", detail="failover to polygon: primary "
                                                                                 "disconnected"))
    view = board.overview(112 * S, STALE)
    assert (view["mode"], view["active_feed"]) == ("fail-over", "polygon")
    assert view["last_switch"] == {"event": "failover", "feed": "polygon", "role": "secondary", "ts_ns": 111 * S,
                                   "detail": "failover to polygon: primary disconnected"}

    board.update(report("ibkr", 130, role="primary", event="handback"))
    board.update(report("polygon", 131, role="secondary", active=False))
    view = board.overview(132 * S, STALE)
    assert (view["mode"], view["active_feed"], view["last_switch"]["event"]) == ("primary", "ibkr", "handback")


def test_a_feed_alone_and_when_it_is_down() -> None:
    board = FeedBoard()
    assert board.overview(0, STALE) == {"mode": "down", "active_feed": None, "last_switch": None, "feeds": []}
    board.update({k: v for k, v in report("simulated", 100).items() if k != "role"})  # written before `role`
    assert board.overview(100 * S + STALE, STALE)["mode"] == "single"
    view = board.overview(100 * S + STALE + 1, STALE)  # silent longer than allowed
    assert (view["mode"], view["active_feed"], view["feeds"][0]["fresh"]) == ("down", None, False)
    board.update(report("simulated", 200, connected=False, event="disconnected"))
    assert board.overview(200 * S, STALE)["mode"] == "down"


def test_an_older_report_does_not_replace_a_newer_one() -> None:
    board = FeedBoard()
    board.update(report("ibkr", 50, role="primary"))
    board.update(report("ibkr", 40, role="primary", connected=False))
    assert board.overview(51 * S, STALE)["feeds"][0]["connected"] is True
    with pytest.raises(ValueError, match="stale_after_ns"):
        board.overview(0, 0)

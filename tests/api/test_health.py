"""Liveness is separate from readiness; readiness reports the feed but does not count it."""

from __future__ import annotations

import time

from litestar.testing import TestClient

from api.app import create_app
from api.health import INFORMATIONAL, ComponentHealth, feed_health, verdict
from api.settings import ApiSettings

from .conftest import StubFeedWatcher

COMPONENTS = {"kafka", "schema_registry", "postgres", "s3", "worker", "feed"}


def test_live_answers_while_every_dependency_is_down(offline_client: TestClient) -> None:
    response = offline_client.get("/api/health/live")
    assert response.status_code == 200 and response.json() == {"status": "up"}


def test_ready_and_full_health_name_each_component_that_is_down(offline_client: TestClient) -> None:
    bodies = {}
    for path in ("/api/health/ready", "/api/health"):
        response = offline_client.get(path)
        body = bodies[path] = response.json()
        assert response.status_code == 503 and body["status"] == "down"
        assert set(body["components"]) == COMPONENTS
        assert all(c["status"] == "down" for c in body["components"].values()), body
        assert "***" in body["components"]["postgres"]["detail"]
    assert bodies["/api/health/ready"]["not_counted"] == ["feed"]
    assert "not_counted" not in bodies["/api/health"]


def test_a_stale_feed_does_not_make_the_api_unready() -> None:
    up = [ComponentHealth(name, "up", "", 0.0) for name in ("kafka", "schema_registry", "postgres", "s3", "worker")]
    stale_feed = ComponentHealth("feed", "down", "sim: heartbeat, last report 60.0 s ago", 0.0)
    assert verdict([*up, stale_feed], INFORMATIONAL) == "up"
    assert verdict([*up, stale_feed]) == "down"  # /api/health still counts it
    assert verdict([*up[:-1], ComponentHealth("worker", "down", "", 0.0), stale_feed], INFORMATIONAL) == "down"


def test_feed_is_down_once_its_last_report_is_older_than_the_limit() -> None:
    now_s = 1_800_000_000.0
    status = {"feed": "sim", "event": "heartbeat", "messages_per_second": 12.0, "connected": True,
              "ts_init": int((now_s - 10) * 1e9)}
    assert feed_health(status, now_s, stale_after_s=15).status == "up"
    assert feed_health(status, now_s, stale_after_s=5).status == "down"
    assert feed_health(status | {"connected": False}, now_s, stale_after_s=15).status == "down"
    assert feed_health(None, now_s, stale_after_s=15).status == "down"


def test_ready_reports_the_watched_feed(offline_settings: ApiSettings) -> None:
    status = {"feed": "sim", "event": "heartbeat", "messages_per_second": 3.0, "connected": True, "active": True,
              "ts_init": time.time_ns(), "detail": ""}
    watcher = StubFeedWatcher(status)
    with TestClient(app=create_app(offline_settings, feed_watcher=watcher)) as client:
        assert watcher.started
        feed = client.get("/api/health/ready").json()["components"]["feed"]
    assert watcher.stopped
    assert feed["status"] == "up" and feed["detail"].startswith("sim: heartbeat")

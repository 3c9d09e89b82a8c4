"""Liveness is separate from readiness; readiness counts what the API itself needs (PostgreSQL, Kafka, the
registry) and reports the rest; consumer groups are judged on their members and their lag; one round of
checks serves the requests of `health_cache_s`."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from litestar.testing import TestClient

from api.app import create_app
from api.health import NOT_COUNTED, ComponentHealth, HealthChecks, feed_health, group_health, verdict
from api.settings import ApiSettings
from connectors.kafka.probe import GroupLag, GroupState, Reachability

from .conftest import StubFeedWatcher

COMPONENTS = {"kafka", "schema_registry", "postgres", "s3", "worker", "sink", "feed"}


def up(*names: str) -> list[ComponentHealth]:
    return [ComponentHealth(name, "up", "", 0.0) for name in names]


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
    assert bodies["/api/health/ready"]["not_counted"] == ["feed", "s3", "sink", "worker"]
    assert "not_counted" not in bodies["/api/health"]


def test_readiness_counts_only_what_the_api_needs() -> None:
    needed = up("kafka", "schema_registry", "postgres")
    others = [ComponentHealth("s3", "down", "", 0.0), ComponentHealth("worker", "lagging", "", 0.0),
              ComponentHealth("sink", "down", "", 0.0), ComponentHealth("feed", "down", "stale", 0.0)]
    assert verdict([*needed, *others], NOT_COUNTED) == "up"
    assert verdict([*needed, *others]) == "down"  # /api/health counts them all
    assert verdict([*needed, *up("s3", "sink", "feed"), ComponentHealth("worker", "lagging", "", 0.0)]) == "lagging"
    for name in ("kafka", "schema_registry", "postgres"):
        broken = [c if c.name != name else ComponentHealth(name, "down", "", 0.0) for c in needed]
        assert verdict([*broken, *others], NOT_COUNTED) == "down", name


def test_a_group_is_down_without_members_and_lagging_past_the_threshold() -> None:
    lag = GroupLag(75_785, {"ts.ticks.trades": 75_785}, 6)
    lagging = group_health("worker", GroupState("tradestream-worker", 1, "STABLE", lag), lag_threshold=10_000)
    assert lagging.status == "lagging" and "75,785 records behind, more than 10,000" in lagging.detail
    assert lagging.as_dict()["lag"] == {"records": 75_785, "threshold": 10_000, "partitions": 6,
                                        "by_topic": {"ts.ticks.trades": 75_785}}
    assert group_health("worker", GroupState("g", 1, "STABLE", lag), lag_threshold=100_000).status == "up"
    absent = group_health("sink", GroupState("g", 0, "EMPTY", lag), lag_threshold=100_000)
    assert absent.status == "down" and "no member" in absent.detail and "75,785 records behind" in absent.detail
    unreachable = group_health("sink", GroupState("g", 0, "UNKNOWN", None, "Local: Broker transport failure"), 10)
    assert unreachable.status == "down" and "lag" not in unreachable.as_dict()
    unknown_lag = group_health("sink", GroupState("g", 2, "STABLE", None, "lag unknown: timed out"), 10)
    assert unknown_lag.status == "up" and "lag unknown" in unknown_lag.detail


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


class CountingProbe:
    """Answers like a healthy cluster and counts the broker probes."""

    def __init__(self) -> None:
        self.broker_calls = 0

    def broker(self) -> Reachability:
        self.broker_calls += 1
        return Reachability(True, "stub broker")

    def registry(self) -> Reachability:
        return Reachability(True, "stub registry")

    def group(self, group_id: str) -> GroupState:
        return GroupState(group_id, 1, "STABLE", GroupLag(0))


class UnreachablePool:
    """No PostgreSQL: the postgres component is down, which these tests do not look at."""

    def connection(self, timeout: float):  # noqa: ANN201 - an async context manager that fails
        import psycopg

        class Failing:
            async def __aenter__(self) -> None:
                raise psycopg.OperationalError("no database here")

            async def __aexit__(self, *exc: object) -> None:
                return None
        return Failing()


async def test_concurrent_requests_share_one_round_of_checks(offline_settings: ApiSettings) -> None:
    probe = CountingProbe()
    settings = dataclasses.replace(offline_settings, health_cache_s=60.0)
    checks = HealthChecks(settings, StubFeedWatcher(), probe)  # type: ignore[arg-type]
    results = await asyncio.gather(*(checks.components(UnreachablePool()) for _ in range(20)))  # type: ignore[arg-type]
    assert probe.broker_calls == 1 and checks.rounds == 1
    assert all(r[0].detail == "stub broker" for r in results)
    await checks.components(UnreachablePool())  # type: ignore[arg-type]
    assert checks.rounds == 1  # still fresh


async def test_a_round_older_than_the_cache_time_is_checked_again(offline_settings: ApiSettings) -> None:
    probe = CountingProbe()
    settings = dataclasses.replace(offline_settings, health_cache_s=0.0)
    checks = HealthChecks(settings, StubFeedWatcher(), probe)  # type: ignore[arg-type]
    for _ in range(3):
        await checks.components(UnreachablePool())  # type: ignore[arg-type]
    assert checks.rounds == 3 and probe.broker_calls == 3

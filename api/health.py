"""Health of every component the platform needs, checked for real (a request to each service).

Three views of it:

    /api/health/live    200 while the process serves requests; checks nothing else (liveness probe)
    /api/health/ready   every component; 503 when one the API relies on is down (readiness probe).
                        The feed's state is reported but does not count: a quiet or stale market-data
                        feed is not a reason to stop serving scanners, signals and the dashboard.
    /api/health         every component, the feed included (the dashboard's status page)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import httpx
import psycopg
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from litestar import Controller, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from psycopg_pool import AsyncConnectionPool

from api.database import POOL
from api.settings import ApiSettings
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings, archive_status

# Reported in readiness, not counted.
INFORMATIONAL = frozenset({"feed"})


@runtime_checkable
class FeedWatcher(Protocol):
    """What the health check needs of the feed-status watcher (`api.feedwatch.FeedStatusWatcher`)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def last(self) -> dict[str, object] | None: ...


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    status: str  # "up" | "down"
    detail: str
    latency_ms: float

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "detail": self.detail, "latency_ms": round(self.latency_ms, 1)}


def _timed(name: str, check: Callable[[], tuple[str, str]]) -> ComponentHealth:
    started = time.perf_counter()
    status, detail = check()
    return ComponentHealth(name, status, detail, (time.perf_counter() - started) * 1000)


def check_kafka(kafka: KafkaSettings) -> ComponentHealth:
    def check() -> tuple[str, str]:
        admin = AdminClient({"bootstrap.servers": kafka.bootstrap, "socket.timeout.ms": 2000, "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=2)
        except KafkaException as exc:
            return "down", f"{kafka.bootstrap}: {exc.args[0].str()}"
        return "up", f"{kafka.bootstrap}: {len(metadata.brokers)} broker(s), {len(metadata.topics)} topics"
    return _timed("kafka", check)


def check_registry(kafka: KafkaSettings) -> ComponentHealth:
    def check() -> tuple[str, str]:
        try:
            response = httpx.get(f"{kafka.registry_url}/subjects", timeout=2)
        except httpx.HTTPError as exc:
            return "down", f"{kafka.registry_url}: {type(exc).__name__}"
        if response.status_code != 200:
            return "down", f"{kafka.registry_url}: HTTP {response.status_code}"
        return "up", f"{kafka.registry_url}: {len(response.json())} subjects"
    return _timed("schema_registry", check)


async def check_postgres(pool: AsyncConnectionPool, settings: ApiSettings) -> ComponentHealth:
    """A pooled connection answers; the server version and whether TimescaleDB is installed."""
    started = time.perf_counter()
    try:
        async with pool.connection(timeout=settings.database_wait_s) as conn:
            (version,) = await (await conn.execute("show server_version")).fetchone()
            timescale = await (await conn.execute(
                "select extversion from pg_extension where extname = 'timescaledb'")).fetchone()
    except psycopg.Error as exc:  # PoolTimeout among them
        status, detail = "down", f"{settings.database_url_redacted}: {type(exc).__name__}"
    else:
        path = f"TimescaleDB {timescale[0]}" if timescale else "plain PostgreSQL"
        status, detail = "up", f"PostgreSQL {version.split()[0]} ({path})"
    return ComponentHealth("postgres", status, detail, (time.perf_counter() - started) * 1000)


def check_s3(archive: ArchiveSettings) -> ComponentHealth:
    return _timed("s3", lambda: archive_status(archive))


def check_worker(kafka: KafkaSettings, group_id: str) -> ComponentHealth:
    def check() -> tuple[str, str]:
        admin = AdminClient({"bootstrap.servers": kafka.bootstrap, "log_level": 0})
        try:
            description = admin.describe_consumer_groups([group_id], request_timeout=2)[group_id].result()
        except KafkaException as exc:
            return "down", f"consumer group {group_id}: {exc.args[0].str()}"
        members = len(description.members)
        state = description.state.name if hasattr(description.state, "name") else str(description.state)
        if members == 0:
            return "down", f"consumer group {group_id}: no worker connected (state {state})"
        return "up", f"consumer group {group_id}: {members} member(s), state {state}"
    return _timed("worker", check)


def feed_health(last_status: dict[str, object] | None, now_s: float, stale_after_s: float) -> ComponentHealth:
    """Judge the feed from the last FeedStatusChanged event the API consumed."""
    if last_status is None:
        return ComponentHealth("feed", "down", "no feed status received yet", 0.0)
    age_s = now_s - int(last_status["ts_init"]) / 1e9
    detail = (f"{last_status['feed']}: {last_status['event']}, "
              f"{float(last_status['messages_per_second']):.0f} msg/s, last report {age_s:.1f} s ago")
    if last_status.get("detail"):
        detail += f" ({last_status['detail']})"
    up = bool(last_status["connected"]) and age_s <= stale_after_s
    return ComponentHealth("feed", "up" if up else "down", detail, 0.0)


async def check_all(settings: ApiSettings, pool: AsyncConnectionPool, watcher: FeedWatcher) -> list[ComponentHealth]:
    """Every component, checked concurrently (the blocking clients in threads)."""
    checks = await asyncio.gather(
        asyncio.to_thread(check_kafka, settings.kafka),
        asyncio.to_thread(check_registry, settings.kafka),
        check_postgres(pool, settings),
        asyncio.to_thread(check_s3, settings.archive),
        asyncio.to_thread(check_worker, settings.kafka, settings.worker_group),
    )
    return [*checks, feed_health(watcher.last(), time.time(), settings.feed_stale_after_s)]


def verdict(components: Sequence[ComponentHealth], ignore: frozenset[str] = frozenset()) -> str:
    """"up" when every component not in `ignore` is up, else "down"."""
    return "up" if all(c.status == "up" for c in components if c.name not in ignore) else "down"


def _answer(components: Sequence[ComponentHealth], ignore: frozenset[str]) -> Response[dict[str, object]]:
    overall = verdict(components, ignore)
    body: dict[str, object] = {"status": overall, "components": {c.name: c.as_dict() for c in components}}
    if ignore:
        body["not_counted"] = sorted(ignore)
    return Response(body, status_code=HTTP_200_OK if overall == "up" else HTTP_503_SERVICE_UNAVAILABLE)


class HealthController(Controller):
    path = "/api/health"

    @get("/")
    async def health(self, settings: ApiSettings, watcher: FeedWatcher,
                     pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Each component's state, the feed included; 200 when all are up, 503 otherwise (the body says which
        is down). The dashboard's status page reads this."""
        return _answer(await check_all(settings, pool, watcher), frozenset())

    @get("/live")
    async def live(self) -> dict[str, str]:
        """Liveness: 200 while the process serves requests. Checks no dependency, so a database or broker
        outage never gets the API restarted."""
        return {"status": "up"}

    @get("/ready")
    async def ready(self, settings: ApiSettings, watcher: FeedWatcher,
                    pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Readiness: every component's state; 503 when one the API relies on is down. The feed is reported
        but not counted (`not_counted`): a stale feed does not make the API unready."""
        return _answer(await check_all(settings, pool, watcher), INFORMATIONAL)

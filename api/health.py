"""Health of every component the platform needs, checked for real (a request to each service).

Three views of it:

    /api/health/live    200 while the process serves requests; checks nothing else (liveness probe)
    /api/health/ready   every component; 503 when one the API itself needs is down: PostgreSQL, Kafka
                        and the schema registry (readiness probe). The archive bucket, the stream worker,
                        the sink and the feed are reported (`not_counted`) but do not count: a lagging
                        worker or a silent feed is no reason to stop serving scanners and the dashboard.
    /api/health         every component counted (the dashboard's status page): "up" (200), else
                        "lagging" or "down" (503)

The worker and the sink are consumer groups: "down" with no member, "lagging" when more records than
`lag_threshold_records` wait (summed over the partitions they have committed on), else "up"; each
carries its `lag`. One round of checks answers every request for `health_cache_s` (1 s by default), and
requests that arrive while a round runs wait for it instead of starting another, so probes and
dashboards polling at any rate cost Kafka and PostgreSQL at most one round a second. The feed's state
comes from the feed-status watcher's memory and is judged afresh on every request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import psycopg
from litestar import Controller, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE
from psycopg_pool import AsyncConnectionPool

from api.database import POOL
from api.settings import ApiSettings
from connectors.kafka.probe import GroupLag, GroupState, KafkaProbe, Reachability
from connectors.s3archive.bucket import archive_status

COMPONENTS = ("kafka", "schema_registry", "postgres", "s3", "worker", "sink", "feed")
NOT_COUNTED = frozenset({"s3", "worker", "sink", "feed"})
"""Reported in readiness, not counted: the API serves without them."""


@runtime_checkable
class FeedWatcher(Protocol):
    """What the health check needs of the feed-status watcher (`api.feedwatch.FeedStatusWatcher`)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def last(self) -> dict[str, object] | None: ...


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    status: str  # "up" | "lagging" | "down"
    detail: str
    latency_ms: float
    lag: GroupLag | None = None
    lag_threshold: int | None = None

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status, "detail": self.detail,
                                   "latency_ms": round(self.latency_ms, 1)}
        if self.lag is not None:
            body["lag"] = {"records": self.lag.total, "threshold": self.lag_threshold,
                           "partitions": self.lag.partitions, "by_topic": self.lag.by_topic}
        return body


def _timed(name: str, check: Callable[[], Reachability]) -> ComponentHealth:
    started = time.perf_counter()
    result = check()
    return ComponentHealth(name, "up" if result.up else "down", result.detail, (time.perf_counter() - started) * 1000)


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


def group_health(name: str, group: GroupState, lag_threshold: int, latency_ms: float = 0.0) -> ComponentHealth:
    """A consumer group's health: down without a member, lagging past `lag_threshold` records, else up."""
    where = f"consumer group {group.group_id}"
    if group.lag is None and group.members == 0 and group.error:
        return ComponentHealth(name, "down", f"{where}: {group.error}", latency_ms)
    behind = "lag unknown" if group.lag is None else f"{group.lag.total:,} records behind"
    if group.error and group.lag is None:
        behind += f" ({group.error})"
    if group.members == 0:
        status, detail = "down", f"{where}: no member connected (state {group.state}); {behind}"
    elif group.lag is not None and group.lag.total > lag_threshold:
        status, detail = "lagging", (f"{where}: {group.members} member(s), state {group.state}; {behind}, "
                                     f"more than {lag_threshold:,}")
    else:
        status, detail = "up", f"{where}: {group.members} member(s), state {group.state}; {behind}"
    return ComponentHealth(name, status, detail, latency_ms, group.lag, lag_threshold)


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


class HealthChecks:
    """The checks of the services, one round shared by the requests of `health_cache_s` (see above)."""

    def __init__(self, settings: ApiSettings, watcher: FeedWatcher, probe: KafkaProbe | None = None) -> None:
        self.settings = settings
        self.watcher = watcher
        self.probe = probe or KafkaProbe(settings.kafka)
        self.rounds = 0
        """Rounds of service checks run so far."""
        self._round: asyncio.Task[list[ComponentHealth]] | None = None
        self._fresh_until = 0.0

    def reset(self) -> None:
        """Forget the last round (at the start of the app's lifespan: a round belongs to one event loop)."""
        self._round = None
        self._fresh_until = 0.0

    def _group(self, name: str, group_id: str) -> ComponentHealth:
        started = time.perf_counter()
        group = self.probe.group(group_id)
        return group_health(name, group, self.settings.lag_threshold_records, (time.perf_counter() - started) * 1000)

    async def _check_services(self, pool: AsyncConnectionPool) -> list[ComponentHealth]:
        """Every service, checked concurrently (the blocking clients in threads)."""
        self.rounds += 1
        settings = self.settings
        checks = await asyncio.gather(
            asyncio.to_thread(_timed, "kafka", self.probe.broker),
            asyncio.to_thread(_timed, "schema_registry", self.probe.registry),
            check_postgres(pool, settings),
            asyncio.to_thread(_timed, "s3", lambda: Reachability(*_archive(settings))),
            asyncio.to_thread(self._group, "worker", settings.worker_group),
            asyncio.to_thread(self._group, "sink", settings.sink_group),
        )
        self._fresh_until = time.monotonic() + settings.health_cache_s
        return list(checks)

    async def components(self, pool: AsyncConnectionPool) -> list[ComponentHealth]:
        """Every component: the services from the current round (a new one when it is older than
        `health_cache_s`), the feed as of now."""
        round_ = self._round
        if round_ is None or (round_.done() and time.monotonic() >= self._fresh_until):
            round_ = self._round = asyncio.ensure_future(self._check_services(pool))
        # Shielded: a request that goes away does not cancel the round the others wait for.
        services = await asyncio.shield(round_)
        return [*services, feed_health(self.watcher.last(), time.time(), self.settings.feed_stale_after_s)]


def _archive(settings: ApiSettings) -> tuple[bool, str]:
    status, detail = archive_status(settings.archive)
    return status == "up", detail


def verdict(components: Sequence[ComponentHealth], ignore: frozenset[str] = frozenset()) -> str:
    """"down" when a counted component is down, else "lagging" when one lags, else "up"."""
    statuses = {c.status for c in components if c.name not in ignore}
    if statuses - {"up", "lagging"}:
        return "down"
    return "lagging" if "lagging" in statuses else "up"


def _answer(components: Sequence[ComponentHealth], ignore: frozenset[str]) -> Response[dict[str, object]]:
    overall = verdict(components, ignore)
    body: dict[str, object] = {"status": overall, "components": {c.name: c.as_dict() for c in components}}
    if ignore:
        body["not_counted"] = sorted(ignore)
    return Response(body, status_code=HTTP_200_OK if overall == "up" else HTTP_503_SERVICE_UNAVAILABLE)


class HealthController(Controller):
    path = "/api/health"

    @get("/")
    async def health(self, health_checks: HealthChecks, pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Each component's state, every one counted: 200 when all are up, 503 when one is down or lagging
        (the body says which; the worker and the sink carry their consumer lag). The dashboard's status page
        reads this."""
        return _answer(await health_checks.components(pool), frozenset())

    @get("/live")
    async def live(self) -> dict[str, str]:
        """Liveness: 200 while the process serves requests. Checks no dependency, so a database or broker
        outage never gets the API restarted."""
        return {"status": "up"}

    @get("/ready")
    async def ready(self, health_checks: HealthChecks, pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Readiness: every component's state; 503 when one the API itself needs (PostgreSQL, Kafka, the
        schema registry) is down. The archive bucket, the worker, the sink and the feed are reported but not
        counted (`not_counted`)."""
        return _answer(await health_checks.components(pool), NOT_COUNTED)

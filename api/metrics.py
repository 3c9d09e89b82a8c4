"""Latency metrics: JSON for the dashboard, and `/metrics` for Prometheus scrapers.

`/metrics` always answers 200: the API's own request metrics and the process metrics need no database.
The pipeline's latency percentiles are read from PostgreSQL on each scrape; when that fails (database
down, pool exhausted) `tradestream_database_scrape_success` is 0 and the latency gauges are absent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

import psycopg
from litestar import Controller, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.auth import SECURITY
from api.database import POOL
from api.instrumentation import RequestMetrics
from api.settings import ApiSettings

log = logging.getLogger(__name__)

LATEST = """
    select distinct on (feed, symbol, hop) feed, symbol, hop, window_start, window_end, sample_count,
           p50_ns, p95_ns, p99_ns, max_ns
    from latency_metrics
    where window_end > now() - interval '10 minutes'
    order by feed, symbol, hop, window_end desc
"""
QUANTILES = (("0.5", "p50_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms"), ("1", "max_ms"))


async def latest_latency(conn: AsyncConnection) -> list[dict[str, object]]:
    """The newest window per feed, symbol and hop among those ending in the last 10 minutes."""
    rows = await (await conn.execute(LATEST)).fetchall()
    return [{"feed": r[0], "symbol": r[1], "hop": r[2].lower(), "window_start": r[3].isoformat(),
             "window_end": r[4].isoformat(), "count": r[5], "p50_ms": r[6] / 1e6, "p95_ms": r[7] / 1e6,
             "p99_ms": r[8] / 1e6, "max_ms": r[9] / 1e6} for r in rows]


def latency_families(rows: list[dict[str, object]]) -> list[Metric]:
    """The latency rows as Prometheus gauges (seconds, one series per quantile) and sample counts."""
    seconds = GaugeMetricFamily("tradestream_latency_seconds",
                                "Pipeline hop latency percentiles over a sliding window.",
                                labels=["feed", "symbol", "hop", "quantile"])
    samples = GaugeMetricFamily("tradestream_latency_samples", "Samples in the latency window.",
                                labels=["feed", "symbol", "hop"])
    for row in rows:
        labels = [str(row["feed"]), str(row["symbol"]), str(row["hop"])]
        for quantile, key in QUANTILES:
            seconds.add_metric([*labels, quantile], float(row[key]) / 1000)
        samples.add_metric(labels, float(row["count"]))
    return [seconds, samples]


def scrape_families(success: bool, duration_s: float, pool_stats: Mapping[str, int]) -> list[Metric]:
    """Whether this scrape read the database, how long it took, and the connection pool's state."""
    families = [
        GaugeMetricFamily("tradestream_database_scrape_success",
                          "1 when this scrape read the latency figures from PostgreSQL; 0 when it could not "
                          "(the latency gauges are then absent).", value=1.0 if success else 0.0),
        GaugeMetricFamily("tradestream_database_scrape_duration_seconds",
                          "Time this scrape spent getting the latency figures from PostgreSQL.", value=duration_s),
    ]
    for stat, name, text in (
            ("pool_size", "tradestream_api_database_pool_connections", "Connections the API's pool holds."),
            ("pool_available", "tradestream_api_database_pool_idle_connections",
             "Pooled connections waiting for a request."),
            ("requests_waiting", "tradestream_api_database_pool_waiting_requests",
             "Requests waiting for a pooled connection.")):
        families.append(GaugeMetricFamily(name, text, value=float(pool_stats.get(stat, 0))))
    return families


class _Families:
    """A collector that yields metric families computed beforehand (for a one-scrape registry)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self.families


def exposition(families: Iterable[Metric]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families))
    return generate_latest(registry)


class MetricsController(Controller):
    path = "/"

    @get("/api/metrics/latency", security=SECURITY)
    async def latency(self, conn: AsyncConnection) -> list[dict[str, object]]:
        """Latest p50/p95/p99/max per feed, symbol and hop (windows ending in the last 10 minutes); 503 when
        PostgreSQL cannot be reached."""
        return await latest_latency(conn)

    @get("/metrics", media_type=CONTENT_TYPE_LATEST)
    async def prometheus(self, settings: ApiSettings, request_metrics: RequestMetrics,
                         pool: AsyncConnectionPool = POOL) -> Response[bytes]:
        """Prometheus text exposition: the API's request counts and latencies by route, the process metrics,
        the pipeline latency percentiles from PostgreSQL, and whether reading them succeeded. Always 200."""
        started = time.perf_counter()
        rows: list[dict[str, object]] | None
        try:
            async with pool.connection(timeout=settings.database_wait_s) as conn:
                rows = await latest_latency(conn)
        except psycopg.Error as exc:  # PoolTimeout among them: the scrape reports it instead of failing
            log.warning("scrape of latency_metrics failed database=%s error=%s", settings.database_url_redacted,
                        type(exc).__name__)
            rows = None
        families = scrape_families(rows is not None, time.perf_counter() - started, pool.get_stats())
        if rows is not None:
            families += latency_families(rows)
        body = request_metrics.exposition() + exposition(families)
        # As a header: given as the media type, Litestar would append a second charset to it.
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers={"content-type": CONTENT_TYPE_LATEST})

"""The Litestar application: REST and websocket API plus the dashboard's static files."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Controller, Litestar, Response, get
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from api import health, metrics
from api.scanners import ScannerController, SignalsController
from api.feedwatch import FeedStatusWatcher
from connectors.kafka.codec import AvroCodec
from tradestream.config import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
WORKER_GROUP = "tradestream-worker"


class HealthController(Controller):
    path = "/api/health"

    @get("/")
    async def health(self, settings: Settings, watcher: FeedStatusWatcher) -> Response[dict[str, object]]:
        """Each component's state; 200 when all are up, 503 otherwise (the body says which is down)."""
        checks = await asyncio.gather(
            asyncio.to_thread(health.check_kafka, settings),
            asyncio.to_thread(health.check_registry, settings),
            asyncio.to_thread(health.check_postgres, settings),
            asyncio.to_thread(health.check_s3, settings),
            asyncio.to_thread(health.check_worker, settings, WORKER_GROUP),
        )
        components = [*checks, health.feed_health(watcher.last(), time.time())]
        overall = "up" if all(c.status == "up" for c in components) else "down"
        body: dict[str, object] = {
            "status": overall,
            "components": {c.name: c.as_dict() for c in components},
        }
        return Response(body, status_code=HTTP_200_OK if overall == "up" else HTTP_503_SERVICE_UNAVAILABLE)


class MetricsController(Controller):
    path = "/"

    @get("/api/metrics/latency")
    async def latency(self, settings: Settings) -> list[dict[str, object]]:
        """Latest p50/p95/p99/max per feed, symbol and hop (windows ending in the last 10 minutes)."""
        return await asyncio.to_thread(metrics.latest_latency, settings)

    @get("/metrics", media_type="text/plain; version=0.0.4")
    async def prometheus(self, settings: Settings) -> str:
        """The same figures in Prometheus text exposition format."""
        return metrics.prometheus_text(await asyncio.to_thread(metrics.latest_latency, settings))


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    codec = AvroCodec(settings.schema_registry_url)
    watcher = FeedStatusWatcher(settings, codec)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        watcher.start()
        try:
            yield
        finally:
            await asyncio.to_thread(watcher.stop)

    async def provide_settings() -> Settings:
        return settings

    async def provide_watcher() -> FeedStatusWatcher:
        return watcher

    return Litestar(
        route_handlers=[HealthController, MetricsController, ScannerController, SignalsController,
                        create_static_files_router(path="/", directories=[STATIC_DIR], html_mode=True)],
        dependencies={"settings": provide_settings, "watcher": provide_watcher},
        lifespan=[lifespan],
    )

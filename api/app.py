"""The Litestar application: REST API, Prometheus metrics and the dashboard's static files.

`create_app(settings)` wires the pieces; the lifespan opens the PostgreSQL pool (without waiting for the
database), starts the feed-status watcher, the scanner validation workers and the live updates (`api.live`: the
topics' follower behind the websocket /api/live), and stops them on shut-down.
Handlers get what they need by dependency injection: `settings`, `pool`, `conn` (a pooled connection per
request), `watcher`, `health_checks`, `validator`, `request_metrics`, and `caller`: the user of the request,
found by the authentication middleware (`api.auth`) on every route but the public ones (PUBLIC_PATHS, the
static pages and the log-in).

Bad input never reaches a handler as a 500: bodies are limited to `max_body_bytes` (413), NUL characters
in path and query parameters and over-deep JSON are refused first (`api.bounds`), and an exception no
handler expects is answered 500 with a request id only (`api.errors`).

The OpenAPI document is served as JSON and YAML only (`/schema/openapi.json`, `/schema/openapi.yaml`):
Litestar's documentation UIs load their scripts from public CDNs and stay blank on a machine without
internet access, and no well-kept Python package ships those assets for us to serve instead.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
from litestar import Litestar
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components
from litestar.static_files import create_static_files_router

from api import errors
from api.accounts import AccountChangePublisher, AccountsController, KafkaAccountChanges
from api.calendar import CalendarController
from api.charts import ChartsController
from api.auth import (PUBLIC, SECURITY_SCHEMES, AuthenticationMiddleware, Authenticator, Caller,
                      DatabaseAuthenticator, page_headers, provide_caller)
from api.bounds import refuse_bad_input
from api.deals import DealsController
from api.feeds import FeedsController
from api.database import new_pool, provide_connection, provide_pool, unavailable_handler
from connectors.kafka.feedwatch import FeedStatusWatcher
from api.health import FeedWatcher, HealthChecks, HealthController
from api.instrumentation import RequestMetrics, RequestMetricsMiddleware
from api.live import LiveUpdates, channels_plugin, live_socket
from api.login import AuthController
from api.metrics import MetricsController
from api.pnl import PnlController
from api.scanners import KafkaStrategyChanges, ScannerController, SignalsController, StrategyChangePublisher
from api.settings import ApiSettings
from api.trades import TradesController
from api.universal_settings import KafkaSettingsVersions, SettingsVersions, UniversalSettingsController
from api.validation import ScannerValidator
from api.why import WhyController
from connectors.kafka.codec import AvroCodec

STATIC_DIR = Path(__file__).resolve().parent / "static"
PUBLIC_PATHS = ["^/api/health", "^/metrics$", "^/schema"]
"""Routes anyone may call: the health probes, Prometheus's scrape and the OpenAPI document (none shows a user's
data). The static pages and the log-in are public by their handlers' `opt` (`api.auth.PUBLIC`)."""

log = logging.getLogger(__name__)


def openapi_config() -> OpenAPIConfig:
    """Title and version from the package; each operation described by its handler's docstring."""
    return OpenAPIConfig(
        title="tradestream",
        version=importlib.metadata.version("tradestream"),
        description="Scanners, signals, correlation, deals, latency metrics and health of the tradestream platform.",
        use_handler_docstrings=True,
        path="/schema",
        render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
        components=Components(security_schemes=SECURITY_SCHEMES),
    )


def create_app(settings: ApiSettings, *, feed_watcher: FeedWatcher | None = None,
               authenticator: Authenticator | None = None,
               account_changes: AccountChangePublisher | None = None,
               settings_versions: SettingsVersions | None = None,
               strategy_changes: StrategyChangePublisher | None = None) -> Litestar:
    """The API for `settings`. `feed_watcher` replaces the Kafka-backed feed-status watcher, `authenticator`
    the database's look-up of API tokens and sessions, `account_changes` the accounts topic's producer,
    `settings_versions` the settings topic's reader and producer, `strategy_changes` the strategies topic's
    producer (tests)."""
    publisher = account_changes or KafkaAccountChanges(settings.kafka)
    versions = settings_versions or KafkaSettingsVersions(settings.kafka)
    strategies = strategy_changes or KafkaStrategyChanges(settings.kafka)
    watcher = feed_watcher or FeedStatusWatcher(settings.kafka, AvroCodec(settings.kafka.registry_config()))
    request_metrics = RequestMetrics()
    health_checks = HealthChecks(settings, watcher)
    validator = ScannerValidator(settings.validation_workers, settings.validation_timeout_s)
    channels = channels_plugin()
    live = LiveUpdates(settings.kafka, AvroCodec(settings.kafka.registry_config()), channels)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        pool = new_pool(settings)
        # Not waiting: the API starts and serves /api/health/live while the database is down.
        await pool.open(wait=False)
        app.state.pool = pool
        app.state.authenticator = authenticator or DatabaseAuthenticator(app.state)
        watcher.start()
        validator.start()
        app.state.live = live
        live.start(pool)
        health_checks.reset()
        log.info("api started database=%s pool_min=%d pool_max=%d", settings.database_url_redacted,
                 settings.pool_min_size, settings.pool_max_size)
        try:
            yield
        finally:
            await asyncio.gather(asyncio.to_thread(watcher.stop), asyncio.to_thread(validator.stop), live.stop())
            await pool.close()

    def provide_settings() -> ApiSettings:
        return settings

    def provide_watcher() -> FeedWatcher:
        return watcher

    def provide_request_metrics() -> RequestMetrics:
        return request_metrics

    def provide_health_checks() -> HealthChecks:
        return health_checks

    def provide_validator() -> ScannerValidator:
        return validator

    def provide_publisher() -> AccountChangePublisher:
        return publisher

    def provide_settings_versions() -> SettingsVersions:
        return versions

    def provide_strategy_changes() -> StrategyChangePublisher:
        return strategies

    return Litestar(
        route_handlers=[HealthController, MetricsController, ScannerController, SignalsController, DealsController,
                        AuthController, AccountsController, TradesController, ChartsController,
                        PnlController, CalendarController, UniversalSettingsController, FeedsController, WhyController,
                        live_socket,
                        create_static_files_router(path="/", directories=[STATIC_DIR], html_mode=True, opt=PUBLIC,
                                                   after_request=page_headers)],
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "watcher": Provide(provide_watcher, sync_to_thread=False),
            "request_metrics": Provide(provide_request_metrics, sync_to_thread=False),
            "health_checks": Provide(provide_health_checks, sync_to_thread=False),
            "validator": Provide(provide_validator, sync_to_thread=False),
            "pool": Provide(provide_pool),
            "conn": Provide(provide_connection),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "publisher": Provide(provide_publisher, sync_to_thread=False),
            "settings_versions": Provide(provide_settings_versions, sync_to_thread=False),
            "strategy_changes": Provide(provide_strategy_changes, sync_to_thread=False),
        },
        exception_handlers={psycopg.OperationalError: unavailable_handler(settings), **errors.handlers(settings)},
        before_request=refuse_bad_input,
        request_max_body_size=settings.max_body_bytes,
        middleware=[RequestMetricsMiddleware(request_metrics),
                    DefineMiddleware(AuthenticationMiddleware, exclude=PUBLIC_PATHS)],
        lifespan=[lifespan],
        plugins=[channels],
        openapi_config=openapi_config(),
        # The process's logging is the CLI's (text, or JSON lines with LOG_FORMAT=json): Litestar's default
        # configuration would replace it with its own text format.
        logging_config=None,
        signature_types=[ApiSettings, RequestMetrics, HealthChecks, ScannerValidator, Caller],
    )

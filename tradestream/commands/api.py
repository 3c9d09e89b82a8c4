"""`tradestream api`: serve the REST API, /metrics and the dashboard with uvicorn.

Besides the shared variables (Kafka, schema registry, DATABASE_URL, S3_*, API_HOST, API_PORT), the API
reads:

| variable                 | default | meaning                                                       |
|--------------------------|---------|---------------------------------------------------------------|
| API_DB_POOL_MIN_SIZE     | 1       | PostgreSQL connections the API keeps open (0: only on demand) |
| API_DB_POOL_MAX_SIZE     | 10      | most connections the API opens at once                        |
| API_DB_WAIT_S            | 5       | seconds a request waits for a connection before answering 503 |
| API_WORKERS              | 1       | uvicorn worker processes                                      |
| API_MAX_BODY_BYTES       | 262144  | largest request body; 413 above                               |
| API_VALIDATION_WORKERS   | 1       | processes that validate scanners                              |
| API_VALIDATION_TIMEOUT_S | 5       | longest wait for, and longest run of, one validation          |
| API_HEALTH_CACHE_S       | 1       | seconds one round of health checks answers for                |
| API_LAG_THRESHOLD        | 10000   | records behind past which the worker or sink is "lagging"     |
| API_SESSION_HOURS        | 12      | how long a dashboard log-in lasts                             |
| API_LOGIN_FAILURES_PER_USER   | 5  | failed log-ins of a name within the window before 429         |
| API_LOGIN_FAILURES_PER_CLIENT | 20 | failed log-ins from one address within the window before 429  |
| API_LOGIN_WINDOW_S       | 300     | the window of the log-in limits, in seconds                   |

With API_WORKERS above 1, each uvicorn worker builds the app from the environment
(`app_from_environment`), with its own database pool and validation workers.
"""
from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

from api.settings import ApiSettings
from schemas.errors import ConfigError
from tradestream.commands.run import _group as group_for_prefix
from tradestream.config import Settings

if TYPE_CHECKING:
    from litestar import Litestar


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api", help="serve the API and dashboard")
    parser.add_argument("--host", help="bind address (default API_HOST)")
    parser.add_argument("--port", type=int, help="port (default API_PORT)")
    parser.add_argument("--access-log", action="store_true",
                        help="log every request (off by default: it costs more CPU than a cached answer; the "
                             "request counts and latencies by route are on /metrics)")
    parser.set_defaults(func=run)


def _integer(settings: Settings, name: str, default: int) -> int:
    raw = settings.env(name).strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def _seconds(settings: Settings, name: str, default: float, unit: str = "seconds") -> float:
    raw = settings.env(name).strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of {unit}") from None


def api_settings(settings: Settings) -> ApiSettings:
    """The API's section of the environment's settings; a bad value raises `ConfigError` naming it."""
    return ApiSettings(
        kafka=settings.kafka(),
        archive=settings.archive(),
        database_url=settings.database_url,
        database_url_redacted=settings.redacted_database_url(),
        host=settings.api_host,
        port=settings.api_port,
        pool_min_size=_integer(settings, "API_DB_POOL_MIN_SIZE", 1),
        pool_max_size=_integer(settings, "API_DB_POOL_MAX_SIZE", 10),
        database_wait_s=_seconds(settings, "API_DB_WAIT_S", 5.0),
        # The groups `tradestream run` gives its worker and sink on these topics (suffixed when TOPIC_PREFIX
        # is not ts.).
        worker_group=group_for_prefix("tradestream-worker", settings.topic_prefix),
        sink_group=group_for_prefix("tradestream-sink", settings.topic_prefix),
        lag_threshold_records=_integer(settings, "API_LAG_THRESHOLD", 10_000),
        health_cache_s=_seconds(settings, "API_HEALTH_CACHE_S", 1.0),
        max_body_bytes=_integer(settings, "API_MAX_BODY_BYTES", 262_144),
        validation_workers=_integer(settings, "API_VALIDATION_WORKERS", 1),
        validation_timeout_s=_seconds(settings, "API_VALIDATION_TIMEOUT_S", 5.0),
        workers=_integer(settings, "API_WORKERS", 1),
        session_hours=_seconds(settings, "API_SESSION_HOURS", 12.0, unit="hours"),
        login_failures_per_user=_integer(settings, "API_LOGIN_FAILURES_PER_USER", 5),
        login_failures_per_client=_integer(settings, "API_LOGIN_FAILURES_PER_CLIENT", 20),
        login_window_s=_seconds(settings, "API_LOGIN_WINDOW_S", 300.0),
    )


def app_from_environment() -> Litestar:
    """The app of the environment's settings: what each uvicorn worker process builds (a fresh process,
    so it sets up the CLI's logging first: text, or JSON lines with LOG_FORMAT=json)."""
    from api.app import create_app
    from tradestream.cli import configure_logging, log_format_from_env

    configure_logging("INFO", log_format_from_env())
    return create_app(api_settings(Settings.from_env()))


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = api_settings(Settings.from_env())
    settings = dataclasses.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    # log_config=None: uvicorn's own loggers propagate to the CLI's handlers (JSON lines with
    # LOG_FORMAT=json) instead of getting uvicorn's text handlers.
    served = dict(host=settings.host, port=settings.port, log_level="info", access_log=args.access_log,
                  log_config=None)
    if settings.workers == 1:
        uvicorn.run(create_app(settings), **served)
    else:
        uvicorn.run(f"{__name__}:app_from_environment", factory=True, workers=settings.workers, **served)
    return 0

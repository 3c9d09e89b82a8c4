"""`tradestream api`: serve the REST API, /metrics and the dashboard with uvicorn.

Besides the shared variables (Kafka, schema registry, DATABASE_URL, S3_*, API_HOST, API_PORT), the API
reads:

| variable               | default | meaning                                                         |
|------------------------|---------|-----------------------------------------------------------------|
| API_DB_POOL_MIN_SIZE   | 1       | PostgreSQL connections the API keeps open (0: only on demand)   |
| API_DB_POOL_MAX_SIZE   | 10      | most connections the API opens at once                          |
| API_DB_WAIT_S          | 5       | seconds a request waits for a connection before answering 503   |
"""

from __future__ import annotations

import argparse
import dataclasses

from api.settings import ApiSettings
from schemas.errors import ConfigError
from tradestream.commands.run import _group as group_for_prefix
from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("api", help="serve the API and dashboard")
    parser.add_argument("--host", help="bind address (default API_HOST)")
    parser.add_argument("--port", type=int, help="port (default API_PORT)")
    parser.set_defaults(func=run)


def _integer(settings: Settings, name: str, default: int) -> int:
    raw = settings.env(name).strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def _seconds(settings: Settings, name: str, default: float) -> float:
    raw = settings.env(name).strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds") from None


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
        # The group `tradestream run` gives its worker on these topics (suffixed when TOPIC_PREFIX is not ts.).
        worker_group=group_for_prefix("tradestream-worker", settings.topic_prefix),
    )


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = api_settings(Settings.from_env())
    settings = dataclasses.replace(settings, host=args.host or settings.host, port=args.port or settings.port)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0

"""What the API needs to run, as one typed, frozen section.

The CLI builds it from the environment (`tradestream.commands.api.api_settings`) and hands it to
`api.app.create_app`; nothing under `api/` reads an environment variable of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings
from schemas.errors import ConfigError


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiSettings:
    kafka: KafkaSettings
    """Kafka and the schema registry: health checks and the feed-status watcher."""
    archive: ArchiveSettings
    """The compliance archive bucket, checked by the health endpoints."""
    database_url: str
    """libpq connection string of PostgreSQL (DATABASE_URL); holds the password, never shown."""
    database_url_redacted: str
    """The same URL with the password replaced, for health output, error bodies and logs."""
    host: str = "127.0.0.1"
    """Bind address (API_HOST)."""
    port: int = 8000
    """Listener port (API_PORT)."""
    pool_min_size: int = 1
    """Connections the pool keeps open (API_DB_POOL_MIN_SIZE); 0 opens them only on demand."""
    pool_max_size: int = 10
    """Most connections the pool opens at once (API_DB_POOL_MAX_SIZE)."""
    database_wait_s: float = 5.0
    """How long a request waits for a pooled connection before it answers 503 (API_DB_WAIT_S); also the
    connect timeout of each new connection, rounded up to whole seconds."""
    worker_group: str = "tradestream-worker"
    """Consumer group of the stream worker, whose members and lag the health check reports."""
    sink_group: str = "tradestream-sink"
    """Consumer group of the PostgreSQL sink, whose members and lag the health check reports."""
    lag_threshold_records: int = 10_000
    """A consumer group further behind than this many records is reported "lagging" (API_LAG_THRESHOLD)."""
    feed_stale_after_s: float = 15.0
    """A feed reports a heartbeat every few seconds; a last report older than this means the feed is down."""
    health_cache_s: float = 1.0
    """How long one round of health checks answers /api/health and /api/health/ready (API_HEALTH_CACHE_S);
    0 checks every component on every request."""
    max_body_bytes: int = 262_144
    """Largest request body (API_MAX_BODY_BYTES); 413 above. The largest valid scanner is about 45 KB."""
    validation_workers: int = 1
    """Processes that validate scanners (API_VALIDATION_WORKERS); see `api.validation`."""
    validation_timeout_s: float = 5.0
    """Longest wait for a free validation worker (503 after) and longest validation (422 after)
    (API_VALIDATION_TIMEOUT_S)."""
    workers: int = 1
    """uvicorn worker processes serving the API (API_WORKERS)."""
    session_hours: float = 12.0
    """How long a dashboard log-in lasts (API_SESSION_HOURS)."""
    login_failures_per_user: int = 5
    """Failed log-ins of one user name within `login_window_s` after which its log-ins are refused (429) until the
    oldest of them is older than the window (API_LOGIN_FAILURES_PER_USER)."""
    login_failures_per_client: int = 20
    """The same for one client address, whatever the names it tries (API_LOGIN_FAILURES_PER_CLIENT)."""
    login_window_s: float = 300.0
    """The window of the log-in limits (API_LOGIN_WINDOW_S)."""

    def __post_init__(self) -> None:
        if self.pool_min_size < 0:
            raise ConfigError(f"pool_min_size={self.pool_min_size} must be 0 or more (API_DB_POOL_MIN_SIZE)")
        if self.pool_max_size < 1:
            raise ConfigError(f"pool_max_size={self.pool_max_size} must be at least 1 (API_DB_POOL_MAX_SIZE)")
        if self.pool_min_size > self.pool_max_size:
            raise ConfigError(f"pool_min_size={self.pool_min_size} exceeds pool_max_size={self.pool_max_size} "
                              "(API_DB_POOL_MIN_SIZE, API_DB_POOL_MAX_SIZE)")
        if not self.database_wait_s > 0:
            raise ConfigError(f"database_wait_s={self.database_wait_s} must be positive (API_DB_WAIT_S)")
        if not 1 <= self.port <= 65535:
            raise ConfigError(f"port={self.port} is out of range 1-65535 (API_PORT)")
        if not self.feed_stale_after_s > 0:
            raise ConfigError(f"feed_stale_after_s={self.feed_stale_after_s} must be positive")
        if self.lag_threshold_records < 0:
            raise ConfigError(f"lag_threshold_records={self.lag_threshold_records} must be 0 or more (API_LAG_THRESHOLD)")
        if not self.health_cache_s >= 0:
            raise ConfigError(f"health_cache_s={self.health_cache_s} must be 0 or more (API_HEALTH_CACHE_S)")
        if self.max_body_bytes < 1024:
            raise ConfigError(f"max_body_bytes={self.max_body_bytes} must be at least 1024 (API_MAX_BODY_BYTES)")
        if not 1 <= self.validation_workers <= 32:
            raise ConfigError(f"validation_workers={self.validation_workers} must be 1-32 (API_VALIDATION_WORKERS)")
        if not self.validation_timeout_s > 0:
            raise ConfigError(f"validation_timeout_s={self.validation_timeout_s} must be positive "
                              "(API_VALIDATION_TIMEOUT_S)")
        if not 1 <= self.workers <= 64:
            raise ConfigError(f"workers={self.workers} must be 1-64 (API_WORKERS)")
        if not 0 < self.session_hours <= 24 * 30:
            raise ConfigError(f"session_hours={self.session_hours} must be above 0 and at most 720 (API_SESSION_HOURS)")
        if self.login_failures_per_user < 1:
            raise ConfigError(f"login_failures_per_user={self.login_failures_per_user} must be at least 1 "
                              "(API_LOGIN_FAILURES_PER_USER)")
        if self.login_failures_per_client < 1:
            raise ConfigError(f"login_failures_per_client={self.login_failures_per_client} must be at least 1 "
                              "(API_LOGIN_FAILURES_PER_CLIENT)")
        if not 1 <= self.login_window_s <= 86_400:
            raise ConfigError(f"login_window_s={self.login_window_s} must be 1-86400 (API_LOGIN_WINDOW_S)")

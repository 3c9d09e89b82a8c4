"""Health of every component the platform needs, checked for real (a request to each service)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from tradestream.config import Settings

# A feed reports a heartbeat every few seconds; older than this, it is considered down.
FEED_STALE_AFTER_S = 15.0


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    name: str
    status: str  # "up" | "down"
    detail: str
    latency_ms: float

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "detail": self.detail, "latency_ms": round(self.latency_ms, 1)}


def _timed(name: str, check) -> ComponentHealth:  # noqa: ANN001
    started = time.perf_counter()
    status, detail = check()
    return ComponentHealth(name, status, detail, (time.perf_counter() - started) * 1000)


def check_kafka(settings: Settings) -> ComponentHealth:
    def check() -> tuple[str, str]:
        admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "socket.timeout.ms": 2000,
                             "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=2)
        except KafkaException as exc:
            return "down", f"{settings.kafka_bootstrap}: {exc.args[0].str()}"
        return "up", f"{settings.kafka_bootstrap}: {len(metadata.brokers)} broker(s), {len(metadata.topics)} topics"
    return _timed("kafka", check)


def check_registry(settings: Settings) -> ComponentHealth:
    def check() -> tuple[str, str]:
        try:
            response = httpx.get(f"{settings.schema_registry_url}/subjects", timeout=2)
        except httpx.HTTPError as exc:
            return "down", f"{settings.schema_registry_url}: {type(exc).__name__}"
        if response.status_code != 200:
            return "down", f"{settings.schema_registry_url}: HTTP {response.status_code}"
        return "up", f"{settings.schema_registry_url}: {len(response.json())} subjects"
    return _timed("schema_registry", check)


def check_postgres(settings: Settings) -> ComponentHealth:
    def check() -> tuple[str, str]:
        try:
            with psycopg.connect(settings.database_url, connect_timeout=2) as conn:
                version = conn.execute("show server_version").fetchone()[0]
                timescale = conn.execute(
                    "select extversion from pg_extension where extname = 'timescaledb'").fetchone()
        except psycopg.Error as exc:
            return "down", f"{settings.redacted_database_url()}: {type(exc).__name__}"
        path = f"TimescaleDB {timescale[0]}" if timescale else "plain PostgreSQL"
        return "up", f"PostgreSQL {version.split()[0]} ({path})"
    return _timed("postgres", check)


def check_s3(settings: Settings) -> ComponentHealth:
    def check() -> tuple[str, str]:
        from connectors.s3archive.bucket import s3_client

        try:
            lock = s3_client(settings).get_object_lock_configuration(Bucket=settings.s3_bucket)
        except (ClientError, BotoCoreError) as exc:
            return "down", f"{settings.s3_endpoint_url or 'AWS'} bucket {settings.s3_bucket}: {type(exc).__name__}"
        mode = lock["ObjectLockConfiguration"].get("Rule", {}).get("DefaultRetention", {}).get("Mode", "none")
        return "up", f"bucket {settings.s3_bucket}, Object Lock {mode}"
    return _timed("s3", check)


def check_worker(settings: Settings, group_id: str) -> ComponentHealth:
    def check() -> tuple[str, str]:
        admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 0})
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


def feed_health(last_status: dict[str, object] | None, now_s: float) -> ComponentHealth:
    """Judge the feed from the last FeedStatusChanged event the API consumed."""
    if last_status is None:
        return ComponentHealth("feed", "down", "no feed status received yet", 0.0)
    age_s = now_s - int(last_status["ts_init"]) / 1e9
    detail = (f"{last_status['feed']}: {last_status['event']}, "
              f"{float(last_status['messages_per_second']):.0f} msg/s, last report {age_s:.1f} s ago")
    if last_status.get("detail"):
        detail += f" ({last_status['detail']})"
    up = bool(last_status["connected"]) and age_s <= FEED_STALE_AFTER_S
    return ComponentHealth("feed", "up" if up else "down", detail, 0.0)

"""Typed settings read from environment variables (and an optional `.env` file).

Every component reads its configuration through `Settings.from_env()`. A missing or wrong value
raises `ConfigError` naming the variable, so start-up stops with a message the operator can act on.
Secrets (database password, broker credentials) come only from the environment or from files the
local stack generates under the git-ignored data folder; they are never logged.

| variable                  | default                          | meaning                                   |
|---------------------------|----------------------------------|-------------------------------------------|
| TRADESTREAM_HOME          | ./.tradestream                   | data, logs and pid files of the stack     |
| TRADESTREAM_CACHE         | ~/.cache/tradestream             | downloaded Kafka jars (outside the repo)  |
| TRADESTREAM_TOOLS         | ./.tradestream/tools             | tools the stack builds (versitygw)        |
| KAFKA_VERSION             | 4.1.1                            | Apache Kafka release fetched from Maven   |
| KAFKA_PORT                | 9092                             | broker listener                           |
| KAFKA_CONTROLLER_PORT     | 9093                             | KRaft controller listener                 |
| KAFKA_BOOTSTRAP           | 127.0.0.1:$KAFKA_PORT            | bootstrap servers for clients             |
| KAFKA_PARTITIONS          | 6                                | partitions of the keyed event topics      |
| SCHEMA_REGISTRY_PORT      | 8081                             | schema registry listener                  |
| SCHEMA_REGISTRY_URL       | http://127.0.0.1:$PORT           | schema registry for clients               |
| POSTGRES_PORT             | 5433                             | PostgreSQL listener                       |
| POSTGRES_USER             | tradestream                      | database role                             |
| POSTGRES_DB               | tradestream                      | database name                             |
| POSTGRES_PASSWORD         | generated into $HOME/secrets     | database password                         |
| DATABASE_URL              | built from the four above        | libpq connection string                   |
| S3_PORT                   | 9000                             | S3 server listener (local stack)          |
| S3_ENDPOINT_URL           | http://127.0.0.1:$S3_PORT        | S3 endpoint; empty string means AWS       |
| S3_BUCKET                 | tradestream-archive              | compliance archive bucket                 |
| S3_REGION                 | us-east-1                        | bucket region                             |
| S3_RETENTION_DAYS         | 2555                             | Object Lock retention (17a-4: 6-7 years)  |
| ARCHIVE_SIGNING_KEY       | (required by `archive`)          | ed25519 key signing daily roots (secret)  |
| ARCHIVE_VERIFY_KEY        | derived from the signing key     | its public key, for `audit verify`        |
| ARCHIVE_KEY_PREFIX        |                                  | folder of the archive in the bucket (a/)  |
| ARCHIVE_TOPICS            | every business topic             | catalogue names of the archived topics    |
| ARCHIVE_SLICE_S           | 3600                             | time slice of one archive object          |
| ARCHIVE_MAX_RECORDS       | 100000                           | most records in one archive object        |
| ARCHIVE_INTERVAL_S        | 600                              | pause between `archive run` passes        |
| ARCHIVE_TRADE_RECORD_YEARS| 6                                | lock of executions and trades (ledgers)   |
| ARCHIVE_ORDER_YEARS       | 3                                | lock of intents, risk decisions, orders   |
| ARCHIVE_OTHER_YEARS       | 3                                | lock of every other archived record       |
| API_HOST                  | 127.0.0.1                        | API bind address                          |
| API_PORT                  | 8000                             | API listener                              |
| API_WORKERS               | 1                                | uvicorn worker processes of the API       |
| API_DB_POOL_MIN_SIZE      | 1                                | API's idle PostgreSQL connections         |
| API_DB_POOL_MAX_SIZE      | 10                               | API's most PostgreSQL connections         |
| API_DB_WAIT_S             | 5                                | API's wait for a connection, then 503     |
| API_MAX_BODY_BYTES        | 262144                           | largest API request body, then 413        |
| API_VALIDATION_WORKERS    | 1                                | processes validating scanners             |
| API_VALIDATION_TIMEOUT_S  | 5                                | wait for and run of one validation        |
| API_HEALTH_CACHE_S        | 1                                | seconds one round of health checks serves |
| API_LAG_THRESHOLD         | 10000                            | records behind: worker/sink "lagging"     |
| SIM_SYMBOLS               | SPY,QQQ,AAPL,MSFT                | symbols of the simulated feed             |
| SIM_SPEED                 | 60                               | simulated seconds per wall-clock second   |
| SIM_SEED                  | 7                                | seed of the simulated feed                |
| TOPIC_PREFIX              | ts.                              | namespace of every topic name             |
| LOG_FORMAT                | text                             | text, or json (one object per line)       |
| KAFKA_SECURITY_PROTOCOL   | PLAINTEXT                        | PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL  |
| KAFKA_SASL_MECHANISM      | SCRAM-SHA-512                    | SCRAM-SHA-256/-512 or PLAIN               |
| KAFKA_SASL_USERNAME       |                                  | SASL user of every client                 |
| KAFKA_SASL_PASSWORD       |                                  | its password (secret, never logged)       |
| KAFKA_SSL_CA_LOCATION     | the system's CAs                 | CA of the broker's certificate            |
| KAFKA_SSL_CERTIFICATE_LOCATION |                             | client certificate (mutual TLS)           |
| KAFKA_SSL_KEY_LOCATION    |                                  | client key (mutual TLS)                   |
| SCHEMA_REGISTRY_USER_INFO |                                  | user:password for the registry (secret)   |
| BAR_TIMEFRAMES            | 5m,15m,30m,60m                   | timeframes the worker's bars stage closes |
| BAR_LATENESS_MS           | 2000                             | event-time lateness a bar still accepts   |
| BAR_SESSIONS              | regular                          | regular, extended or all                  |
| BAR_INPUT                 | trades                           | trades, batches or both                   |
| EVENT_TIME_MAX_AHEAD_MS   | 60000                            | a print dated later after its arrival is dead-lettered |
| EVENT_TIME_MAX_BEHIND_MS  | 0 (no limit)                     | a print dated earlier before its arrival is dead-lettered |
| WORKER_FETCH_MAX_WAIT_MS  | 20                               | worker fetch wait (1-60000)               |
| WORKER_FETCH_MIN_BYTES    | 16384                            | bytes a worker fetch waits for            |
| FEED_BATCH_TICKS          | 0                                | prints per TradeTickBatch (0: per print)  |
| FEED_BATCH_MS             | 20                               | a feed batch's longest wait               |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from connectors.base import FeedBatching
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings
from processors.event_time import EventTimeBounds
from streams.settings import BarsStageSettings, SinkSettings, WorkerSettings
from schemas.errors import ConfigError
from tradestream import environment as read

if TYPE_CHECKING:  # the archive's sections import Kafka, Avro and crypto libraries: only when asked for
    from connectors.s3archive.archiver import ArchiverSettings
    from connectors.s3archive.verifier import VerifierSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    home: Path
    cache: Path
    kafka_version: str
    kafka_port: int
    kafka_controller_port: int
    kafka_bootstrap: str
    kafka_partitions: int
    schema_registry_port: int
    schema_registry_url: str
    postgres_port: int
    postgres_user: str
    postgres_db: str
    database_url: str
    s3_port: int
    s3_endpoint_url: str
    s3_bucket: str
    s3_region: str
    s3_retention_days: int
    api_host: str
    api_port: int
    sim_symbols: tuple[str, ...]
    sim_speed: float
    sim_seed: int
    topic_prefix: str = "ts."
    log_format: str = "text"
    environ: Mapping[str, str] | None = None
    """The variables these settings were read from, for the component sections built on demand."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `environ` (default: the process environment plus `.env`)."""
        env = dict(read.load_dotenv_file(PROJECT_ROOT / ".env")) if environ is None else {}
        env.update(os.environ if environ is None else environ)
        home = Path(env.get("TRADESTREAM_HOME", "").strip() or PROJECT_ROOT / ".tradestream").resolve()
        cache = Path(
            env.get("TRADESTREAM_CACHE", "").strip() or Path.home() / ".cache" / "tradestream"
        ).resolve()
        ports = read.ports(env)
        postgres_user, postgres_db = read.identifier(env, "POSTGRES_USER"), read.identifier(env, "POSTGRES_DB")
        return cls(
            home=home,
            cache=cache,
            kafka_version=read.kafka_version(env),
            kafka_port=ports["KAFKA_PORT"],
            kafka_controller_port=ports["KAFKA_CONTROLLER_PORT"],
            kafka_bootstrap=read.bootstrap(env, "KAFKA_BOOTSTRAP", f"127.0.0.1:{ports['KAFKA_PORT']}"),
            kafka_partitions=read.positive_int(env, "KAFKA_PARTITIONS", 6),
            schema_registry_port=ports["SCHEMA_REGISTRY_PORT"],
            schema_registry_url=read.url(
                env, "SCHEMA_REGISTRY_URL", f"http://127.0.0.1:{ports['SCHEMA_REGISTRY_PORT']}", ("http", "https")
            ),
            postgres_port=ports["POSTGRES_PORT"],
            postgres_user=postgres_user,
            postgres_db=postgres_db,
            database_url=read.database_url(env, home, postgres_user, postgres_db, ports["POSTGRES_PORT"]),
            s3_port=ports["S3_PORT"],
            s3_endpoint_url=read.url(env, "S3_ENDPOINT_URL", f"http://127.0.0.1:{ports['S3_PORT']}", ("http", "https")),
            s3_bucket=read.bucket(env),
            s3_region=env.get("S3_REGION", "").strip() or "us-east-1",
            s3_retention_days=read.positive_int(env, "S3_RETENTION_DAYS", 2555),
            api_host=env.get("API_HOST", "").strip() or "127.0.0.1",
            api_port=ports["API_PORT"],
            sim_symbols=read.symbols(env, "SIM_SYMBOLS", "SPY,QQQ,AAPL,MSFT"),
            sim_speed=read.positive_float(env, "SIM_SPEED", 60.0),
            sim_seed=read.integer(env, "SIM_SEED", 7),
            topic_prefix=read.topic_prefix(env),
            log_format=read.log_format(env),
            environ=env,
        )

    # -- the sections handed to components ---------------------------------------------------------
    def kafka(self, topic_prefix: str | None = None) -> KafkaSettings:
        """The Kafka section; `topic_prefix` overrides TOPIC_PREFIX (tests and benchmarks on their own topics)."""
        return KafkaSettings(
            bootstrap=self.kafka_bootstrap, registry_url=self.schema_registry_url, partitions=self.kafka_partitions,
            topic_prefix=self.topic_prefix if topic_prefix is None else topic_prefix,
            security_protocol=self.env("KAFKA_SECURITY_PROTOCOL").strip().upper() or "PLAINTEXT",
            sasl_mechanism=self.env("KAFKA_SASL_MECHANISM").strip().upper() or "SCRAM-SHA-512",
            sasl_username=self.env("KAFKA_SASL_USERNAME").strip(), sasl_password=self.env("KAFKA_SASL_PASSWORD"),
            ssl_ca_location=self.env("KAFKA_SSL_CA_LOCATION").strip(),
            ssl_certificate_location=self.env("KAFKA_SSL_CERTIFICATE_LOCATION").strip(),
            ssl_key_location=self.env("KAFKA_SSL_KEY_LOCATION").strip(),
            registry_user_info=self.env("SCHEMA_REGISTRY_USER_INFO"),
        )

    def archive(self) -> ArchiveSettings:
        return ArchiveSettings(endpoint_url=self.s3_endpoint_url, bucket=self.s3_bucket, region=self.s3_region,
                               retention_days=self.s3_retention_days)

    def archiver(self) -> ArchiverSettings:
        """The archiver's section; ARCHIVE_SIGNING_KEY is required (ConfigError naming it)."""
        from connectors.s3archive.archiver import ArchiverSettings
        from processors.archive.retention import ArchiveRetention

        key = self.env("ARCHIVE_SIGNING_KEY").strip()
        if not key:
            raise ConfigError("ARCHIVE_SIGNING_KEY is not set: the archiver signs each day's root with it; "
                              "generate one with `tradestream archive keygen`")
        env = self.environ or {}
        try:
            retention = ArchiveRetention(trade_record_years=read.positive_int(env, "ARCHIVE_TRADE_RECORD_YEARS", 6),
                                         order_years=read.positive_int(env, "ARCHIVE_ORDER_YEARS", 3),
                                         other_years=read.positive_int(env, "ARCHIVE_OTHER_YEARS", 3))
        except ValueError as exc:
            raise ConfigError(f"ARCHIVE_*_YEARS: {exc}") from None
        return ArchiverSettings(
            kafka=self.kafka(), archive=self.archive(), signing_key=key, key_prefix=self.env("ARCHIVE_KEY_PREFIX").strip(),
            topics=self._archive_topics(), slice_s=read.positive_int(env, "ARCHIVE_SLICE_S", 3600),
            max_records=read.positive_int(env, "ARCHIVE_MAX_RECORDS", 100_000), retention=retention,
            interval_s=read.positive_float(env, "ARCHIVE_INTERVAL_S", 600.0))

    def archive_verifier(self) -> VerifierSettings:
        """`audit verify`'s section: ARCHIVE_VERIFY_KEY, or the public half of ARCHIVE_SIGNING_KEY."""
        from connectors.s3archive.verifier import VerifierSettings
        from processors.archive.root import public_key_text, signing_key

        public = self.env("ARCHIVE_VERIFY_KEY").strip()
        if not public:
            private = self.env("ARCHIVE_SIGNING_KEY").strip()
            if not private:
                raise ConfigError("ARCHIVE_VERIFY_KEY is not set (nor ARCHIVE_SIGNING_KEY): the daily roots are "
                                  "checked with the archive's public key")
            try:
                public = public_key_text(signing_key(private))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        return VerifierSettings(kafka=self.kafka(), archive=self.archive(), verify_key=public,
                                key_prefix=self.env("ARCHIVE_KEY_PREFIX").strip(), topics=self._archive_topics())

    def _archive_topics(self) -> tuple[str, ...]:
        from processors.archive.retention import TOPIC_CLASSES

        raw = self.env("ARCHIVE_TOPICS").strip()
        topics = tuple(t.strip() for t in raw.split(",") if t.strip()) if raw else tuple(TOPIC_CLASSES)
        unknown = [t for t in topics if t not in TOPIC_CLASSES]
        if unknown:
            raise ConfigError(f"ARCHIVE_TOPICS names {', '.join(unknown)}, not business topics; choose from "
                              f"{', '.join(TOPIC_CLASSES)}")
        return topics

    def bars_stage(self) -> BarsStageSettings:
        raw_timeframes = self.env("BAR_TIMEFRAMES").strip() or "5m,15m,30m,60m"
        return BarsStageSettings(
            timeframes=tuple(t.strip() for t in raw_timeframes.split(",") if t.strip()),
            lateness_ms=read.non_negative_int(self.env("BAR_LATENESS_MS"), "BAR_LATENESS_MS", 2000, "milliseconds"),
            sessions=self.env("BAR_SESSIONS").strip() or "regular",
            input=self.env("BAR_INPUT").strip() or "trades",
        )

    def event_time(self) -> EventTimeBounds:
        return EventTimeBounds(
            max_ahead_ms=read.non_negative_int(self.env("EVENT_TIME_MAX_AHEAD_MS"), "EVENT_TIME_MAX_AHEAD_MS", 60_000,
                                           "milliseconds"),
            max_behind_ms=read.non_negative_int(self.env("EVENT_TIME_MAX_BEHIND_MS"), "EVENT_TIME_MAX_BEHIND_MS", 0,
                                            "milliseconds, 0: no limit"),
        )

    def worker(self) -> WorkerSettings:
        return WorkerSettings(
            kafka=self.kafka(), data_dir=self.home / "faust", bars=self.bars_stage(), event_time=self.event_time(),
            fetch_max_wait_ms=read.non_negative_int(self.env("WORKER_FETCH_MAX_WAIT_MS"), "WORKER_FETCH_MAX_WAIT_MS",
                                                20, "milliseconds, 1-60000"),
            fetch_min_bytes=read.non_negative_int(self.env("WORKER_FETCH_MIN_BYTES"), "WORKER_FETCH_MIN_BYTES",
                                              16_384, "bytes, 1-52428800"),
        )

    def sink(self) -> SinkSettings:
        return SinkSettings(kafka=self.kafka(), database_url=self.database_url)

    def feed_batching(self) -> FeedBatching:
        return FeedBatching(
            max_ticks=read.non_negative_int(self.env("FEED_BATCH_TICKS"), "FEED_BATCH_TICKS", 0,
                                        "prints (0: one record per print)"),
            max_wait_ms=read.non_negative_int(self.env("FEED_BATCH_MS"), "FEED_BATCH_MS", 20, "milliseconds"),
        )

    def env(self, name: str, default: str = "") -> str:
        """One raw variable of the environment these settings were read from (for section builders)."""
        return (self.environ or {}).get(name, default)

    def redacted_database_url(self) -> str:
        """DATABASE_URL with the password replaced, for logs and health output."""
        parts = urlsplit(self.database_url)
        if parts.password is None:
            return self.database_url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        return parts._replace(netloc=netloc).geturl()

"""The API's settings section: built by the CLI from the environment; a bad value names its variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import ApiSettings
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings
from schemas.errors import ConfigError
from tradestream.commands.api import api_settings
from tradestream.config import Settings


def environment(tmp_path: Path, **extra: str) -> Settings:
    return Settings.from_env({"TRADESTREAM_HOME": str(tmp_path), "API_PORT": "8123",
                              "DATABASE_URL": "postgresql://trader:s3cret@db.example:5432/tradestream",
                              "KAFKA_BOOTSTRAP": "broker:9092", "S3_BUCKET": "archive-bucket", **extra})


def test_api_settings_from_the_environment(tmp_path: Path) -> None:
    settings = api_settings(environment(tmp_path, API_DB_POOL_MIN_SIZE="2", API_DB_POOL_MAX_SIZE="4",
                                        API_DB_WAIT_S="1.5"))
    assert settings.kafka.bootstrap == "broker:9092" and settings.archive.bucket == "archive-bucket"
    assert settings.port == 8123
    assert (settings.pool_min_size, settings.pool_max_size, settings.database_wait_s) == (2, 4, 1.5)
    assert "s3cret" in settings.database_url and "s3cret" not in settings.database_url_redacted
    defaults = api_settings(environment(tmp_path))
    assert (defaults.pool_min_size, defaults.pool_max_size, defaults.database_wait_s) == (1, 10, 5.0)
    assert defaults.worker_group == "tradestream-worker" and defaults.sink_group == "tradestream-sink"
    assert (defaults.workers, defaults.max_body_bytes, defaults.validation_workers, defaults.validation_timeout_s,
            defaults.health_cache_s, defaults.lag_threshold_records) == (1, 262_144, 1, 5.0, 1.0, 10_000)


def test_limits_and_workers_from_the_environment(tmp_path: Path) -> None:
    settings = api_settings(environment(tmp_path, API_WORKERS="2", API_MAX_BODY_BYTES="65536",
                                        API_VALIDATION_WORKERS="2", API_VALIDATION_TIMEOUT_S="2.5",
                                        API_HEALTH_CACHE_S="0", API_LAG_THRESHOLD="500"))
    assert (settings.workers, settings.max_body_bytes, settings.validation_workers, settings.validation_timeout_s,
            settings.health_cache_s, settings.lag_threshold_records) == (2, 65_536, 2, 2.5, 0.0, 500)


def test_sessions_and_log_in_limits_from_the_environment(tmp_path: Path) -> None:
    defaults = api_settings(environment(tmp_path))
    assert (defaults.session_hours, defaults.login_failures_per_user, defaults.login_failures_per_client,
            defaults.login_window_s) == (12.0, 5, 20, 300.0)
    settings = api_settings(environment(tmp_path, API_SESSION_HOURS="8", API_LOGIN_FAILURES_PER_USER="3",
                                        API_LOGIN_FAILURES_PER_CLIENT="50", API_LOGIN_WINDOW_S="60"))
    assert (settings.session_hours, settings.login_failures_per_user, settings.login_failures_per_client,
            settings.login_window_s) == (8.0, 3, 50, 60.0)
    with pytest.raises(ConfigError, match="API_SESSION_HOURS='a day' is not a number of hours"):
        api_settings(environment(tmp_path, API_SESSION_HOURS="a day"))


def test_health_checks_the_groups_of_the_topic_prefix(tmp_path: Path) -> None:
    settings = api_settings(environment(tmp_path, TOPIC_PREFIX="paper."))
    assert settings.worker_group == "tradestream-worker-paper" and settings.sink_group == "tradestream-sink-paper"
    assert settings.kafka.topic("feed.status") == "paper.feed.status"


@pytest.mark.parametrize(("variable", "value"), [("API_DB_POOL_MAX_SIZE", "many"), ("API_DB_WAIT_S", "soon"),
                                                 ("API_DB_POOL_MAX_SIZE", "0"), ("API_DB_WAIT_S", "-1"),
                                                 ("API_DB_POOL_MIN_SIZE", "11"), ("API_WORKERS", "0"),
                                                 ("API_MAX_BODY_BYTES", "big"), ("API_MAX_BODY_BYTES", "10"),
                                                 ("API_VALIDATION_WORKERS", "0"), ("API_VALIDATION_TIMEOUT_S", "0"),
                                                 ("API_HEALTH_CACHE_S", "-1"), ("API_LAG_THRESHOLD", "-5"),
                                                 ("API_SESSION_HOURS", "0"), ("API_SESSION_HOURS", "721"),
                                                 ("API_LOGIN_FAILURES_PER_USER", "0"),
                                                 ("API_LOGIN_FAILURES_PER_CLIENT", "none"),
                                                 ("API_LOGIN_WINDOW_S", "0.5")])
def test_a_bad_variable_stops_start_up_naming_it(tmp_path: Path, variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        api_settings(environment(tmp_path, **{variable: value}))


def test_settings_are_frozen() -> None:
    settings = ApiSettings(kafka=KafkaSettings(bootstrap="b:1", registry_url="http://r:1"),
                           archive=ArchiveSettings(endpoint_url="", bucket="bucket"),
                           database_url="postgresql://x@h/d", database_url_redacted="postgresql://x@h/d")
    with pytest.raises(AttributeError):
        settings.port = 1  # type: ignore[misc]

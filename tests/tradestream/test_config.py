from __future__ import annotations

from pathlib import Path

import pytest

from tradestream.config import Settings
from schemas.errors import ConfigError


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"TRADESTREAM_HOME": str(tmp_path), **env})


def test_defaults_are_the_documented_ports(tmp_path: Path) -> None:
    s = settings(tmp_path)
    assert (s.kafka_port, s.schema_registry_port, s.postgres_port, s.s3_port, s.api_port) == (
        9092, 8081, 5433, 9000, 8000)
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert s.schema_registry_url == "http://127.0.0.1:8081"
    assert s.database_url.endswith("@127.0.0.1:5433/tradestream")


def test_ports_follow_their_variables(tmp_path: Path) -> None:
    s = settings(tmp_path, KAFKA_PORT="19092", SCHEMA_REGISTRY_PORT="18081", POSTGRES_PORT="15433")
    assert s.kafka_bootstrap == "127.0.0.1:19092"
    assert s.schema_registry_url == "http://127.0.0.1:18081"
    assert ":15433/" in s.database_url


@pytest.mark.parametrize(("env", "named"), [
    ({"KAFKA_PORT": "abc"}, "KAFKA_PORT"),
    ({"API_PORT": "70000"}, "API_PORT"),
    ({"POSTGRES_PORT": "9092"}, "POSTGRES_PORT"),
    ({"SCHEMA_REGISTRY_URL": "localhost:8081"}, "SCHEMA_REGISTRY_URL"),
    ({"KAFKA_BOOTSTRAP": "localhost"}, "KAFKA_BOOTSTRAP"),
    ({"DATABASE_URL": "mysql://x@y/z"}, "DATABASE_URL"),
    ({"S3_BUCKET": "Bad_Bucket"}, "S3_BUCKET"),
    ({"SIM_SPEED": "-1"}, "SIM_SPEED"),
    ({"SIM_SEED": "x"}, "SIM_SEED"),
    ({"SIM_SYMBOLS": " , "}, "SIM_SYMBOLS"),
    ({"KAFKA_VERSION": "latest"}, "KAFKA_VERSION"),
    ({"KAFKA_PARTITIONS": "0"}, "KAFKA_PARTITIONS"),
])
def test_a_wrong_value_names_the_variable(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        settings(tmp_path, **env)


def test_generated_password_is_private_and_stable(tmp_path: Path) -> None:
    first = settings(tmp_path)
    second = settings(tmp_path)
    assert first.database_url == second.database_url
    secret = tmp_path / "secrets" / "postgres_password"
    assert secret.stat().st_mode & 0o077 == 0
    assert secret.read_text() not in first.redacted_database_url()
    assert "***" in first.redacted_database_url()


def test_explicit_password_is_used_and_redacted(tmp_path: Path) -> None:
    s = settings(tmp_path, POSTGRES_PASSWORD="p@ss:word/1")
    assert "p%40ss%3Aword%2F1" in s.database_url
    assert "p%40ss" not in s.redacted_database_url()


def test_cli_reports_a_config_error_naming_the_variable(tmp_path: Path, monkeypatch, capsys) -> None:
    from tradestream.cli import main

    monkeypatch.setenv("TRADESTREAM_HOME", str(tmp_path))
    monkeypatch.setenv("KAFKA_PORT", "nope")
    assert main(["topics", "list"]) == 2
    assert "KAFKA_PORT" in capsys.readouterr().err

"""docker-compose.yml cannot run here (no Docker engine): check that it declares every service the
app needs, with the same variable names, ports and defaults as the code, and no literal secrets."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tradestream.cli import build_parser
from tradestream.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
PROJECT_SERVICES = ("migrate", "feed", "worker", "sink", "api")


def documented_variables() -> set[str]:
    """Variables in the table of tradestream/config.py plus those other modules read."""
    import tradestream.config

    names = set(re.findall(r"^\| ([A-Z][A-Z0-9_]+) ", tradestream.config.__doc__, re.M))
    for path in ROOT.glob("[a-z]*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        names |= set(re.findall(r'os\.environ\.get\("([A-Z][A-Z0-9_]+)"', path.read_text()))
    return names | {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}  # read by boto3


def subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices)


def test_every_service_is_declared() -> None:
    assert {"kafka", "schema-registry", "timescaledb", "minio", *PROJECT_SERVICES} <= set(SERVICES)
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name


def test_project_services_use_known_variables_and_real_commands() -> None:
    known = documented_variables()
    commands = subcommands()
    for name in PROJECT_SERVICES:
        service = SERVICES[name]
        env = service["environment"]
        assert set(env) <= known, (name, set(env) - known)
        assert {"KAFKA_BOOTSTRAP", "SCHEMA_REGISTRY_URL", "DATABASE_URL", "S3_ENDPOINT_URL", "S3_BUCKET"} <= set(env)
        assert service["command"][0] in commands, (name, service["command"])
        assert service.get("build") == "." and service.get("image") == "tradestream:local"


def test_compose_environment_parses_as_valid_settings(tmp_path: Path) -> None:
    env = {k: re.sub(r"\$\{[A-Z0-9_]+:?[-?]([^}]*)\}", r"\1", str(v))
           for k, v in SERVICES["worker"]["environment"].items()}
    env["DATABASE_URL"] = "postgresql://u:p@timescaledb:5432/tradestream"
    env["TRADESTREAM_HOME"] = str(tmp_path)
    settings = Settings.from_env(env)
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.schema_registry_url == "http://schema-registry:8081"


def test_published_ports_use_the_same_variables_and_defaults() -> None:
    defaults = Settings.from_env({"TRADESTREAM_HOME": "/tmp/compose-test"})
    expected = {"kafka": ("KAFKA_PORT", defaults.kafka_port),
                "schema-registry": ("SCHEMA_REGISTRY_PORT", defaults.schema_registry_port),
                "timescaledb": ("POSTGRES_PORT", defaults.postgres_port),
                "minio": ("S3_PORT", defaults.s3_port),
                "api": ("API_PORT", defaults.api_port)}
    for service, (variable, port) in expected.items():
        published = SERVICES[service]["ports"][0]
        match = re.fullmatch(r"127\.0\.0\.1:(\$\{[^}]+\}):(\d+)", published)
        assert match, (service, published)
        assert match.group(1) == f"${{{variable}:-{port}}}", (service, published)


def test_no_literal_secrets() -> None:
    def walk(node: object, path: str = "") -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if re.search(r"PASSWORD|SECRET", str(key)) and isinstance(value, str):
                    assert value.startswith("${") or "${" in value, f"{path}.{key} holds a literal secret"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
    walk(COMPOSE)
    assert "${POSTGRES_PASSWORD:?" in (ROOT / "docker-compose.yml").read_text()

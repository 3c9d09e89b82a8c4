"""docker-compose.yml cannot run here (no Docker engine): check that it declares every service the
app needs, with the same variable names, ports and defaults as the code, no literal secrets, images
pinned to exact releases, an S3 server able to hold Object Lock buckets, and healthchecks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tradestream.cli import build_parser
from tradestream.config import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
PROJECT_SERVICES = ("migrate", "feed", "worker", "sink", "api")
INFRASTRUCTURE = ("kafka", "schema-registry", "timescaledb", "s3")
# An exact release: 4.1.1, v1.8.0, 2.29.2-pg16, 3.11.16-slim-trixie (a variant after the full version is
# fine); or a digest. Not `latest`, `latest-pg16`, `7`, `7.9`, `3.11-slim`.
EXACT_TAG = re.compile(r"v?\d+\.\d+\.\d+(-[A-Za-z0-9][A-Za-z0-9.-]*)?")


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
    assert {*INFRASTRUCTURE, *PROJECT_SERVICES} <= set(SERVICES)
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
                "s3": ("S3_PORT", defaults.s3_port),
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
                if re.search(r"PASSWORD|SECRET|ACCESS_KEY", str(key)) and isinstance(value, str):
                    assert value.startswith("${") or "${" in value, f"{path}.{key} holds a literal secret"
                walk(value, f"{path}.{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, path)
    walk(COMPOSE)
    for variable in ("POSTGRES_PASSWORD", "S3_ROOT_ACCESS_KEY", "S3_ROOT_SECRET_KEY"):
        assert f"${{{variable}:?" in COMPOSE_TEXT, f"{variable} must be required, without a default"


def image_tag(image: str) -> str | None:
    """The tag of `name[:tag][@digest]` (a registry's host:port is not a tag); None when there is none."""
    if "@sha256:" in image:
        return "@" + image.split("@", 1)[1]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else None


@pytest.mark.parametrize(("image", "pinned"), [
    ("apache/kafka:4.1.1", True), ("versity/versitygw:v1.8.0", True), ("timescale/timescaledb:2.29.2-pg16", True),
    ("python:3.11.16-slim-trixie", True), ("localhost:5000/x@sha256:" + "a" * 64, True),
    ("minio/minio", False), ("minio/minio:latest", False), ("timescale/timescaledb:latest-pg16", False),
    ("python:3.11-slim", False), ("confluentinc/cp-schema-registry:7", False), ("x:7.9", False),
    ("localhost:5000/x", False),
])
def test_the_pin_rule(image: str, pinned: bool) -> None:
    tag = image_tag(image)
    assert (tag is not None and (tag.startswith("@sha256:") or bool(EXACT_TAG.fullmatch(tag)))) is pinned


def third_party_images() -> dict[str, str]:
    """Every image compose pulls (the project's own is built from the Dockerfile), and the Dockerfile's bases."""
    images = {name: s["image"] for name, s in SERVICES.items() if "image" in s and "build" not in s}
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.upper().startswith("FROM "):
            images[f"Dockerfile {line}"] = line.split()[1]
    return images


def test_every_image_is_pinned_to_an_exact_release() -> None:
    images = third_party_images()
    assert set(INFRASTRUCTURE) <= set(images) and any(k.startswith("Dockerfile") for k in images)
    for where, image in images.items():
        tag = image_tag(image)
        assert tag is not None, f"{where}: {image} has no tag (it means latest)"
        assert "latest" not in tag, f"{where}: {image}"
        assert tag.startswith("@sha256:") or EXACT_TAG.fullmatch(tag), f"{where}: {image} is not an exact release"
    for name in PROJECT_SERVICES:
        assert SERVICES[name]["image"] == "tradestream:local" and SERVICES[name]["build"] == "."


def test_no_minio() -> None:
    assert not any("minio" in name.lower() for name in SERVICES)
    assert not any("minio" in image.lower() for image in third_party_images().values())
    assert "MINIO" not in COMPOSE_TEXT.upper()


def test_the_s3_server_keeps_object_lock() -> None:
    """versitygw's posix backend enables versioning (which S3 Object Lock requires) only with a versioning
    directory outside its bucket root; the archive bucket is then created with Object Lock by `setup`."""
    s3 = SERVICES["s3"]
    assert image_tag(s3["image"]) and s3["image"].startswith("versity/versitygw:")
    command = s3["command"]
    backend = command.index("posix")
    versions = command[command.index("--versioning-dir") + 1]
    buckets = command[-1]
    assert command.index("--versioning-dir") > backend, "--versioning-dir is an option of the posix backend"
    assert not versions.startswith(buckets.rstrip("/") + "/") and versions != buckets
    mounts = {volume.split(":")[1] for volume in s3["volumes"]}
    assert {versions, buckets} <= mounts, "bucket data and versions must be on volumes"
    assert s3["environment"]["ROOT_ACCESS_KEY"].startswith("${S3_ROOT_ACCESS_KEY:?")
    assert s3["environment"]["ROOT_SECRET_KEY"].startswith("${S3_ROOT_SECRET_KEY:?")
    env = COMPOSE["x-tradestream-env"]
    assert env["S3_ENDPOINT_URL"] == "http://s3:9000"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        s3["environment"]["ROOT_ACCESS_KEY"], s3["environment"]["ROOT_SECRET_KEY"])
    assert s3["environment"]["VGW_REGION"] == env["S3_REGION"]
    migrate = SERVICES["migrate"]
    assert migrate["command"] == ["setup"] and migrate["depends_on"]["s3"] == {"condition": "service_healthy"}


def test_healthchecks() -> None:
    for name in (*INFRASTRUCTURE, "api"):
        check = SERVICES[name].get("healthcheck", {})
        assert check.get("test"), f"{name} has no healthcheck"
    for dependency, condition in SERVICES["migrate"]["depends_on"].items():
        assert condition == {"condition": "service_healthy"} and SERVICES[dependency].get("healthcheck")
    s3_port = SERVICES["s3"]["command"][SERVICES["s3"]["command"].index("--port") + 1]
    health_path = SERVICES["s3"]["command"][SERVICES["s3"]["command"].index("--health") + 1]
    assert f"http://127.0.0.1{s3_port}{health_path}" in SERVICES["s3"]["healthcheck"]["test"]


def test_the_api_healthcheck_is_liveness_not_readiness() -> None:
    test = " ".join(SERVICES["api"]["healthcheck"]["test"])
    assert "/api/health/live" in test and "/api/health/ready" not in test
    assert "/api/health/ready" in COMPOSE_TEXT  # documented beside it, for load balancers and orchestrators

"""docker-compose.yml cannot run here (no Docker engine): check that it declares every service the
app needs, with the same variable names, ports and defaults as the code, no literal secrets, images
pinned to exact releases, an S3 server able to hold Object Lock buckets, and healthchecks; and that Kafka
and the schema registry authenticate every client, with the application services configured to sign in
(tests/integration/test_kafka_sasl.py runs the kafka service's settings and start script for real)."""

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
PROJECT_SERVICES = ("migrate", "feed", "worker", "sink", "archiver", "api")
INFRASTRUCTURE = ("kafka", "schema-registry", "timescaledb", "s3")
# An exact release: 4.1.1, v1.8.0, 2.29.2-pg16, 3.11.16-slim-trixie (a variant after the full version is
# fine); or a digest. Not `latest`, `latest-pg16`, `7`, `7.9`, `3.11-slim`.
# Secrets compose must take from the environment, required and without a default.
REQUIRED_SECRETS = ("POSTGRES_PASSWORD", "S3_ROOT_ACCESS_KEY", "S3_ROOT_SECRET_KEY", "ARCHIVE_SIGNING_KEY",
                    "KAFKA_BROKER_PASSWORD", "KAFKA_APP_PASSWORD", "SCHEMA_REGISTRY_PASSWORD")
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
    for variable in REQUIRED_SECRETS:
        assert f"${{{variable}:?" in COMPOSE_TEXT, f"{variable} must be required, without a default"
        assert f"${{{variable}:-" not in COMPOSE_TEXT and f"${{{variable}-" not in COMPOSE_TEXT, variable


def test_every_password_in_a_value_is_a_required_variable() -> None:
    """JAAS lines and user:password pairs hold passwords in values whose names do not say so."""
    for name, service in {**SERVICES, "x-tradestream-env": {"environment": COMPOSE["x-tradestream-env"]}}.items():
        for key, value in (service.get("environment") or {}).items():
            for secret in re.findall(r'password="([^"]*)"', str(value)):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", secret), (name, key)
    user_info = COMPOSE["x-tradestream-env"]["SCHEMA_REGISTRY_USER_INFO"]
    assert re.fullmatch(r"\$\{[A-Z0-9_]+:-[a-z]+\}:\$\{SCHEMA_REGISTRY_PASSWORD:\?[^}]*\}", user_info), user_info


def test_deploy_files_hold_no_secret() -> None:
    """deploy/ is mounted into the containers: it may name variables, never hold a password."""
    files = [path for path in (ROOT / "deploy").rglob("*") if path.is_file()]
    assert files
    for path in files:
        literal = re.findall(r'\bpassword\s*[=:]\s*\\?"?([^"\\$\s,\]}]+)', path.read_text(), re.I)
        assert not literal, f"{path.relative_to(ROOT)} holds a password: {literal}"


def listener_protocols(env: dict[str, str]) -> dict[str, str]:
    return dict(entry.split(":") for entry in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))


def listeners(value: str) -> dict[str, tuple[str, str]]:
    """`NAME://host:port,...` as {NAME: (host, port)}."""
    result = {}
    for entry in value.split(","):
        name, address = entry.split("://")
        host, port = address.rsplit(":", 1)
        result[name] = (host, port)
    return result


def test_the_broker_asks_every_client_for_sasl_scram() -> None:
    env = SERVICES["kafka"]["environment"]
    protocols = listener_protocols(env)
    bound = listeners(env["KAFKA_LISTENERS"])
    advertised = listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    assert set(protocols) == set(bound) and set(advertised) < set(bound)
    for name in advertised:  # every listener a client reaches
        assert protocols[name] in ("SASL_PLAINTEXT", "SASL_SSL"), name
        # the image's start script wants a JAAS file in KAFKA_OPTS for names with SASL_ in them, and
        # deploy/kafka/start.sh names the JAAS property after the listener
        assert "SASL_" not in name and re.fullmatch(r"[A-Z0-9]+", name), name
    published = SERVICES["kafka"]["ports"][0].rsplit(":", 1)[1]
    assert [name for name, (_, port) in bound.items() if port == published] == ["HOST"]
    assert advertised["INTERNAL"] == ("kafka", "9092")
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == env["KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL"] == "SCRAM-SHA-512"
    assert protocols[env["KAFKA_INTER_BROKER_LISTENER_NAME"]].startswith("SASL_")
    # The controller listener is not for clients: PLAINTEXT (Kafka cannot authenticate controllers with
    # SCRAM), on the container's loopback only, where the node's broker finds its controller.
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]
    assert controller not in advertised and bound[controller][0] == "127.0.0.1"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"1@127.0.0.1:{bound[controller][1]}"
    # No password among the variables the image writes into server.properties: start.sh adds the JAAS lines.
    assert not [key for key, value in env.items() if key.startswith("KAFKA_") and "PASSWORD" in str(value)]


def mounted_script(service: dict, argument: str) -> Path:
    """The file of this checkout that `argument` (a path in the container) is, through a bind mount."""
    for volume in service["volumes"]:
        source, target, *mode = volume.split(":")
        if source.startswith("./") and argument.startswith(target.rstrip("/") + "/"):
            assert mode == ["ro"], volume
            return ROOT / source / argument[len(target.rstrip("/")) + 1:]
    raise AssertionError(f"{argument} is not in a bind mount of this checkout")


def test_kafka_users_are_created_by_the_start_script_from_required_variables() -> None:
    kafka = SERVICES["kafka"]
    command = kafka["command"]
    assert command[0] == "bash" and mounted_script(kafka, command[1]) == ROOT / "deploy/kafka/start.sh"
    env = kafka["environment"]
    assert env["SCRAM_BROKER_PASSWORD"] == "${KAFKA_BROKER_PASSWORD:?set KAFKA_BROKER_PASSWORD}"
    assert env["SCRAM_APP_PASSWORD"] == "${KAFKA_APP_PASSWORD:?set KAFKA_APP_PASSWORD}"
    assert env["SCRAM_BROKER_USER"] != env["SCRAM_APP_USER"]
    assert env["CLUSTER_ID"] and env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    script = (ROOT / "deploy/kafka/start.sh").read_text()
    for user in ("BROKER", "APP"):
        assert f'--add-scram "$mechanism=[name=$SCRAM_{user}_USER,password=$SCRAM_{user}_PASSWORD]"' in script
    assert 'exec "$image_run"' in script


def test_every_app_service_signs_in_to_kafka_and_the_registry() -> None:
    kafka_env = SERVICES["kafka"]["environment"]
    registry_env = SERVICES["schema-registry"]["environment"]
    bootstrap_listener = next(name for name, address in listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"]).items()
                              if ":".join(address) == COMPOSE["x-tradestream-env"]["KAFKA_BOOTSTRAP"])
    for name in PROJECT_SERVICES:
        env = SERVICES[name]["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == listener_protocols(kafka_env)[bootstrap_listener], name
        assert env["KAFKA_SASL_MECHANISM"] in kafka_env["KAFKA_SASL_ENABLED_MECHANISMS"].split(","), name
        assert (env["KAFKA_SASL_USERNAME"], env["KAFKA_SASL_PASSWORD"]) == (
            kafka_env["SCRAM_APP_USER"], kafka_env["SCRAM_APP_PASSWORD"]), name
        assert env["SCHEMA_REGISTRY_USER_INFO"] == (
            f"{registry_env['REGISTRY_BASIC_AUTH_USER']}:{registry_env['REGISTRY_BASIC_AUTH_PASSWORD']}"), name


def test_the_compose_environment_configures_authenticated_clients(tmp_path: Path) -> None:
    env = {k: re.sub(r"\$\{[A-Z0-9_]+:?[-?]([^}]*)\}", r"\1", str(v))
           for k, v in SERVICES["worker"]["environment"].items()}
    env["TRADESTREAM_HOME"] = str(tmp_path)
    kafka = Settings.from_env(env).kafka()
    config = kafka.client_config()
    assert (config["security.protocol"], config["sasl.mechanism"], config["sasl.username"]) == (
        "SASL_PLAINTEXT", "SCRAM-SHA-512", "tradestream")
    assert kafka.registry_config()["basic.auth.user.info"].startswith("tradestream:")


def test_the_registry_signs_in_to_kafka_as_the_application_user() -> None:
    kafka_env = SERVICES["kafka"]["environment"]
    env = SERVICES["schema-registry"]["environment"]
    protocol, address = env["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"].split("://")
    assert protocol == env["SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL"]
    assert tuple(address.rsplit(":", 1)) == listeners(kafka_env["KAFKA_ADVERTISED_LISTENERS"])["INTERNAL"]
    assert env["SCHEMA_REGISTRY_KAFKASTORE_SECURITY_PROTOCOL"] == listener_protocols(kafka_env)["INTERNAL"]
    assert env["SCHEMA_REGISTRY_KAFKASTORE_SASL_MECHANISM"] == kafka_env["KAFKA_SASL_ENABLED_MECHANISMS"]
    assert env["SCHEMA_REGISTRY_KAFKASTORE_SASL_JAAS_CONFIG"] == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{kafka_env["SCRAM_APP_USER"]}" password="{kafka_env["SCRAM_APP_PASSWORD"]}";')


def test_the_registry_requires_basic_authentication() -> None:
    registry = SERVICES["schema-registry"]
    env = registry["environment"]
    assert env["SCHEMA_REGISTRY_AUTHENTICATION_METHOD"] == "BASIC"
    assert "SCHEMA_REGISTRY_AUTHENTICATION_SKIP_PATHS" not in env
    roles = env["SCHEMA_REGISTRY_AUTHENTICATION_ROLES"].split(",")
    assert roles and "*" not in roles  # the user file gives its user the first of these roles
    assert env["REGISTRY_BASIC_AUTH_PASSWORD"] == "${SCHEMA_REGISTRY_PASSWORD:?set SCHEMA_REGISTRY_PASSWORD}"
    assert registry["command"][0] == "bash"
    start = mounted_script(registry, registry["command"][1])
    assert start == ROOT / "deploy/schema-registry/start.sh"
    jaas_option = re.fullmatch(r"-Djava\.security\.auth\.login\.config=(\S+)", env["SCHEMA_REGISTRY_OPTS"])
    assert jaas_option
    jaas = mounted_script(registry, jaas_option.group(1)).read_text()
    section = re.search(r"^(\w[\w-]*)\s*\{\s*org\.eclipse\.jetty\.jaas\.spi\.PropertyFileLoginModule required\s+"
                        r'file="([^"]+)"', jaas, re.M)
    assert section, jaas
    assert section.group(1) == env["SCHEMA_REGISTRY_AUTHENTICATION_REALM"]
    assert f"users_file=${{REGISTRY_BASIC_AUTH_USERS_FILE:-{section.group(2)}}}" in start.read_text()


def test_healthchecks_sign_in() -> None:
    """The kafka and registry healthchecks are scripts of deploy/ that use the services' credentials."""
    for name, credentials in (("kafka", ("SCRAM_BROKER_USER", "SCRAM_BROKER_PASSWORD")),
                              ("schema-registry", ("REGISTRY_BASIC_AUTH_USER", "REGISTRY_BASIC_AUTH_PASSWORD"))):
        service = SERVICES[name]
        test = service["healthcheck"]["test"]
        assert test[:2] == ["CMD", "bash"], name
        script = mounted_script(service, test[2])
        text = script.read_text()
        if name == "kafka":
            assert "admin.sh" in text
            text = (script.parent / "admin.sh").read_text()
        assert all(variable in text and variable in service["environment"] for variable in credentials), name


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

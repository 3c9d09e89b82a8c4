"""SASL/SCRAM on a throw-away Kafka broker configured the way docker-compose.yml configures its kafka service.

The broker runs from the shared stack's Maven Central jars (tradestream/stack/kafka.py: `kafka_libs`), in a
temporary directory, on free ports; the shared broker is not touched. The test runs deploy/kafka/start.sh,
the command compose gives the container, with the kafka service's environment from docker-compose.yml (only
the addresses, ports and log directory changed), against a stand-in for the image's /opt/kafka/bin and its
/etc/kafka/docker/run. The script formats the storage with `kafka-storage format --add-scram`; the stand-in
then does what the image's launch script does: it runs the image's configuration step
(kafka.docker.KafkaDockerWrapper, in the same jars: KAFKA_* variables to server.properties, and a format
that reports "already formatted") and starts the broker. The clients are the project's, configured by
`Settings.from_env` from the application services' environment in docker-compose.yml.

Needs Java 17 (and Maven, when the jars are not cached yet), as `tradestream stack up` does; not the stack.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import faust
import pytest
import yaml
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config
from connectors.kafka.publisher import EventPublisher
from processors.model import TradeTick
from schemas.topics import TopicSpec
from streams.app import broker_credentials
from tradestream.config import Settings
from tradestream.stack.kafka import kafka_libs, require_tool
from tradestream.topics import ensure_topics, topic_names

from .conftest import eventually

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
# The secrets compose requires, as an operator would set them.
SECRETS = {"KAFKA_BROKER_PASSWORD": uuid.uuid4().hex, "KAFKA_APP_PASSWORD": uuid.uuid4().hex,
           "SCHEMA_REGISTRY_PASSWORD": uuid.uuid4().hex, "POSTGRES_PASSWORD": uuid.uuid4().hex,
           "S3_ROOT_ACCESS_KEY": "access", "S3_ROOT_SECRET_KEY": uuid.uuid4().hex}

# The image's /opt/kafka/bin tools the scripts call, as `java -cp libs/* CLASS`.
TOOLS = {"kafka-run-class.sh": "", "kafka-storage.sh": "kafka.tools.StorageTool",
         "kafka-configs.sh": "kafka.admin.ConfigCommand"}
# The image's /etc/kafka/docker/run, reduced to what its launch script does once `configure` has passed.
IMAGE_RUN = """#!/usr/bin/env bash
set -euo pipefail
home=$TRADESTREAM_KAFKA_HOME
result=$("$home/bin/kafka-run-class.sh" kafka.docker.KafkaDockerWrapper setup \\
  --default-configs-dir "$home/docker" --mounted-configs-dir "$home/mounted" --final-configs-dir "$home/config" 2>&1) ||
  echo "$result" | grep -i "already formatted" || { echo "$result"; exit 1; }
exec "$home/bin/kafka-run-class.sh" kafka.Kafka "$home/config/server.properties"
"""
LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.authentication.name = org.apache.kafka.common.network.Selector
logger.authentication.level = info
"""


def interpolate(value: object, env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}` and `${NAME:?message}` with `env`."""
    def one(match: re.Match[str]) -> str:
        name, operator, default = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in env and (env[name] or operator != ":-"):
            return env[name]
        if operator == ":?":
            raise AssertionError(f"compose requires {name}: {default}")
        return default
    return re.sub(r"\$\{([A-Z0-9_]+)(:[-?])?([^}]*)\}", one, str(value))


def free_ports(count: int) -> list[int]:
    """`count` different free ports: every probe stays bound until all are chosen, so the system cannot hand the
    same port out twice (it did: INTERNAL and HOST on one port, and the broker refused to start)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@dataclass(frozen=True)
class SaslBroker:
    internal: str
    """The INTERNAL listener (kafka:9092 in compose), the application services' address."""
    host: str
    """The HOST listener (published on the host's loopback in compose)."""
    env: dict[str, str]
    """The kafka container's environment."""
    work: Path

    def client_env(self, bootstrap: str | None = None, **changes: str) -> dict[str, str]:
        """The application services' environment of docker-compose.yml, pointed at this broker."""
        env = {name: interpolate(value, SECRETS) for name, value in COMPOSE["x-tradestream-env"].items()}
        env.update(KAFKA_BOOTSTRAP=bootstrap or self.internal, TRADESTREAM_HOME=str(self.work))
        env.update(changes)
        return {name: value for name, value in env.items() if value}

    def settings(self, bootstrap: str | None = None, **changes: str) -> Settings:
        return Settings.from_env(self.client_env(bootstrap, **changes))

    def run_script(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A script of deploy/kafka run as `docker compose exec kafka` would: with the container's environment."""
        return subprocess.run(["bash", str(ROOT / "deploy" / "kafka" / script), *args], env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)


def broker_environment(work: Path, addresses: dict[str, str]) -> dict[str, str]:
    """The kafka service's environment from docker-compose.yml, with these addresses of its listeners."""
    service = COMPOSE["services"]["kafka"]
    env = {name: interpolate(value, SECRETS) for name, value in service["environment"].items()}

    def readdress(listeners: str) -> str:
        names = [entry.split("://", 1)[0] for entry in listeners.split(",")]
        assert set(names) <= set(addresses), listeners
        return ",".join(f"{name}://{addresses[name]}" for name in names)

    env["KAFKA_LISTENERS"] = readdress(env["KAFKA_LISTENERS"])
    env["KAFKA_ADVERTISED_LISTENERS"] = readdress(env["KAFKA_ADVERTISED_LISTENERS"])
    node, _ = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split("@", 1)
    env["KAFKA_CONTROLLER_QUORUM_VOTERS"] = f"{node}@{addresses['CONTROLLER']}"
    env["KAFKA_LOG_DIRS"] = str(work / "data")
    kafka_home = work / "opt-kafka"
    env.update(TRADESTREAM_KAFKA_HOME=str(kafka_home), TRADESTREAM_KAFKA_RUN=str(work / "image-run"),
               ADMIN_BOOTSTRAP=addresses["INTERNAL"], PATH=os.environ["PATH"], HOME=str(work), TMPDIR=str(work))
    if "JAVA_HOME" in os.environ:
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    return env


def stand_in_image(work: Path, libs: Path) -> None:
    """/opt/kafka/bin (the tools the scripts call) and /etc/kafka/docker/run of the apache/kafka image."""
    java = require_tool("java", "apt-get install openjdk-17-jre-headless (Kafka 4 needs Java 17)")
    home = work / "opt-kafka"
    for folder in ("bin", "docker", "mounted", "config"):
        (home / folder).mkdir(parents=True)
    (home / "log4j2.properties").write_text(LOG4J2)
    for tool, main_class in TOOLS.items():
        script = home / "bin" / tool
        # C1 only and the serial collector: these JVMs live for seconds, and start faster so.
        script.write_text(f'#!/usr/bin/env bash\nexec "{java}" -Xms64m -Xmx512m -XX:TieredStopAtLevel=1 '
                          f'-XX:+UseSerialGC -Dlog4j2.configurationFile="{home}/log4j2.properties" '
                          f'-cp "{libs}/*" {main_class} "$@"\n'.replace('  "$@"', ' "$@"'))
        script.chmod(0o755)
    (work / "image-run").write_text(IMAGE_RUN)
    (work / "image-run").chmod(0o755)


def one_partition(topic: str) -> TopicSpec:
    return TopicSpec(topic, "TradeTick", "symbol", 1, 3_600_000)


def ready(settings: Settings) -> bool:
    admin = AdminClient(settings.kafka().client_config(**{"socket.timeout.ms": 2000, "log_level": 0}))
    try:
        return bool(admin.list_topics(timeout=2).brokers)
    except KafkaException:
        return False


@pytest.fixture(scope="module")
def broker() -> Iterator[SaslBroker]:
    libs = kafka_libs(Settings.from_env())
    with tempfile.TemporaryDirectory(prefix="tradestream-sasl-") as directory:
        work = Path(directory)
        names = ("INTERNAL", "HOST", "CONTROLLER")
        addresses = {name: f"127.0.0.1:{port}" for name, port in zip(names, free_ports(len(names)))}
        stand_in_image(work, libs)
        env = broker_environment(work, addresses)
        log = work / "broker.log"
        process = subprocess.Popen(["bash", str(ROOT / "deploy" / "kafka" / "start.sh")], env=env,
                                   stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        sasl = SaslBroker(addresses["INTERNAL"], addresses["HOST"], env, work)
        try:
            deadline = time.monotonic() + 60
            while not ready(sasl.settings()):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the SASL broker did not start:\n{log.read_text()[-4000:]}")
                time.sleep(0.2)
            yield sasl
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def test_start_script_formatted_the_storage_with_both_scram_users(broker: SaslBroker) -> None:
    """Both users exist, so start.sh formatted the storage before the image's own format (which would have
    formatted it without users, and found it formatted instead: the path of every restart). The broker's
    user reads them through deploy/kafka/admin.sh, the healthcheck's sign-in."""
    described = broker.run_script("admin.sh", "kafka-configs.sh", "--describe", "--entity-type", "users")
    assert described.returncode == 0, described.stderr
    for user in (broker.env["SCRAM_BROKER_USER"], broker.env["SCRAM_APP_USER"]):
        assert re.search(rf"SCRAM credential configs for user-principal '{user}' are SCRAM-SHA-512=iterations=\d+",
                         described.stdout), described.stdout


def test_the_application_services_publish_and_consume_with_their_credentials(broker: SaslBroker,
                                                                            registry_stub: object) -> None:
    settings = broker.settings()
    kafka = settings.kafka()
    assert (kafka.security_protocol, kafka.sasl_mechanism) == ("SASL_PLAINTEXT", "SCRAM-SHA-512")
    topic = f"sasl.{uuid.uuid4().hex[:10]}.ticks"
    # As `tradestream setup` (the compose migrate service) creates its topics.
    assert ensure_topics(settings, prefix="", catalogue=(one_partition(topic),)) == [topic]
    assert topic in topic_names(settings)

    codec = AvroCodec(registry_stub)  # type: ignore[arg-type]  # tests/conftest.py; the registry is not under test
    tick = TradeTick(symbol="SPY", ts_event=1_764_000_000_000_000_001, ts_init=1_764_000_000_000_500_000,
                     price=Decimal("598.01"), size=100, feed="sasl")
    publisher = EventPublisher(kafka, codec, client_id="sasl-test-feed")
    publisher.publish(topic, "SPY", tick)
    assert publisher.flush(15) == 0 and (publisher.delivered, publisher.failed) == (1, 0)

    consumer = Consumer(consumer_config(kafka, f"sasl-test-{uuid.uuid4().hex[:6]}"))
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        message = eventually(lambda: consumer.poll(0.5), timeout_s=20, what="the published tick")
    finally:
        consumer.close()
    assert message.error() is None and message.key() == b"SPY"
    assert codec.decode(message.value()) == tick


def test_the_host_listener_also_signs_clients_in(broker: SaslBroker) -> None:
    assert ready(broker.settings(bootstrap=broker.host))


@pytest.mark.parametrize("listener", ["internal", "host"])
def test_a_client_without_credentials_is_refused(broker: SaslBroker, listener: str) -> None:
    address = getattr(broker, listener)
    settings = broker.settings(bootstrap=address, KAFKA_SECURITY_PROTOCOL="PLAINTEXT", KAFKA_SASL_USERNAME="",
                               KAFKA_SASL_PASSWORD="")
    assert settings.kafka().client_config() == {"bootstrap.servers": address}
    admin = AdminClient(settings.kafka().client_config(**{"log_level": 0}))
    with pytest.raises(KafkaException) as refused:
        admin.list_topics(timeout=3)
    assert refused.value.args[0].code() == KafkaError._TRANSPORT  # the broker closed the connection


def test_a_wrong_password_is_refused_as_an_authentication_failure(broker: SaslBroker) -> None:
    errors: list[KafkaError] = []
    settings = broker.settings(KAFKA_SASL_PASSWORD="not-the-password")
    admin = AdminClient(settings.kafka().client_config(**{"log_level": 0, "error_cb": errors.append}))
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=1.5)
    admin.poll(1)  # serves error_cb
    assert any(error.code() == KafkaError._AUTHENTICATION for error in errors), errors


def test_a_faust_app_signs_in_and_its_agent_receives_a_message(broker: SaslBroker) -> None:
    """The worker's transport: aiokafka with `streams.app.broker_credentials`, and Faust's own topic creation."""
    settings = broker.settings()
    kafka = settings.kafka()
    name = f"sasl.{uuid.uuid4().hex[:10]}.faust"
    assert ensure_topics(settings, prefix="", catalogue=(one_partition(name),)) == [name]

    async def scenario() -> bytes:
        app = faust.App(f"sasl-test-{uuid.uuid4().hex[:6]}", broker=f"kafka://{kafka.bootstrap}",
                        broker_credentials=broker_credentials(kafka), store="memory://", web_enabled=False,
                        topic_partitions=1, topic_replication_factor=1, consumer_auto_offset_reset="earliest",
                        value_serializer="raw", key_serializer="raw", datadir=str(broker.work / "faust"))
        topic = app.topic(name, partitions=1)
        received: asyncio.Queue[bytes] = asyncio.Queue()

        @app.agent(topic)
        async def collect(stream):  # noqa: ANN001, ANN202 - Faust's agent signature
            async for value in stream:
                await received.put(value)

        await app.start()
        try:
            await topic.send(key=b"SPY", value=b"signed in")
            return await asyncio.wait_for(received.get(), timeout=30)
        finally:
            await app.stop()

    assert asyncio.run(scenario()) == b"signed in"

"""The real Apache Kafka broker, single node in KRaft mode, from the official jars on Maven Central.

Maven copies `org.apache.kafka:kafka_2.13:$KAFKA_VERSION` and its runtime dependencies (the same jar
set as the release tarball's `libs/`) into `$TRADESTREAM_CACHE/kafka-$KAFKA_VERSION/libs`, outside
the repository, so a second start is fast. The broker then runs as `java -cp libs/* kafka.Kafka`,
exactly what `kafka-server-start.sh` does; its data lives in `$TRADESTREAM_HOME/kafka` and survives
restarts.
"""

from __future__ import annotations

import base64
import logging
import shutil
import subprocess
import uuid
from pathlib import Path

from tradestream.config import Settings
from schemas.errors import StackError
from tradestream.stack.process import ServiceProcess, port_bindable, port_open, wait_until

log = logging.getLogger(__name__)

LOG4J2_VERSION = "2.24.3"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.tradestream.stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{kafka}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Logger name="kafka" level="INFO"/>
    <Logger name="org.apache.kafka" level="INFO"/>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Root level="WARN"><AppenderRef ref="stdout"/></Root>
  </Loggers>
</Configuration>
"""


def require_tool(name: str, install_hint: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"{name} is not installed; install it with: {install_hint}")
    return path


def kafka_libs(settings: Settings) -> Path:
    """The broker's jar folder, fetched with Maven on first use."""
    root = settings.cache / f"kafka-{settings.kafka_version}"
    libs = root / "libs"
    marker = root / "complete"
    if marker.exists():
        return libs
    require_tool("java", "apt-get install openjdk-17-jre-headless (Kafka 4 needs Java 17)")
    mvn = require_tool("mvn", "apt-get install maven")
    root.mkdir(parents=True, exist_ok=True)
    (root / "pom.xml").write_text(_POM.format(kafka=settings.kafka_version, log4j=LOG4J2_VERSION))
    log.info("fetching Apache Kafka %s jars from Maven Central into %s", settings.kafka_version, libs)
    result = subprocess.run(
        [mvn, "-q", "-B", "-f", str(root / "pom.xml"), "dependency:copy-dependencies",
         f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise StackError(
            f"Maven could not fetch org.apache.kafka:kafka_2.13:{settings.kafka_version} "
            f"(check KAFKA_VERSION and access to Maven Central):\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    marker.write_text(settings.kafka_version)
    return libs


def _server_properties(settings: Settings, data_dir: Path) -> str:
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{settings.kafka_controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{settings.kafka_port},"
                     f"CONTROLLER://127.0.0.1:{settings.kafka_controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{settings.kafka_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir / "logs"),
        "num.partitions": str(settings.kafka_partitions),
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "10",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "false",
        "log.retention.hours": "168",
        "log.flush.interval.ms": "1000",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def _cluster_id() -> str:
    # Kafka's Uuid string form: URL-safe base64 of 16 random bytes without padding, not starting with '-'.
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


class KafkaService:
    name = "kafka"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process = ServiceProcess(self.name, settings.home)
        self.data_dir = settings.home / "kafka"

    def ready(self) -> bool:
        from confluent_kafka.admin import AdminClient
        from confluent_kafka import KafkaException

        if not port_open("127.0.0.1", self.settings.kafka_port):
            return False
        admin = AdminClient({"bootstrap.servers": self.settings.kafka_bootstrap, "socket.timeout.ms": 2000,
                             "log_level": 0})
        try:
            metadata = admin.list_topics(timeout=2)
        except KafkaException:
            return False
        return bool(metadata.brokers)

    def start(self) -> None:
        if self.process.running():
            wait_until(self.ready, 90, "Kafka broker", self.process.log_path, self.process.running)
            return
        for port, variable in ((self.settings.kafka_port, "KAFKA_PORT"),
                               (self.settings.kafka_controller_port, "KAFKA_CONTROLLER_PORT")):
            if not port_bindable("127.0.0.1", port):
                raise StackError(
                    f"port {port} is taken by another process; stop it or set {variable} to a free port"
                )
        libs = kafka_libs(self.settings)
        java = require_tool("java", "apt-get install openjdk-17-jre-headless")
        config_dir = self.data_dir / "config"
        config_dir.mkdir(parents=True, exist_ok=True)
        properties = config_dir / "server.properties"
        properties.write_text(_server_properties(self.settings, self.data_dir))
        (config_dir / "log4j2.xml").write_text(_LOG4J2)
        classpath = f"{libs}/*"
        if not (self.data_dir / "logs" / "meta.properties").exists():
            result = subprocess.run(
                [java, "-cp", classpath, "kafka.tools.StorageTool", "format", "--ignore-formatted",
                 "-t", _cluster_id(), "-c", str(properties)],
                capture_output=True, text=True, check=False,
            )
            if result.returncode != 0:
                raise StackError(f"formatting the Kafka log directory failed:\n{result.stdout}{result.stderr}")
        self.process.spawn(
            [java, "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
             "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={config_dir / 'log4j2.xml'}",
             f"-Dkafka.logs.dir={self.settings.home / 'logs'}",
             "-cp", classpath, "kafka.Kafka", str(properties)],
        )
        wait_until(self.ready, 120, "Kafka broker", self.process.log_path, self.process.running)

    def stop(self) -> bool:
        return self.process.stop(timeout_s=60)

    def status(self) -> dict[str, object]:
        running = self.process.running()
        return {
            "running": running,
            "ready": running and self.ready(),
            "bootstrap": self.settings.kafka_bootstrap,
            "version": self.settings.kafka_version,
            "pid": self.process.pid(),
        }

"""The registry over HTTP with confluent-kafka's own client, and our events read by a standard client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from processors.model import TradeTick
from schemas import SCHEMAS
from connectors.kafka.codec import AvroCodec
from tradestream.config import Settings
from tradestream.topics import TopicSpec, ensure_topics

from .conftest import eventually

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RegistryProcess:
    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings, self.topic, self.port = settings, topic, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tradestream.schema_registry", "--port", str(self.port),
                                      "--bootstrap", self.settings.kafka_bootstrap, "--topic", self.topic],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def up() -> bool:
            assert self.proc is not None and self.proc.poll() is None, "registry exited"
            try:
                return httpx.get(f"{self.url}/subjects", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        eventually(up, timeout_s=60, what="registry answering")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def registry(settings: Settings, unique: str) -> Iterator[RegistryProcess]:
    process = RegistryProcess(settings, f"_schemas_test_{unique}")
    process.start()
    yield process
    process.stop()


TICK_V1 = {"type": "record", "name": "T", "namespace": "it", "fields": [{"name": "symbol", "type": "string"}]}


def test_register_lookup_and_versions_with_the_confluent_client(registry: RegistryProcess, unique: str) -> None:
    client = SchemaRegistryClient({"url": registry.url})
    subject = f"it-{unique}-value"
    schema_id = client.register_schema(subject, Schema(json.dumps(TICK_V1), "AVRO"))
    assert client.register_schema(subject, Schema(json.dumps(TICK_V1), "AVRO")) == schema_id  # idempotent
    assert json.loads(client.get_schema(schema_id).schema_str) == TICK_V1
    v2 = {**TICK_V1, "fields": [*TICK_V1["fields"], {"name": "size", "type": "long", "default": 0}]}
    client.register_schema(subject, Schema(json.dumps(v2), "AVRO"))
    assert client.get_versions(subject) == [1, 2]
    latest = client.get_latest_version(subject)
    assert (latest.version, json.loads(latest.schema.schema_str)) == (2, v2)
    assert subject in client.get_subjects()
    assert client.lookup_schema(subject, Schema(json.dumps(TICK_V1), "AVRO")).version == 1


def test_incompatible_change_is_rejected_under_backward(registry: RegistryProcess, unique: str) -> None:
    client = SchemaRegistryClient({"url": registry.url})
    subject = f"it-{unique}-value"
    client.register_schema(subject, Schema(json.dumps(TICK_V1), "AVRO"))
    assert client.set_compatibility(subject_name=subject, level="BACKWARD")["compatibility"] == "BACKWARD"
    breaking = {**TICK_V1, "fields": [*TICK_V1["fields"], {"name": "size", "type": "long"}]}
    assert client.test_compatibility(subject, Schema(json.dumps(breaking), "AVRO")) is False
    with pytest.raises(SchemaRegistryError) as refused:
        client.register_schema(subject, Schema(json.dumps(breaking), "AVRO"))
    assert refused.value.http_status_code == 409
    assert client.get_versions(subject) == [1]


def test_errors_use_confluent_codes(registry: RegistryProcess) -> None:
    assert httpx.get(f"{registry.url}/subjects/nope/versions").json()["error_code"] == 40401
    assert httpx.get(f"{registry.url}/schemas/ids/999999").json()["error_code"] == 40403
    bad = httpx.post(f"{registry.url}/subjects/x/versions", json={"schema": "{\"type\": \"record\"}"})
    assert (bad.status_code, bad.json()["error_code"]) == (422, 42201)
    level = httpx.put(f"{registry.url}/config", json={"compatibility": "SIDEWAYS"})
    assert (level.status_code, level.json()["error_code"]) == (422, 42203)


def test_ids_and_versions_survive_a_restart(registry: RegistryProcess, unique: str) -> None:
    client = SchemaRegistryClient({"url": registry.url})
    subject = f"it-{unique}-value"
    schema_id = client.register_schema(subject, Schema(json.dumps(TICK_V1), "AVRO"))
    registry.stop()
    registry.start()
    fresh = SchemaRegistryClient({"url": registry.url})
    assert json.loads(fresh.get_schema(schema_id).schema_str) == TICK_V1
    assert fresh.get_versions(subject) == [1]


def test_a_standard_client_decodes_our_tick(settings: Settings, unique: str) -> None:
    """Produced by the project; read by confluent_kafka's AvroDeserializer knowing only the registry URL."""
    topic = f"it.ticks.{unique}"
    ensure_topics(settings, prefix="", catalogue=(TopicSpec(topic, "TradeTick", "symbol", 1, 3_600_000),))
    tick = TradeTick(symbol="SPY", ts_event=1_764_000_000_000_000_001, ts_init=1_764_000_000_000_500_000,
                     price=Decimal("598.01"), size=100, feed="simulated", trade_id="x1", conditions=("@",))
    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap})
    producer.produce(topic, key=b"SPY", value=AvroCodec(settings.schema_registry_url).encode(topic, tick))
    assert producer.flush(10) == 0

    deserializer = AvroDeserializer(SchemaRegistryClient({"url": settings.schema_registry_url}))
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"std-{unique}",
                         "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    message = consumer.poll(15)
    consumer.close()
    assert message is not None and message.error() is None
    value = deserializer(message.value(), SerializationContext(topic, MessageField.VALUE))
    assert value["symbol"] == "SPY" and value["price"] == Decimal("598.01") and value["size"] == 100
    assert value["ts_event"] == tick.ts_event and value["conditions"] == ["@"]
    subject = SchemaRegistryClient({"url": settings.schema_registry_url}).get_latest_version(f"{topic}-value")
    assert json.loads(subject.schema.schema_str) == SCHEMAS["TradeTick"]

"""Strategy changes through the API as events, against the real PostgreSQL, Kafka and registry: creating, replacing,
disabling, enabling and deleting a scanner each publish a StrategyChanged on the strategies topic (the test's own),
keyed by the strategy, with the caller as operator and the configuration of a creation or replacement; a viewer's
change, another user's scanner and an invalid one publish nothing; Kafka not taking the event rolls the change back
(503) and nothing is stored or recorded."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition
from litestar.testing import TestClient

from api.app import create_app
from connectors.kafka.codec import AvroCodec
from processors.model import StrategyChanged
from schemas.topics import spec
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings
from tradestream.topics import ensure_topics

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def example(name: str) -> dict:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data["name"] = name
    return data


def changes_on(settings: Settings, topic: str, wanted: int, timeout_s: float = 30) -> list[tuple[bytes, StrategyChanged]]:
    """The (key, change) records on the topic from its start, until `wanted` are read or `timeout_s` passes."""
    kafka = settings.kafka()
    codec = AvroCodec(kafka.registry_config())
    consumer = Consumer(kafka.client_config(**{"group.id": f"read-{topic}", "enable.auto.commit": False}))
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    found: list[tuple[bytes, StrategyChanged]] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < wanted and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                found.append((message.key(), codec.decode(message.value())))
    finally:
        consumer.close()
    return found


class Undelivered:
    """Kafka not taking any change."""

    def __init__(self) -> None:
        self.tried: list[StrategyChanged] = []

    def publish(self, change: StrategyChanged) -> bool:
        self.tried.append(change)
        return False


def test_every_strategy_change_is_an_event(settings: Settings, unique: str) -> None:
    prefix = f"str{unique}."
    ensure_topics(settings, prefix=prefix, catalogue=(spec("strategies"),))
    name = f"scan-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}")
    other = make_user(settings.database_url, f"other-{unique}")
    viewer = make_user(settings.database_url, f"viewer-{unique}", role="viewer")
    api = dataclasses.replace(api_settings(settings), kafka=settings.kafka(prefix))
    with TestClient(app=create_app(api)) as client:
        assert client.post("/api/scanners", json=example(name), headers=viewer.headers).status_code == 403
        assert client.post("/api/scanners", json=example(name) | {"interval": "7x"},
                           headers=owner.headers).status_code == 400
        assert client.post("/api/scanners", json=example(name), headers=owner.headers).status_code == 201
        assert client.put(f"/api/scanners/{name}", json=example(name), headers=other.headers).status_code == 404
        assert client.put(f"/api/scanners/{name}/enabled", json={"enabled": False},
                          headers=other.headers).status_code == 404
        replaced = client.put(f"/api/scanners/{name}", json=example(name) | {"max_signals_per_day": 3,
                                                                             "max_signals_per_symbol": 3},
                              headers=owner.headers)
        assert replaced.status_code == 200
        for enabled in (False, True):
            assert client.put(f"/api/scanners/{name}/enabled", json={"enabled": enabled},
                              headers=owner.headers).status_code == 200
        assert client.delete(f"/api/scanners/{name}", headers=owner.headers).status_code == 204

    records = changes_on(settings, f"{prefix}strategies", wanted=5)
    assert {key for key, _ in records} == {name.encode()}
    changes = [change for _, change in records]
    assert [(c.kind, c.version, c.operator, c.strategy) for c in changes] == [
        ("CREATED", 1, owner.name, name), ("REPLACED", 2, owner.name, name), ("DISABLED", 0, owner.name, name),
        ("ENABLED", 0, owner.name, name), ("DELETED", 0, owner.name, name)]
    assert json.loads(changes[1].config)["max_signals_per_day"] == 3 and changes[2].config == ""
    assert all(c.ts_event == c.ts_init for c in changes)
    assert [c.ts_event for c in changes] == sorted(c.ts_event for c in changes)
    assert len(changes_on(settings, f"{prefix}strategies", wanted=6, timeout_s=3)) == 5  # nothing else published


def test_a_change_kafka_does_not_take_is_rolled_back(settings: Settings, unique: str) -> None:
    name = f"scan-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}")
    undelivered = Undelivered()
    with TestClient(app=create_app(api_settings(settings), strategy_changes=undelivered)) as client:
        refused = client.post("/api/scanners", json=example(name), headers=owner.headers)
        assert refused.status_code == 503 and "not delivered to Kafka" in refused.json()["detail"]
        assert client.get(f"/api/scanners/{name}", headers=owner.headers).status_code == 404
    assert [(c.kind, c.strategy) for c in undelivered.tried] == [("CREATED", name)]
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("select count(*) from user_changes where subject = %s", (name,)).fetchone() == (0,)
        assert conn.execute("select count(*) from ownerships where resource_id = %s", (name,)).fetchone() == (0,)

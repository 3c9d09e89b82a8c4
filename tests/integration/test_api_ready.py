"""Readiness and lag against the real services. Stand-in consumer groups play the stream worker and the
sink: the worker's group has committed 10 of 50 records (40 behind, past a threshold of 20), the sink's
all of them. The API is ready (200: PostgreSQL, Kafka and the registry are up) while the full health says
the worker is lagging (503), each group's lag read from the broker; a silent feed leaves it ready too."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from litestar.testing import TestClient

from api.app import create_app
from tradestream.commands.api import api_settings
from tradestream.config import Settings

from .conftest import eventually

pytestmark = pytest.mark.integration
RECORDS = 50


class Feed:
    """A feed watcher whose last report is `age_s` old."""

    def __init__(self, age_s: float) -> None:
        self.age_s = age_s

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def last(self) -> dict[str, object]:
        return {"feed": "simulated", "event": "heartbeat", "messages_per_second": 0.0, "connected": True,
                "active": True, "ts_init": time.time_ns() - int(self.age_s * 10**9), "detail": ""}


@contextmanager
def group_at(settings: Settings, group: str, topic: str, committed: int) -> Iterator[None]:
    """A member of `group` on `topic` that has committed offset `committed` and stays connected."""
    member = Consumer(settings.kafka().client_config(**{"group.id": group, "enable.auto.commit": False,
                                                        "log_level": 0}))
    member.subscribe([topic])
    try:
        eventually(lambda: member.poll(0.2) is None and member.assignment(), timeout_s=30,
                   what=f"{group} joining its group")
        member.commit(offsets=[TopicPartition(topic, 0, committed)], asynchronous=False)
        yield
    finally:
        member.close()


@pytest.fixture
def topic(settings: Settings, unique: str) -> str:
    name = f"api-lag-{unique}"
    admin = AdminClient(settings.kafka().client_config())
    admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1)])[name].result(timeout=30)
    producer = Producer(settings.kafka().client_config())
    for index in range(RECORDS):
        producer.produce(name, value=str(index).encode())
    assert producer.flush(30) == 0
    return name


def test_a_lagging_worker_is_reported_and_leaves_the_api_ready(settings: Settings, unique: str, topic: str) -> None:
    worker, sink = f"api-worker-{unique}", f"api-sink-{unique}"
    api = dataclasses.replace(api_settings(settings), worker_group=worker, sink_group=sink, lag_threshold_records=20)
    with group_at(settings, worker, topic, committed=10), group_at(settings, sink, topic, committed=RECORDS), \
            TestClient(app=create_app(api, feed_watcher=Feed(age_s=1))) as client:
        ready = client.get("/api/health/ready")
        full = client.get("/api/health")
    assert ready.status_code == 200 and ready.json()["status"] == "up", ready.json()
    body = full.json()
    assert full.status_code == 503 and body["status"] == "lagging", body
    components = body["components"]
    assert components["worker"]["status"] == "lagging"
    assert components["worker"]["lag"] == {"records": 40, "threshold": 20, "partitions": 1, "by_topic": {topic: 40}}
    assert "40 records behind, more than 20" in components["worker"]["detail"]
    assert components["sink"]["status"] == "up" and components["sink"]["lag"]["records"] == 0
    assert {name for name, c in components.items() if c["status"] != "up"} == {"worker"}


def test_a_stale_feed_and_absent_groups_leave_the_api_ready(settings: Settings, unique: str) -> None:
    api = dataclasses.replace(api_settings(settings), worker_group=f"absent-{unique}", sink_group=f"absent-s-{unique}")
    with TestClient(app=create_app(api, feed_watcher=Feed(age_s=60))) as client:
        ready = client.get("/api/health/ready")
        full = client.get("/api/health")
    components = ready.json()["components"]
    assert components["feed"]["status"] == "down" and "60." in components["feed"]["detail"]
    assert components["worker"]["status"] == "down" and "no member" in components["worker"]["detail"]
    assert ready.status_code == 200 and ready.json()["status"] == "up", ready.json()
    assert full.status_code == 503 and full.json()["status"] == "down"

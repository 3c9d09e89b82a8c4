"""Readiness against the real services: with every component up but the feed silent for a minute, the API
is ready (200) while the full health still says the feed is down (503)."""

from __future__ import annotations

import dataclasses
import time

import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic
from litestar.testing import TestClient

from api.app import create_app
from tradestream.commands.api import api_settings
from tradestream.config import Settings

from .conftest import eventually

pytestmark = pytest.mark.integration


class SilentFeed:
    """A feed watcher whose last report is a minute old."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def last(self) -> dict[str, object]:
        return {"feed": "simulated", "event": "heartbeat", "messages_per_second": 0.0, "connected": True,
                "active": True, "ts_init": time.time_ns() - 60 * 10**9, "detail": ""}


def test_a_stale_feed_leaves_the_api_ready(settings: Settings, unique: str) -> None:
    # A consumer group of our own stands in for the stream worker, so the worker check is up.
    group, topic = f"api-ready-{unique}", f"api-ready-{unique}"
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(timeout=30)
    worker = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": group, "log_level": 0})
    worker.subscribe([topic])
    try:
        eventually(lambda: worker.poll(0.2) is None and worker.assignment(), timeout_s=30,
                   what="the stand-in worker joining its group")
        api = dataclasses.replace(api_settings(settings), worker_group=group)
        with TestClient(app=create_app(api, feed_watcher=SilentFeed())) as client:
            ready = client.get("/api/health/ready")
            full = client.get("/api/health")
    finally:
        worker.close()
    feed = ready.json()["components"]["feed"]
    assert feed["status"] == "down" and "60." in feed["detail"]
    assert ready.status_code == 200 and ready.json()["status"] == "up", ready.json()
    assert full.status_code == 503 and full.json()["components"]["feed"]["status"] == "down"

"""API unit-test fixtures: settings whose every service is at a port where nothing listens, and a stub
feed watcher, so the tests need no stack and show how the API behaves with its dependencies down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.settings import ApiSettings
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings

PASSWORD = "not-a-real-secret"


def closed_port() -> int:
    """A local port nothing listens on (bound by the OS for a moment, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StubFeedWatcher:
    """Stands in for the Kafka-backed watcher: reports `status` and records start/stop."""

    def __init__(self, status: dict[str, object] | None = None) -> None:
        self.status = status
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def last(self) -> dict[str, object] | None:
        return self.status


@pytest.fixture
def offline_settings() -> ApiSettings:
    database_port = closed_port()
    return ApiSettings(
        kafka=KafkaSettings(bootstrap=f"127.0.0.1:{closed_port()}", registry_url=f"http://127.0.0.1:{closed_port()}"),
        archive=ArchiveSettings(endpoint_url=f"http://127.0.0.1:{closed_port()}", bucket="offline-archive"),
        database_url=f"postgresql://tradestream:{PASSWORD}@127.0.0.1:{database_port}/tradestream",
        database_url_redacted=f"postgresql://tradestream:***@127.0.0.1:{database_port}/tradestream",
        database_wait_s=0.3,
    )


@pytest.fixture
def offline_client(offline_settings: ApiSettings) -> Iterator[TestClient]:
    """The API started with every dependency down."""
    with TestClient(app=create_app(offline_settings, feed_watcher=StubFeedWatcher())) as client:
        yield client

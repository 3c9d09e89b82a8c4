"""The API's PostgreSQL pool against the real database: requests share pooled connections, and an API
started while the database is unreachable serves it once it can be reached."""

from __future__ import annotations

import dataclasses
import select
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.users import ApiUser
from tradestream.commands.api import api_settings
from tradestream.config import Settings

from .conftest import eventually

pytestmark = pytest.mark.integration


def test_requests_share_pooled_connections(settings: Settings, api_user: ApiUser) -> None:
    # Health checked on every request here (no cache), so each readiness request takes a connection too.
    api = dataclasses.replace(api_settings(settings), pool_min_size=1, pool_max_size=3, health_cache_s=0)
    with TestClient(app=create_app(api)) as client:
        client.headers.update(api_user.headers)
        assert client.get("/api/scanners").status_code == 200
        pool = client.app.state.pool
        before = pool.get_stats()
        for path in ["/api/scanners", "/api/signals", "/api/metrics/latency", "/api/health/ready", "/metrics"] * 5:
            assert client.get(path).status_code in (200, 503), path  # ready may be 503 (no worker running)
        after = pool.get_stats()
    # Each request took a pooled connection, and each of the 15 to the routes of a user's data one more before,
    # to find the caller of its API token.
    assert after["requests_num"] - before["requests_num"] == 25 + 15
    assert after.get("connections_num", 0) == before.get("connections_num", 0)  # and none opened a new one
    assert after["pool_size"] <= 3


def test_validation_takes_no_pooled_connection(settings: Settings, api_user: ApiUser) -> None:
    """A scanner is validated before its request takes a connection: invalid ones never hold one (beyond the
    connection that found the caller, returned before the validation)."""
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(api_user.headers)
        pool = client.app.state.pool
        before = pool.get_stats().get("requests_num", 0)
        for _ in range(5):
            assert client.post("/api/scanners", json={"name": "x", "interval": "7x"}).status_code == 400
            assert client.put("/api/scanners/x", json={"name": "x", "interval": "7x"}).status_code == 400
        assert pool.get_stats().get("requests_num", 0) == before + 10


class _Forward(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Forwarder = self.server  # type: ignore[assignment]
        with socket.create_connection(server.target, timeout=5) as upstream:
            ends = {self.request: upstream, upstream: self.request}
            while not server.stopping.is_set():
                readable, _, _ = select.select(list(ends), [], [], 0.2)
                for end in readable:
                    data = end.recv(65536)
                    if not data:
                        return
                    ends[end].sendall(data)


class Forwarder(socketserver.ThreadingTCPServer):
    """Listens on a local port and pipes each connection to `target`: a database that can appear later."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, target: tuple[str, int]) -> None:
        super().__init__(("127.0.0.1", port), _Forward)
        self.target = target
        self.stopping = threading.Event()


@contextmanager
def forwarding(port: int, target: tuple[str, int]) -> Iterator[None]:
    server = Forwarder(port, target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_api_started_without_its_database_serves_once_it_is_reachable(settings: Settings, api_user: ApiUser) -> None:
    with socket.socket() as probe:  # a port nothing listens on, until the forwarder does
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    real = urlsplit(settings.database_url)
    via_port = real._replace(netloc=real.netloc.replace(f"{real.hostname}:{real.port}", f"127.0.0.1:{port}")).geturl()
    api = dataclasses.replace(api_settings(settings), database_url=via_port, database_wait_s=0.5)
    with TestClient(app=create_app(api)) as client:
        client.headers.update(api_user.headers)
        assert client.get("/api/health/live").status_code == 200
        assert client.get("/api/scanners").status_code == 503
        assert client.get("/metrics").status_code == 200
        with forwarding(port, (real.hostname, real.port)):
            eventually(lambda: client.get("/api/scanners").status_code == 200, timeout_s=30,
                       what="the pool connecting to the database that appeared")
            assert "tradestream_database_scrape_success 1.0" in client.get("/metrics").text

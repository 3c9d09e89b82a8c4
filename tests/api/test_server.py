"""The API as it runs (`tradestream api`, uvicorn in its own process): liveness keeps answering quickly while
a storm of the costliest valid scanners is being validated, and a request line too long for the server
is refused with a 4xx. Every service but the API and PostgreSQL (where the API finds the caller of each
validation by their API token) is down: none of this needs them."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.users import make_user
from tradestream.config import Settings

from .conftest import closed_port, largest_scanner

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LIVE_BOUND_S = 0.2
STORM = 30


def wait_until_live(url: str, process: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, f"the API exited with {process.returncode}"
        try:
            if httpx.get(f"{url}/api/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the API did not answer within {timeout_s} s"
        try:
            process.wait(timeout=0.1)  # between tries, watch for the API exiting (reported above)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture(scope="module")
def token() -> str:
    database_url = Settings.from_env().database_url
    return make_user(database_url, f"storm-{os.getpid()}-{time.monotonic_ns()}").token


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("api-home")
    port = closed_port()
    env = os.environ | {
        "TRADESTREAM_HOME": str(home), "API_HOST": "127.0.0.1", "API_PORT": str(port),
        "DATABASE_URL": Settings.from_env().database_url,
        "KAFKA_BOOTSTRAP": f"127.0.0.1:{closed_port()}", "SCHEMA_REGISTRY_URL": f"http://127.0.0.1:{closed_port()}",
        "S3_ENDPOINT_URL": f"http://127.0.0.1:{closed_port()}", "API_VALIDATION_WORKERS": "1",
        "API_VALIDATION_TIMEOUT_S": "5",
    }
    log = (home / "api.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "tradestream.cli", "api"], env=env, cwd=ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


async def storm(api_url: str, token: str) -> tuple[list[float], list[int]]:
    """STORM validations of the costliest valid scanner at once; liveness requested back to back meanwhile.
    The seconds each liveness answer took, and the validations' statuses."""
    body = json.dumps(largest_scanner()).encode()
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=STORM)
    async with httpx.AsyncClient(base_url=api_url, timeout=60, limits=limits) as storm_client, \
            httpx.AsyncClient(base_url=api_url, timeout=5) as live_client:
        # The validation worker is up before the storm (the first requests may wait for the fork server).
        deadline = time.monotonic() + 60
        while (await storm_client.post("/api/scanners/validate", content=body, headers=headers)).status_code != 200:
            assert time.monotonic() < deadline, "no validation worker within 60 s"
        requests = [asyncio.ensure_future(storm_client.post("/api/scanners/validate", content=body, headers=headers))
                    for _ in range(STORM)]
        live_s: list[float] = []
        while not all(request.done() for request in requests):
            started = time.perf_counter()
            response = await live_client.get("/api/health/live")
            live_s.append(time.perf_counter() - started)
            assert response.status_code == 200
        return live_s, [request.result().status_code for request in requests]


async def test_liveness_answers_within_200_ms_during_a_validation_storm(api_url: str, token: str) -> None:
    # Each validation takes half a second or more on the one worker: the storm lasts the wait limit (5 s),
    # the requests still waiting then are told to come back (503), and liveness answers all along. With
    # validation on the event loop the slowest answer took 1.3 s, with a thread 0.6 s (`api.validation`).
    # On a machine loaded by other programs a single answer can wait for the CPU whatever the API does:
    # the storm is repeated, up to 3 times, until one passes without a slow answer.
    slowest_ms = []
    for _ in range(3):
        live_s, statuses = await storm(api_url, token)
        assert len(live_s) >= 20, live_s
        assert set(statuses) <= {200, 503}, statuses
        slowest_ms.append(round(max(live_s) * 1000))
        if max(live_s) < LIVE_BOUND_S:
            return
    pytest.fail(f"the slowest liveness answer of each storm: {slowest_ms} ms, over {LIVE_BOUND_S * 1000:.0f} ms")


@pytest.mark.parametrize("length", [256, 10_000, 1_000_000])
def test_a_long_path_segment_is_refused_with_a_4xx(api_url: str, length: int) -> None:
    # Sent as raw bytes: httpx itself refuses URLs over 64 KiB.
    host, port = api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET /api/scanners/{'x' * length} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        status_line = connection.makefile("rb").readline()
    status = int(status_line.split()[1])
    assert 400 <= status < 500, status_line

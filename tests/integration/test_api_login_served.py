"""Log-in guesses sent at once to the API as it runs (`tradestream api`, uvicorn in its own process): each is
counted before its password is checked, so no more than the limit of them are ever checked, however many
arrive together."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.users import make_user
from tradestream.config import Settings

from .conftest import eventually

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
LIMIT = 3


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("login-api") / "api.log"
    env = os.environ | {"API_HOST": "127.0.0.1", "API_PORT": str(port), "API_LOGIN_FAILURES_PER_USER": str(LIMIT),
                        "API_LOGIN_FAILURES_PER_CLIENT": "1000"}
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "tradestream.cli", "api"], env=env, cwd=ROOT, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"

    def live() -> bool:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            return httpx.get(f"{url}/api/health/live", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        eventually(live, timeout_s=90, what="the API answering")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def test_guesses_sent_at_once_are_checked_up_to_the_limit(api_url: str, settings: Settings, unique: str) -> None:
    user = make_user(settings.database_url, f"guessed-{unique}")
    async with httpx.AsyncClient(base_url=api_url, timeout=60) as client:
        answers = await asyncio.gather(*(client.post("/api/auth/login", json={"name": user.name,
                                                                               "password": f"guess number {n}"})
                                         for n in range(10)))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [401] * LIMIT + [429] * (10 - LIMIT), statuses
        right = await client.post("/api/auth/login", json={"name": user.name, "password": user.password})
    assert right.status_code == 429  # the right password too, until the failures leave the window

"""The worker consumer's fetch wait (streams/faust_fetch.py) on a real Faust app and aiokafka consumer."""

from __future__ import annotations

import asyncio

import faust
import pytest

from streams import faust_fetch
from schemas.errors import ConfigError


def test_the_worker_consumer_is_created_with_the_configured_fetch_wait() -> None:
    async def scenario() -> tuple[int, int]:
        app = faust.App("fetch-wait-test", broker="kafka://localhost:1", store="memory://", web_enabled=False)
        faust_fetch.install(app, 100, 4096)
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        return consumer._fetch_max_wait_ms, consumer._fetch_min_bytes

    assert asyncio.run(scenario()) == (100, 4096)


@pytest.mark.parametrize("raw", ["0", "-5", "fast", "60001"])
def test_a_bad_fetch_wait_stops_start_up_naming_the_setting(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_FETCH_MAX_WAIT_MS", raw)
    with pytest.raises(ConfigError, match="WORKER_FETCH_MAX_WAIT_MS"):
        faust_fetch.configured_fetch_max_wait_ms()


@pytest.mark.parametrize("raw", ["0", "-1", "16k", "52428801"])
def test_a_bad_fetch_min_bytes_stops_start_up_naming_the_setting(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKER_FETCH_MIN_BYTES", raw)
    with pytest.raises(ConfigError, match="WORKER_FETCH_MIN_BYTES"):
        faust_fetch.configured_fetch_min_bytes()


def test_the_default_fetch_wait_and_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKER_FETCH_MAX_WAIT_MS", raising=False)
    monkeypatch.delenv("WORKER_FETCH_MIN_BYTES", raising=False)
    assert (faust_fetch.configured_fetch_max_wait_ms(), faust_fetch.configured_fetch_min_bytes()) == (20, 16_384)

"""The worker consumer's fetch wait (streams/faust_fetch.py) on a real Faust app and aiokafka consumer."""

from __future__ import annotations

import asyncio

import faust
import pytest

from streams import faust_fetch
from schemas.errors import ConfigError
from tradestream.config import Settings


def test_the_worker_consumer_is_created_with_the_configured_fetch_wait() -> None:
    async def scenario() -> tuple[int, int]:
        app = faust.App("fetch-wait-test", broker="kafka://localhost:1", store="memory://", web_enabled=False)
        faust_fetch.install(app, 100, 4096)
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        return consumer._fetch_max_wait_ms, consumer._fetch_min_bytes

    assert asyncio.run(scenario()) == (100, 4096)


def worker_settings(**variables: str):  # noqa: ANN201 - WorkerSettings
    return Settings.from_env({"TRADESTREAM_HOME": "/tmp/ts-home", "POSTGRES_PASSWORD": "x", **variables}).worker()


@pytest.mark.parametrize("raw", ["0", "-5", "fast", "60001"])
def test_a_bad_fetch_wait_stops_start_up_naming_the_setting(raw: str) -> None:
    with pytest.raises(ConfigError, match="WORKER_FETCH_MAX_WAIT_MS"):
        worker_settings(WORKER_FETCH_MAX_WAIT_MS=raw)


@pytest.mark.parametrize("raw", ["0", "-1", "16k", "52428801"])
def test_a_bad_fetch_min_bytes_stops_start_up_naming_the_setting(raw: str) -> None:
    with pytest.raises(ConfigError, match="WORKER_FETCH_MIN_BYTES"):
        worker_settings(WORKER_FETCH_MIN_BYTES=raw)


def test_the_default_fetch_wait_and_size() -> None:
    settings = worker_settings()
    assert (settings.fetch_max_wait_ms, settings.fetch_min_bytes) == (20, 16_384)


@pytest.mark.parametrize(("variable", "raw"), [("BAR_TIMEFRAMES", "5x"), ("BAR_LATENESS_MS", "-1"),
                                               ("BAR_SESSIONS", "lunch"), ("BAR_INPUT", "quotes")])
def test_a_bad_bars_stage_setting_stops_start_up_naming_it(variable: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        worker_settings(**{variable: raw})


def test_the_bars_stage_settings_from_the_environment() -> None:
    bars = worker_settings(BAR_TIMEFRAMES="1m, 5m", BAR_LATENESS_MS="0", BAR_SESSIONS="extended",
                           BAR_INPUT="batches").bars
    assert (bars.timeframes, bars.lateness_ns, bars.sessions, bars.input) == (("1m", "5m"), 0, "extended", "batches")

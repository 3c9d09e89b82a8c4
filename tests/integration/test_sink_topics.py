"""The sink started before its topics exist (a fresh deployment, a worker that creates them later): it
reports the missing topic, keeps running, and stores the records once the topic is there."""

from __future__ import annotations

import logging
import threading

import psycopg
import pytest

from connectors.kafka.publisher import EventPublisher
from connectors.kafka.codec import AvroCodec, register_all
from streams.sinks.postgres import PostgresSink
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually
from .test_sink_outage import bar

pytestmark = pytest.mark.integration


def test_a_topic_created_after_the_sink_started_is_stored(settings: Settings, unique: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    prefix = f"l{unique}."
    symbol = f"L{unique[:6]}".upper()
    codec = AvroCodec(settings.schema_registry_url)
    sink = PostgresSink(settings.sink(), codec, topics=[f"{prefix}bars"], group_id=f"sink-{unique}", batch_timeout_s=0.1)
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            sink.run(stop)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failure.append(exc)

    caplog.set_level(logging.WARNING, logger="streams.sinks.postgres")
    thread = threading.Thread(target=run, name="sink")
    thread.start()
    try:
        eventually(lambda: failure or any("not available" in r.getMessage() for r in caplog.records),
                   timeout_s=60, what="the sink reporting its missing topic")
        assert not failure, f"the sink stopped: {failure[0]!r}"
        ensure_topics(settings, prefix=prefix)
        register_all(settings.schema_registry_url, prefix=prefix)
        publisher = EventPublisher(settings.kafka(prefix), codec, f"late-{unique}")
        for i in range(20):
            publisher.publish(f"{prefix}bars", symbol, bar(symbol, i))
        assert publisher.flush() == 0

        def stored() -> int:
            with psycopg.connect(settings.database_url) as conn:
                return conn.execute("select count(*) from bars where symbol = %s", (symbol,)).fetchone()[0]

        eventually(lambda: failure or stored() == 20, timeout_s=90, what="the 20 bars stored")
        assert not failure, f"the sink stopped: {failure[0]!r}"
    finally:
        stop.set()
        thread.join(timeout=60)
    assert sink.stats.rows == 20

"""The API's feed watcher against the real broker: it never gives up on a topic that is not there yet."""

from __future__ import annotations

import time

import pytest

from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.feedwatch import FeedStatusWatcher
from connectors.kafka.publisher import EventPublisher
from processors.model import FeedStatusChanged
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually

pytestmark = pytest.mark.integration


def status(feed: str) -> FeedStatusChanged:
    return FeedStatusChanged(feed=feed, ts_init=time.time_ns(), connected=True, active=True,
                             subscribed_symbols=("SPY",), messages_per_second=1.0, last_latency_ns=None,
                             event="heartbeat", detail="test")


def test_the_watcher_follows_a_topic_created_after_it_started(settings: Settings, unique: str) -> None:
    prefix = f"w{unique}."
    kafka = settings.kafka(prefix)
    codec = AvroCodec(settings.schema_registry_url)
    watcher = FeedStatusWatcher(kafka, codec, retry_initial_s=0.1, retry_max_s=0.2)
    watcher.start()
    try:
        eventually(lambda: watcher.attempts >= 2, timeout_s=20, what="a second attempt after the missing topic")
        assert watcher.last() is None
        ensure_topics(settings, prefix=prefix)
        register_all(settings.schema_registry_url, prefix=prefix)
        eventually(watcher.following.is_set, timeout_s=20, what="the watcher following the new topic")
        publisher = EventPublisher(kafka, codec, f"watch-{unique}")
        publisher.publish(kafka.topic("feed.status"), "simulated", status("simulated"))
        assert publisher.flush() == 0
        report = eventually(watcher.last, timeout_s=20, what="the feed's report")
        assert report["feed"] == "simulated"
    finally:
        watcher.stop()


def test_the_watcher_keeps_trying_while_the_broker_is_unreachable(settings: Settings, unique: str) -> None:
    kafka = settings.kafka(f"w{unique}.")
    unreachable = type(kafka)(bootstrap="127.0.0.1:1", registry_url=kafka.registry_url,
                              partitions=kafka.partitions, topic_prefix=kafka.topic_prefix)
    watcher = FeedStatusWatcher(unreachable, AvroCodec(settings.schema_registry_url), retry_initial_s=0.05,
                                retry_max_s=0.1)
    watcher.start()
    try:
        eventually(lambda: watcher.attempts >= 3, timeout_s=60, what="three attempts against a closed port")
        assert watcher._thread.is_alive() and not watcher.following.is_set()
    finally:
        watcher.stop()

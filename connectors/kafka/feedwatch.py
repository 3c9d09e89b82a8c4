"""Follows the feed-status topic in a background thread so the API (and anything else) knows each feed's
last report.

The watcher never gives up: when Kafka is unreachable at start, the topic does not exist yet, or the
consumer fails later, it logs the cause and starts again after a back-off (1 s doubling to 30 s), so
health recovers by itself once the broker or the first feed is there.

Besides each feed's last report (`last`, for the health check) it keeps a `processors.feed_state.FeedBoard` of
them (`overview`, for the dashboard's feed card: primary or fail-over, the last switch). It starts LOOKBACK_RECORDS
before the end of the topic's one partition, so every feed of a pair and a recent fail-over are known at once.
"""

from __future__ import annotations

import logging
import threading

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from processors.feed_state import FeedBoard
from schemas.errors import DecodeError

log = logging.getLogger(__name__)

GROUP = "tradestream-api-feedwatch"
RETRY_INITIAL_S = 1.0
RETRY_MAX_S = 30.0
LOOKBACK_RECORDS = 500  # a few minutes of two feeds' heartbeats


class FeedStatusWatcher:
    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, retry_initial_s: float = RETRY_INITIAL_S,
                 retry_max_s: float = RETRY_MAX_S) -> None:
        self.kafka = kafka
        self.codec = codec
        self.topic = kafka.topic("feed.status")
        self.latest: dict[str, dict[str, object]] = {}
        self.board = FeedBoard()
        self.attempts = 0
        """How many times the watcher has (re)started following the topic."""
        self.following = threading.Event()
        """Set while the watcher is assigned to the topic's partitions."""
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Follow the topic in a new thread (again after `stop`: an app's lifespan may run more than once)."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="feed-status-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def last(self) -> dict[str, object] | None:
        """The most recent report of any feed (the active one wins when several report)."""
        with self._lock:
            reports = list(self.latest.values())
        if not reports:
            return None
        active = [r for r in reports if r["active"]] or reports
        return max(active, key=lambda r: int(r["ts_init"]))

    def overview(self, now_ns: int, stale_after_ns: int) -> dict[str, object]:
        """The feeds' state at `now_ns` (`processors.feed_state.FeedBoard.overview`)."""
        with self._lock:
            return self.board.overview(now_ns, stale_after_ns)

    def _run(self) -> None:
        backoff = self.retry_initial_s
        while not self._stop.is_set():
            self.attempts += 1
            try:
                if self._follow():
                    backoff = self.retry_initial_s  # it followed the topic: a later failure starts afresh
            except KafkaException as exc:
                log.warning("topic=%s feed watcher: %s; retrying in %.0f s", self.topic, exc.args[0].str(), backoff)
            finally:
                self.following.clear()
            if self._stop.wait(backoff):
                return
            backoff = min(backoff * 2, self.retry_max_s)

    def _follow(self) -> bool:
        """Follow the topic from each partition's last report until stopped; False when it does not exist."""
        consumer = Consumer(consumer_config(self.kafka, GROUP, **{"socket.timeout.ms": 5000}))
        try:
            partitions = []
            for partition in partitions_of(consumer, self.topic, timeout_s=5):
                low, high = consumer.get_watermark_offsets(TopicPartition(self.topic, partition), timeout=5)
                # Start shortly before the last report so the health and every feed's state are known at once.
                partitions.append(TopicPartition(self.topic, partition,
                                                 max(low, high - LOOKBACK_RECORDS) if high > low else OFFSET_END))
            if not partitions:
                log.warning("topic=%s not found yet; feed health stays unknown until it exists", self.topic)
                return False
            consumer.assign(partitions)
            self.following.set()
            while not self._stop.is_set():
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    if message.error().fatal():
                        raise KafkaException(message.error())
                    if message.error().code() != KafkaError._PARTITION_EOF:
                        log.warning("topic=%s error=%s", self.topic, message.error().str())
                    continue
                self._apply(message)
            return True
        finally:
            consumer.close()

    def _apply(self, message) -> None:  # noqa: ANN001 - a confluent_kafka Message
        try:
            _, value, _ = self.codec.decode_record(message.value(), "FeedStatusChanged")
        except DecodeError as exc:
            log.warning("topic=%s offset=%d not a feed status: %s", self.topic, message.offset(), exc)
            return
        with self._lock:
            self.latest[str(value["feed"])] = value
            self.board.update(value)

"""The Faust application: settings, the shared codec and dead-letter sender, and the stages.

Agents consume raw bytes and decode inside the agent (Faust's own value codec would commit an
undecodable record silently); anything that cannot be processed goes to the dead-letter topic with
the reason and the original bytes. State lives in Faust tables with changelog topics, never in
module globals, so a restarted worker resumes where the last one stopped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import faust

from processors.latency import LatencyWindows
from connectors.kafka.codec import AvroCodec
from connectors.kafka.deadletter import dead_letter
from streams import faust_fetch, faust_recovery
from connectors.kafka.settings import KafkaSettings
from streams.settings import WorkerSettings
from schemas.errors import DecodeError

log = logging.getLogger(__name__)

WORKER_GROUP = "tradestream-worker"
PRODUCER_BATCH_BYTES = 1_000_000


async def produce(app: faust.App, topic: str, key: bytes | None, value: bytes | None, partition: int | None = None,
                  headers: list[tuple[str, bytes]] | None = None) -> Awaitable:
    """Hand one record to the app's Kafka producer; returns its delivery future.

    Faust's `Topic.send` gets the producer through `maybe_start_producer`, whose stampede guard yields
    to the event loop three times per record. The producer's sender task runs in those turns and sends
    what has been appended so far, so a stage writing a few hundred records in a batch made as many
    produce requests, one or two records each. Appended here without a turn of the loop, a batch's
    records leave in one request per partition. Offsets are still committed only after a producer
    flush (Faust flushes before every commit), which covers these records as well.
    """
    return await app.producer.send(topic, key, value, partition=partition, timestamp=None, headers=headers)


@dataclass(frozen=True, slots=True)
class OutputTopic:
    """A topic a stage writes typed events to (Avro under the topic's subject)."""

    app: faust.App
    name: str
    codec: AvroCodec

    async def send(self, key: bytes | None, value: object, headers: dict[str, bytes] | None = None) -> Awaitable:
        return await produce(self.app, self.name, key, self.codec.encode(self.name, value),
                             headers=list(headers.items()) if headers else None)


@dataclass(slots=True)
class StageContext:
    """What every stage needs: the app, settings, codec and the dead-letter sender."""

    app: faust.App
    settings: WorkerSettings
    codec: AvroCodec
    deadletter_topic: OutputTopic
    latency_topic: OutputTopic | None = None

    def topic(self, name: str) -> faust.types.TopicT:
        """A catalogue topic read as raw bytes (decode inside the agent, dead-letter what fails)."""
        return self.app.topic(self.settings.kafka.topic(name), key_serializer="raw", value_serializer="raw")

    def output_topic(self, name: str) -> OutputTopic:
        """A catalogue topic written with typed events, Avro-encoded in the Confluent wire format."""
        return OutputTopic(self.app, self.settings.kafka.topic(name), self.codec)

    async def decode(self, event: faust.types.EventT, stage: str, expected: type) -> Any | None:
        """The event's value, an `expected` record; None once it is dead-lettered (undecodable bytes, or
        another record type on the topic)."""
        try:  # another record type is refused by name, before its body is read (UnexpectedRecordError)
            return self.codec.decode(event.value, expect=expected.__name__)
        except DecodeError as exc:
            await self.dead_letter(event, stage, type(exc).__name__, str(exc))
            return None

    async def dead_letter(self, event: faust.types.EventT, stage: str, error_class: str, reason: str,
                          source_index: int = -1) -> None:
        message = event.message
        letter, headers = dead_letter(stage=stage, topic=message.topic, partition=message.partition,
                                      offset=message.offset, key=message.key, value=message.value,
                                      error_class=error_class, reason=reason, source_index=source_index)
        await self.deadletter_topic.send(key=message.key, value=letter, headers=dict(headers))


# Wall-clock hops outside [0, 1 h] come from replayed or simulated history, where the event's own
# times are not wall-clock times: they are not latencies and are left out.
MAX_PLAUSIBLE_LATENCY_NS = 3_600 * 1_000_000_000


def record_latency(windows: LatencyWindows, feed: str, symbol: str, hop: str, latency_ns: int, now_ns: int) -> None:
    if 0 <= latency_ns <= MAX_PLAUSIBLE_LATENCY_NS:
        windows.record(feed, symbol, hop, latency_ns, now_ns)


async def publish_latency(context: StageContext, windows: LatencyWindows) -> None:
    """Send the windows' percentiles to the latency topic (key feed/symbol)."""
    topic = context.latency_topic
    for measured in windows.snapshot(time.time_ns()):
        await topic.send(key=f"{measured.feed}/{measured.symbol}".encode(), value=measured)


class StageRuntime:
    """What every stateful stage sets up the same way: its state table, its latency windows reported
    every 5 s, and a rebalance flag. A rebalance only marks the flag: a batch may be half applied, so
    the agent drops its cache after writing that batch's state and reloads symbols from the table."""

    def __init__(self, context: StageContext, table_name: str) -> None:
        app = context.app
        self.table = app.Table(table_name, default=None, partitions=context.settings.kafka.partitions,
                               schema=faust.Schema(key_serializer="json", value_serializer="json"))
        self.latency = LatencyWindows()
        self.rebalance_pending = False

        @app.timer(interval=5.0, name=f"{table_name}-latency")
        async def report_latency() -> None:
            await publish_latency(context, self.latency)

        @app.on_partitions_revoked.connect
        async def on_revoked(app_, revoked, **kwargs) -> None:  # noqa: ANN001 - Faust signal signature
            self.rebalance_pending = True

    def after_batch(self, forget: Callable[[], None]) -> None:
        if self.rebalance_pending:
            forget()
            self.rebalance_pending = False


async def write_state(table: faust.Table, key: str, value: object, partition: int) -> Awaitable:
    """Set a table entry and send its changelog record to `partition` (the source event's partition).

    Assigning `table[key]` picks the partition from Faust's "current event", which a batch
    (`take_events`) does not track per event; naming the partition keeps the changelog co-partitioned
    with the input topic, so a restarted worker recovers each symbol's state with its partition.
    Returns the changelog record's delivery future, for `fail_stop_on_loss`.
    """
    table.data[key] = value
    return await send_changelog(table, partition, key, value)


async def delete_state(table: faust.Table, key: str, partition: int) -> Awaitable:
    """Remove a table entry: a tombstone (null value) in its changelog partition, as Faust's own delete."""
    table.data.pop(key, None)
    return await send_changelog(table, partition, key, None)


async def send_changelog(table: faust.Table, partition: int, key: str, value: object) -> Awaitable:
    """A changelog record handed straight to the producer (`produce`), in the table's JSON key and value
    encoding (None: a tombstone); its delivery future is returned.

    Faust's own `send_changelog` goes through its producer buffer, a queue drained one message per
    event-loop turn. Past 100 pending messages Faust holds every stream until the buffer drains ("producer
    buffer full"). A stage that writes a few state entries for each of many symbols per batch
    stays past that mark under load. (Faust's callback on a changelog delivery records the offset in a
    persistent store; the worker's tables are in memory and rebuilt from the changelog, so there is none.)
    """
    return await produce(table.app, table.changelog_topic.get_topic_name(), json.dumps(key).encode(),
                         None if value is None else json.dumps(value).encode(), partition)


def fail_stop_on_loss(futures: list[Awaitable]) -> None:
    """Watch changelog deliveries that the stage does not wait for.

    A stage hands its state records to the producer and lets its batch be acknowledged without waiting
    for them. This is safe because Faust flushes the producer (waits for every record handed to it)
    before it commits any offset. What a flush cannot do is undo a record that failed. So a failed or
    cancelled delivery ends the process at once (exit status 70), before a later commit can cover it.
    The restart then recovers as after a crash: from the changelog and the last committed offsets.
    """
    def check(future: asyncio.Future) -> None:
        if future.cancelled() or future.exception() is not None:
            reason = "cancelled" if future.cancelled() else repr(future.exception())
            log.critical("a state changelog record was not delivered (%s): stopping now so that no offset "
                         "after it is committed; a restart recovers from the changelog", reason)
            logging.shutdown()
            os._exit(70)

    for future in futures:
        future.add_done_callback(check)  # type: ignore[attr-defined]


def broker_credentials(kafka: KafkaSettings) -> faust.types.auth.CredentialsT | None:
    """Faust's credentials for the Kafka section's connection (None on PLAINTEXT)."""
    context = kafka.ssl_context()
    if kafka.sasl:
        return faust.SASLCredentials(username=kafka.sasl_username, password=kafka.sasl_password,
                                     mechanism=kafka.sasl_mechanism, ssl_context=context)
    return faust.SSLCredentials(context) if context is not None else None


def create_app(settings: WorkerSettings, app_id: str = WORKER_GROUP) -> tuple[faust.App, StageContext]:
    datadir = settings.data_dir / app_id
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        app_id,
        broker=f"kafka://{settings.kafka.bootstrap}",
        broker_credentials=broker_credentials(settings.kafka),
        store="memory://",  # tables are rebuilt from their changelog topics on start
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.kafka.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        # The exactly-once effect comes from idempotent keys and sink upserts (see the README); stages send
        # through `produce`, outside Faust's transactions.
        processing_guarantee="at_least_once",
        broker_commit_every=1000,
        broker_commit_interval=1.0,
        web_enabled=False,
        stream_buffer_maxsize=16384,
        broker_max_poll_records=5000,
        # A stage appends a whole batch's state records at once: with aiokafka's 16 KB default a
        # partition's batch fills, and every further record waits for a broker round trip (one request
        # in flight per broker). Below the broker's 1 MiB message.max.bytes.
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        table_standby_replicas=0,
        datadir=str(datadir),
    )
    faust_recovery.install(app)  # stream partitions stay paused until recovery has sought them
    faust_fetch.install(app, settings.fetch_max_wait_ms, settings.fetch_min_bytes)
    context = StageContext(app, settings, AvroCodec(settings.kafka.registry_config()), None)  # type: ignore[arg-type]
    context.deadletter_topic = context.output_topic("deadletter")
    context.latency_topic = context.output_topic("metrics.latency")
    return app, context

"""The PostgreSQL/TimescaleDB sink: Kafka topics to tables, in batches, idempotent, at least once.

For each batch polled from Kafka: decode every record (undecodable ones go to the dead-letter topic
with the reason and original bytes), write the rows, commit the database transaction, and only then
commit the Kafka offsets. Rows of insert-only tables (ticks, snapshots, signals...) are COPied straight
into their table under a savepoint; when a natural key is already stored (a redelivery after a crash,
a replay) the savepoint is rolled back and the batch goes the upsert way: COPY into a temporary
staging table, then INSERT ... ON CONFLICT on the natural key. Tables whose rows can be corrected
(bars, latency windows) always upsert; trades keep each trade's highest version (an older version
never replaces a newer one). When the database is down the sink pauses its partitions, keeps its group membership
alive and retries with exponential backoff; nothing is acknowledged before it is stored, and a
replay of already stored records changes nothing.
"""

from __future__ import annotations

import logging
import struct
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config
from connectors.kafka.deadletter import dead_letter
from processors.model import TradeTickBatch
from schemas.errors import DataError, DecodeError
from schemas.topics import entry_of
from streams.settings import SinkSettings
from streams.sinks.rows import TABLES, Table, TextArray, trade_batch_rows, upsert_sql

log = logging.getLogger(__name__)

SINK_GROUP = "tradestream-sink"
SINK_TOPICS = ("ticks.trades", "ticks.batches", "ticks.quotes", "bars", "indicators", "signals", "signals.suppressed",
               "orders.intents", "risk.decisions", "orders.events", "fills", "trades", "accounts", "risk.overnight",
               "settings", "feed.status", "metrics.latency", "deadletter")


@dataclass(slots=True)
class SinkStats:
    batches: int = 0
    rows: int = 0
    dead_letters: int = 0
    retries: int = 0
    copied: int = 0  # table batches COPied straight into their table (no key stored before)
    upserted: int = 0  # table batches upserted through staging
    last_commit_monotonic: float = 0.0


def _format(table: Table) -> str:
    return " (format binary)" if table.binary else ""


class TextArrayBinaryDumper(Dumper):
    """text[] in PostgreSQL's binary array format, for a TextArray (sale conditions). psycopg's list
    dumper works in Python for every row; a feed uses few distinct condition lists, so each is encoded
    once and kept (up to 4,096)."""

    format = Format.BINARY
    oid = 1009  # text[]
    _encoded: dict[tuple[str, ...], bytes] = {}

    def dump(self, obj: tuple[str, ...]) -> bytes:
        encoded = self._encoded.get(obj)
        if encoded is None:
            # ndim, has-nulls flag, element type (text); then the dimension's length and lower bound.
            parts = [struct.pack(">iiiii", 1, 0, 25, len(obj), 1) if obj else struct.pack(">iii", 0, 0, 25)]
            for item in obj:
                data = item.encode()
                parts += [struct.pack(">i", len(data)), data]
            encoded = b"".join(parts)
            if len(self._encoded) < 4096:
                self._encoded[tuple(obj)] = encoded
        return encoded


class EpochNanos:
    """Marks the binary timestamptz dumper below; rows carry plain ints (it is never instantiated)."""


class EpochNanosTimestamptzDumper(Dumper):
    """timestamptz in PostgreSQL's binary format (microseconds since 2000-01-01 UTC) from integer
    nanoseconds since the Unix epoch, truncated to the microsecond as `rows.ts` does.

    Registered on the sink's own connection for the EpochNanos marker type. A binary COPY whose types
    are set picks its dumpers by type oid, so it uses this dumper for a timestamptz column whatever the
    Python type of the values: the rows hold the events' nanoseconds, no datetime objects.
    """

    format = Format.BINARY
    oid = 1184  # timestamptz

    def dump(self, obj: int) -> bytes:
        return _INT8.pack(obj // 1000 - _PG_EPOCH_US)


_INT8 = struct.Struct(">q")
_PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00:00Z in microseconds since the Unix epoch


def records(messages: Sequence[Message]) -> list[Message]:
    """The records among what `consume` returned. A fatal client error stops the sink; any other error
    is an event that librdkafka recovers from by itself (a subscribed topic not created yet, a broker
    connection lost), logged and left out: it carries no record and no offset to commit."""
    kept = []
    for message in messages:
        error = message.error()
        if error is None:
            kept.append(message)
        elif error.fatal():
            raise KafkaException(error)
        else:
            log.warning("sink consumer: %s (the client retries)", error.str())
    return kept


class PostgresSink:
    def __init__(self, settings: SinkSettings, codec: AvroCodec, topics: Sequence[str] | None = None,
                 group_id: str = SINK_GROUP, batch_size: int = 5000, batch_timeout_s: float = 0.25,
                 max_backoff_s: float = 5.0) -> None:
        self.settings = settings
        self.codec = codec
        self.topics = list(topics or [settings.kafka.topic(name) for name in SINK_TOPICS])
        self.group_id = group_id
        self.batch_size = batch_size
        self.batch_timeout_s = batch_timeout_s
        self.max_backoff_s = max_backoff_s
        self.stats = SinkStats()
        self._records: dict[str, str] = {}
        self.deadletter_topic = settings.kafka.topic("deadletter")
        self._conn: psycopg.Connection | None = None
        self._staging: set[str] = set()  # staging tables created on the current connection
        self._producer = Producer(settings.kafka.client_config(**{"acks": "all", "enable.idempotence": True}))

    # -- database ------------------------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.settings.database_url, connect_timeout=5)
            self._conn.adapters.register_dumper(TextArray, TextArrayBinaryDumper)
            self._conn.adapters.register_dumper(EpochNanos, EpochNanosTimestamptzDumper)
            self._staging = set()  # temporary tables live as long as their connection
        return self._conn

    def write(self, rows: dict[str, list[tuple]]) -> int:
        """Store rows (by record name) in one transaction, idempotently; returns the number of rows written."""
        conn = self._connection()
        written = 0
        try:
            with conn.transaction():
                for record, batch in rows.items():
                    if not batch:
                        continue
                    table = TABLES[record]
                    if not table.update_on_conflict and self._copy_new(conn, table, batch):
                        self.stats.copied += 1
                    else:
                        self._stage(conn, table, batch)
                        conn.execute(upsert_sql(table))
                        self.stats.upserted += 1
                    written += len(batch)
        except BaseException:
            self._staging.clear()  # a staging table created in the rolled-back transaction is gone
            raise
        return written

    @staticmethod
    def _copy_new(conn: psycopg.Connection, table: Table, batch: list[tuple]) -> bool:
        """COPY the rows straight into the table; False (nothing written) if a natural key is already
        stored or repeats within the batch. About half the database CPU of the staged upsert."""
        cols = ", ".join(f'"{c}"' for c in table.columns)
        try:
            with conn.transaction():  # a savepoint: a key violation undoes only this COPY
                with conn.cursor().copy(f"copy {table.name} ({cols}) from stdin{_format(table)}") as copy:
                    if table.binary:
                        copy.set_types(table.binary)
                    for row in batch:
                        copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            return False
        return True

    def _stage(self, conn: psycopg.Connection, table: Table, batch: list[tuple]) -> None:
        if table.name not in self._staging:
            conn.execute(f"create temp table if not exists staging_{table.name} "
                         f"(like {table.name} including defaults) on commit delete rows")
            conn.execute(f"alter table staging_{table.name} add column if not exists _seq integer")
            self._staging.add(table.name)
        cols = ", ".join(f'"{c}"' for c in table.columns)
        with conn.cursor().copy(f"copy staging_{table.name} ({cols}, _seq) from stdin{_format(table)}") as copy:
            if table.binary:
                copy.set_types([*table.binary, "int4"])
            for seq, row in enumerate(batch):
                copy.write_row((*row, seq))

    # -- kafka ----------------------------------------------------------------------------------------
    def _dead_letter(self, message: Message, reason: str, error_class: str, source_index: int = -1) -> None:
        letter, headers = dead_letter(stage="sink", topic=message.topic(), partition=message.partition(),
                                      offset=message.offset(), key=message.key(), value=message.value(),
                                      error_class=error_class, reason=reason, source_index=source_index)
        self._producer.produce(self.deadletter_topic, key=message.key(),
                               value=self.codec.encode(self.deadletter_topic, letter), headers=headers)
        self.stats.dead_letters += 1

    def rows_of(self, messages: Sequence[Message]) -> dict[str, list[tuple]]:
        rows: dict[str, list[tuple]] = defaultdict(list)
        for message in messages:
            try:
                record, value, _ = self.codec.decode_record(message.value(), self._expected(message.topic()))
                if record == "TradeTickBatch":
                    self._batch_rows(message, value, rows["TradeTick"])
                    continue
                table = TABLES.get(record)
                if table is None:
                    raise DecodeError(f"no table for record {record}")
                rows[record].append(table.row(value))
            except (DecodeError, DataError) as exc:
                self._dead_letter(message, str(exc), type(exc).__name__)
        return rows

    def _expected(self, topic: str) -> str | None:
        """The record type the topic's catalogue entry allows (None: a topic outside the catalogue)."""
        expected = self._records.get(topic)
        if expected is None:
            entry = entry_of(topic)
            expected = self._records[topic] = entry.schema if entry else ""
        return expected or None

    def _batch_rows(self, message: Message, batch: dict, rows: list[tuple]) -> None:
        """A multi-record batch becomes one trade_ticks row per print; an implausible print is dead-lettered
        (the letter names its index and carries the whole record) and the others are kept."""
        new, refused = trade_batch_rows(TradeTickBatch(**batch))
        rows += new
        for index, exc in refused:
            self._dead_letter(message, f"print {index} of the batch: {exc}", type(exc).__name__, index)

    def run(self, stop: threading.Event) -> None:
        consumer = Consumer(consumer_config(self.settings.kafka, self.group_id, **{
            "auto.offset.reset": "earliest", "isolation.level": "read_committed", "max.poll.interval.ms": 600_000,
            "log_level": 6}))
        consumer.subscribe(self.topics)
        log.info("sink group=%s topics=%s", self.group_id, ",".join(self.topics))
        try:
            while not stop.is_set():
                messages = records(consumer.consume(self.batch_size, self.batch_timeout_s))
                if not messages:
                    continue
                rows = self.rows_of(messages)
                self._producer.flush(30)  # dead letters are durable before their offsets are committed
                written = self._write_with_retry(consumer, rows, stop)
                if written is None:  # stopping while the database is down: nothing committed
                    break
                offsets: dict[tuple[str, int], int] = {}
                for message in messages:
                    offsets[(message.topic(), message.partition())] = message.offset() + 1
                try:
                    consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                                    asynchronous=False)
                except KafkaException as exc:
                    # A rebalance moved a partition away: its records come again to the new owner,
                    # whose upserts make the repeat harmless.
                    log.warning("sink offset commit failed (%s); records will be re-delivered", exc)
                self.stats.batches += 1
                self.stats.rows += written
                self.stats.last_commit_monotonic = time.monotonic()
        finally:
            consumer.close()
            if self._conn is not None:
                self._conn.close()

    def _write_with_retry(self, consumer: Consumer, rows: dict[str, list[tuple]],
                          stop: threading.Event) -> int | None:
        backoff = 0.25
        paused = False
        try:
            while True:
                try:
                    return self.write(rows)
                except psycopg.OperationalError as exc:
                    self.stats.retries += 1
                    if self._conn is not None:
                        self._conn.close()
                    if not paused:
                        consumer.pause(consumer.assignment())
                        paused = True
                    log.warning("sink: database unavailable (%s); retrying in %.2f s", type(exc).__name__, backoff)
                    deadline = time.monotonic() + backoff
                    while time.monotonic() < deadline:
                        if stop.is_set():
                            return None
                        consumer.poll(0.1)  # keeps the group membership alive; paused: returns nothing
                    backoff = min(backoff * 2, self.max_backoff_s)
        finally:
            if paused:
                consumer.resume(consumer.assignment())

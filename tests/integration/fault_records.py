"""The bad records of the fault suite, published on the trades topic, and the dead letters each must
become (read from PostgreSQL's `dead_letters`, where the sink stores the dead-letter topic).

- poison: the Confluent header with the id of a registered primitive schema ("string") and a string
  body: valid Avro, not an event. Every consumer of the topic dead-letters it as a DecodeError.
- forged record type: a valid `Bar` record (encoded under the bars topic's subject). The bars stage,
  the sink and the strategy runner each dead-letter it as an unexpected record; it is never stored.
- future-dated print: a well-formed TradeTick of a real symbol whose event time is 24 h after its
  arrival (`ts_init` = now, `ts_event` = now + 24 h). The bars stage and the strategy runner dead-letter
  it as ImplausibleEventTime before it touches their state; the sink stores the print as it arrived
  (trade_ticks is the raw record of what came in, not a judgement of it).
"""

from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from confluent_kafka import KafkaError, Message, Producer
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings
from processors.model import Bar, TradeTick

DAY_NS = 24 * 3600 * 10**9
BARS_STAGE = "bars"
SINK_STAGE = "sink"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a record landed."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class ExpectedLetters:
    """The stages that must dead-letter the record at `location`, each with the error classes it may give."""

    location: Location
    classes_by_stage: dict[str, frozenset[str]]

    def met_by(self, letters: dict[str, str]) -> bool:
        return all(letters.get(stage) in classes for stage, classes in self.classes_by_stage.items())


def produce_raw(kafka: KafkaSettings, topic: str, key: str, value: bytes) -> Location:
    """Publish `value` as it is (no codec) and return where it landed."""
    landed: list[Message] = []

    def delivered(error: KafkaError | None, message: Message) -> None:
        assert error is None, f"delivery of a bad record failed: {error}"
        landed.append(message)

    producer = Producer(kafka.client_config(**{"acks": "all", "enable.idempotence": True}))
    producer.produce(topic, key=key.encode(), value=value, on_delivery=delivered)
    assert producer.flush(30) == 0 and landed, "a bad record was not delivered"
    return Location(topic, landed[0].partition(), landed[0].offset())


def primitive_schema_id(registry: SchemaRegistryClient, subject: str) -> int:
    """The id of the primitive schema "string", registered under a subject of the suite's own."""
    return registry.register_schema(subject, Schema('"string"', "AVRO"))


def poison_record(schema_id: int) -> bytes:
    """Magic byte, the primitive schema's id, then an Avro string ("poison")."""
    return struct.pack(">bI", 0, schema_id) + b"\x0cpoison"


def forged_bar(codec: AvroCodec, bars_topic: str, symbol: str, start_ns: int) -> bytes:
    """A valid Bar record, encoded with the bars topic's schema id, to be published on the trades topic."""
    price = Decimal("100.00")
    bar = Bar(symbol=symbol, timeframe="1m", session="regular", start=start_ns, end=start_ns + 60 * 10**9,
              open=price, high=price, low=price, close=price, volume=100, vwap=price, trades=1, ts_init=start_ns)
    return codec.encode(bars_topic, bar)


def future_tick(codec: AvroCodec, trades_topic: str, symbol: str, price: Decimal) -> tuple[bytes, str]:
    """A well-formed print dated 24 h after its arrival (now); returns the record and its trade id."""
    now = time.time_ns()
    trade_id = f"future-{now}"
    tick = TradeTick(symbol=symbol, ts_event=now + DAY_NS, ts_init=now, price=price, size=100, feed="faults",
                     trade_id=trade_id)
    return codec.encode(trades_topic, tick), trade_id


def dead_letters_at(database_url: str, location: Location) -> dict[str, str]:
    """The stored dead letters of one source record: error class by stage."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("select stage, error_class from dead_letters where source_topic = %s "
                            "and source_partition = %s and source_offset = %s",
                            (location.topic, location.partition, location.offset)).fetchall()
    return dict(rows)


def stray_dead_letters(database_url: str, topic: str, symbols: list[str], bad: list[Location]) -> int:
    """Dead letters of the suite's own good prints: any letter from the trades topic keyed by one of its
    symbols that is not one of the bad records."""
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        rows = conn.execute("select source_partition, source_offset from dead_letters where source_topic = %s "
                            "and key = any(%s)", (topic, [s.encode() for s in symbols])).fetchall()
    known = {(location.partition, location.offset) for location in bad}
    return sum(1 for partition, offset in rows if (partition, offset) not in known)

"""The fault suite's table, and the count of records Kafka carries more than once for one id.

Kafka duplicates are counted where an id makes them checkable: prints (symbol, trade id) on the
trades topic, signals and suppressed signals (signal id), order intents (client order id). Each copy
after the first is a duplicate, charged to the phase whose wall-clock span holds its Kafka timestamp.
Bars, snapshots and dead letters are re-sent after a crash by design (same key, upserted) and are
not counted.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config, partitions_of
from connectors.kafka.settings import KafkaSettings
from schemas.errors import DecodeError

IDS: dict[str, Callable[[dict], object]] = {
    "ticks.trades": lambda v: (v["symbol"], v["trade_id"]) if v.get("trade_id") else None,  # not a Bar
    "signals": lambda v: v["signal_id"],
    "signals.suppressed": lambda v: v["signal_id"],
    "orders.intents": lambda v: v["client_order_id"],
}


@dataclass(slots=True)
class Outcome:
    """One row of the table."""

    fault: str
    recovered_s: float | None = None  # None: not caught up within the deadline
    lost: int = 0
    duplicated: int = 0
    detail: str = ""

    def note(self, text: str) -> None:
        self.detail = f"{self.detail}; {text}" if self.detail else text

    @property
    def passed(self) -> bool:
        return self.recovered_s is not None and self.lost == 0 and self.duplicated == 0


def render(outcomes: Sequence[Outcome], notes: Sequence[str] = ()) -> str:
    header = ("fault", "recovered", "lost", "duplicated", "detail")
    rows = [(o.fault, "no" if o.recovered_s is None else f"yes {o.recovered_s:5.1f} s", str(o.lost),
             str(o.duplicated), o.detail) for o in outcomes]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "+".join("-" * (w + 2) for w in widths)
    text = [f"| {' | '.join(h.ljust(w) for h, w in zip(header, widths))} |", f"|{line}|"]
    text += [f"| {' | '.join(c.ljust(w) for c, w in zip(row, widths))} |" for row in rows]
    return "\n".join([*text, *notes])


def _records(kafka: KafkaSettings, topic: str) -> Iterator[Message]:
    """Every record of `topic` up to its current end."""
    consumer = Consumer(consumer_config(kafka, f"fault-duplicates-{topic}", **{"enable.partition.eof": True}))
    try:
        ends = {}
        for partition in partitions_of(consumer, topic):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        while ends:
            for message in consumer.consume(10_000, 5.0) or ():
                error = message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    raise AssertionError(f"reading {topic}: {error.str()}")
                if error is None:
                    yield message
                if message.offset() >= ends.get(message.partition(), 0) - 1 or error is not None:
                    ends.pop(message.partition(), None)
    finally:
        consumer.close()


def duplicates_by_phase(kafka: KafkaSettings, codec: AvroCodec,
                        phase_starts_ms: Sequence[int]) -> dict[int, dict[str, list[object]]]:
    """Copies beyond the first of one id on the checked topics: by phase (from their Kafka timestamps),
    the ids of the copies per topic."""
    by_phase: dict[int, dict[str, list[object]]] = {}
    for name, id_of in IDS.items():
        seen: set[object] = set()
        for message in _records(kafka, kafka.topic(name)):
            try:
                _, value, _ = codec.decode_record(message.value())
            except DecodeError:
                continue  # the suite's own bad records
            identity = id_of(value)
            if identity is None:
                continue
            if identity in seen:
                phase = max(0, bisect.bisect_right(phase_starts_ms, message.timestamp()[1]) - 1)
                by_phase.setdefault(phase, {}).setdefault(name, []).append(identity)
            seen.add(identity)
    return by_phase

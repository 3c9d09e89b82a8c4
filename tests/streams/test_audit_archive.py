"""The archive as the replay's record: `read` gives the topics' RawRecords; the strategy runner's stand-in consumer
gives each partition's records in offset order, interleaved by Kafka time, an end after each partition (one with
nothing to read too), the merge ids `assign_inputs` would give, and makes no Kafka client; an archive without the
replay's input is refused naming what to check."""

from __future__ import annotations

import confluent_kafka
import pytest
from confluent_kafka import KafkaError

from connectors.s3archive.reader import ArchivedRecord, ArchiveReader
from schemas.errors import ArchiveError
from streams.audit_archive import ArchiveRecords, RecordedConsumer
from tests.connectors.test_s3archive_reader import HOUR_MS, PREFIX, TOPIC, batch, day_archive

MS = 1_000_000


def records(topic: str, partition: int, stamps: list[int]) -> list[ArchivedRecord]:
    return [ArchivedRecord(topic, partition, offset, ts, None, b"%d" % offset) for offset, ts in enumerate(stamps)]


def taken(consumer: RecordedConsumer, size: int = 2) -> list[tuple[str, int, int, bool]]:
    out = []
    while messages := consumer.consume(size, 0.2):
        out += [(m.topic(), m.partition(), m.offset(), m.error() is not None) for m in messages]
    return out


def test_partitions_keep_their_offset_order_interleaved_by_kafka_time_each_then_its_end() -> None:
    consumer = RecordedConsumer([("t", 0, iter(records("t", 0, [10, 5, 30]))),
                                 ("t", 1, iter(records("t", 1, [20, 25]))),
                                 ("u", 0, iter(()))])
    assert taken(consumer) == [("u", 0, -1, True), ("t", 0, 0, False), ("t", 0, 1, False), ("t", 1, 0, False),
                               ("t", 1, 1, False), ("t", 1, 1, True), ("t", 0, 2, False), ("t", 0, 2, True)]


def test_an_end_of_partition_is_what_the_runner_takes_for_one() -> None:
    [end] = RecordedConsumer([("t", 3, iter(()))]).consume(10, 0.2)
    assert end.error().code() == KafkaError._PARTITION_EOF and (end.topic(), end.partition()) == ("t", 3)


def test_the_archive_gives_the_records_the_topics_give_and_the_runners_merge_ids(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("a Kafka client was made")

    monkeypatch.setattr(confluent_kafka, "Consumer", refused)
    store, _ = day_archive()
    source = ArchiveRecords(ArchiveReader(store, PREFIX))
    read = list(source.read(TOPIC, (HOUR_MS + 2) * MS))
    assert [(r.partition, r.offset) for r in read] == [(0, 2), (0, 3), (0, 4), (0, 6), (0, 7)]
    assert read[0].kafka_ns == (HOUR_MS + 5) * MS and read[0].value == batch(2) and read[0].key == b"SPY"
    assert [(r.partition, r.offset) for r in source.read(TOPIC, None)][-1] == (1, 0)
    assert source.runner_inputs == source.consumer
    consumer, ids = source.consumer([("ts.ticks.trades", 0), (TOPIC, 100_000)], [("ts.settings", 300_000)],
                                    2 * HOUR_MS * MS)
    assert ids == [100_000, 100_001]       # the partitions the archive holds: no trades, no settings archived
    assert taken(consumer, 100) == [(TOPIC, 1, -1, True), (TOPIC, 0, 6, False), (TOPIC, 0, 7, False),
                                    (TOPIC, 0, 7, True)]


def test_an_archive_without_the_replays_input_is_refused() -> None:
    store, _ = day_archive()
    source = ArchiveRecords(ArchiveReader(store, PREFIX))
    source.require(["ts.ticks.trades", TOPIC])
    with pytest.raises(ArchiveError, match="holds no record of ts.ticks.trades: are ARCHIVE_KEY_PREFIX and "):
        source.require(["ts.ticks.trades"])

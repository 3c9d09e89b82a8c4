"""The strategy runner's inputs: which partitions it reads, from where, under which merge ids.

    ids = assign_inputs(consumer, from_start, from_beginning, start_ns)

`from_start` topics (the prints, a live account's recorded broker events) are read from the start time
(`offsets_for_times`); `from_beginning` topics (the operators' changes: accounts, settings) from their
beginning, since the settings in force at the start time are the last changes before it. Each (topic, base)
gives its partitions the merge ids base + partition number.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from connectors.kafka.consumer import partitions_of
from schemas.errors import ConfigError

MS = 1_000_000
TOPIC_WAIT_S = 30           # how long a topic may take to appear in the metadata

RunnerInputs = Callable[[list[tuple[str, int]], list[tuple[str, int]], int], tuple[Any, list[int]]]
"""What a replay's strategy runner reads instead of the topics (the archive, `streams.audit_archive`): given the
(topic, merge-id base) pairs read from the start time and those read from the beginning, and the start time, a
stand-in for its consumer and the merge ids, as `assign_inputs` gives them for the topics."""


def assign_inputs(consumer: Consumer, from_start: list[tuple[str, int]], from_beginning: list[tuple[str, int]],
                  start_ns: int) -> list[int]:
    """Assign the consumer its partitions; the merge ids, in the order assigned."""
    assignment, ids = [], []
    for topic, base in from_start:
        partitions = topic_partitions(consumer, topic)
        # A partition with nothing at or after the start time answers -1: start at its end as it was BEFORE
        # the question (a record written in between is at or after that end, so it is read, never skipped).
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        wanted = [TopicPartition(topic, p, start_ns // MS) for p in partitions]
        for tp in consumer.offsets_for_times(wanted, timeout=10):
            if tp.offset < 0:
                tp = TopicPartition(topic, tp.partition, ends[tp.partition])
            assignment.append(tp)
            ids.append(base + tp.partition)
    for topic, base in from_beginning:
        for partition in topic_partitions(consumer, topic):
            assignment.append(TopicPartition(topic, partition, OFFSET_BEGINNING))
            ids.append(base + partition)
    consumer.assign(assignment)
    return ids


def topic_partitions(consumer: Consumer, topic: str) -> list[int]:
    """The topic's partitions; a topic just created may take a moment to reach the metadata, a missing one
    stops the runner with its name (a runner reading nothing would wait forever, silently)."""
    deadline = time.monotonic() + TOPIC_WAIT_S
    while not (partitions := partitions_of(consumer, topic)):
        if time.monotonic() >= deadline:
            raise ConfigError(f"topic {topic} does not exist (or has no partitions): create the catalogue's "
                              f"topics with `tradestream topics create` (make run and make test do)")
        time.sleep(0.2)      # the broker's metadata, again
    return partitions

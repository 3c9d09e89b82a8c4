"""Reading the account changes a test published: the AccountChanged events of one account on a topic."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, TopicPartition

from connectors.kafka.codec import AvroCodec
from processors.model import AccountChanged
from tradestream.config import Settings


def changes_on(settings: Settings, topic: str, account: str, wanted: int, timeout_s: float = 30) -> list[AccountChanged]:
    """The account's changes on the topic, read from its start until `wanted` are found or `timeout_s` passes."""
    kafka = settings.kafka()
    codec = AvroCodec(kafka.registry_config())
    consumer = Consumer(kafka.client_config(**{"group.id": f"read-{topic}", "enable.auto.commit": False}))
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    found: list[AccountChanged] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(found) < wanted and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            change = codec.decode(message.value())
            if isinstance(change, AccountChanged) and change.account_id == account:
                found.append(change)
    finally:
        consumer.close()
    return found

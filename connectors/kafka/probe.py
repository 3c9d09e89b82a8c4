"""Probes of Kafka and the schema registry for health checks: is the broker reachable, is the registry,
and how far behind is a consumer group.

    probe = KafkaProbe(kafka)                 # one admin client, reused by every probe (thread-safe)
    probe.broker()                            # Reachability(up=True, detail="127.0.0.1:9092: 1 broker(s), 30 topics")
    probe.registry()                          # Reachability(up=True, detail="http://127.0.0.1:8081: 26 subjects")
    probe.group("tradestream-worker")         # GroupState(members=1, state="STABLE", lag=GroupLag(...))

A group's lag is the records it has still to read: for each partition it has committed an offset on, the
partition's high watermark minus that offset, summed per topic and in all. It is read from the broker
(the group's committed offsets and the partitions' end offsets), so it is known even while the group
has no member, which is when it grows.

Every call blocks for at most its `timeout_s` and never raises for an unreachable service: the answer
says what was wrong. The caller runs them in a thread (`asyncio.to_thread`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from connectors.kafka.settings import KafkaSettings

DEFAULT_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class Reachability:
    up: bool
    detail: str


@dataclass(frozen=True, slots=True)
class GroupLag:
    """Records a consumer group has still to read: `total`, and `by_topic`, over `partitions` partitions."""

    total: int
    by_topic: dict[str, int] = field(default_factory=dict)
    partitions: int = 0


@dataclass(frozen=True, slots=True)
class GroupState:
    """A consumer group as the broker describes it. `lag` is None when it could not be read (`error` says
    why); `error` is also set when the group itself could not be described (then `members` is 0)."""

    group_id: str
    members: int
    state: str
    lag: GroupLag | None
    error: str | None = None


def _message(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.str() if hasattr(error, "str") else str(exc)


class KafkaProbe:
    """The probes of one Kafka cluster and its schema registry. The admin client is made on first use and
    kept: making one costs a connection and a metadata request, about as much as the probe itself."""

    def __init__(self, kafka: KafkaSettings, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.kafka = kafka
        self.timeout_s = timeout_s
        self._admin: AdminClient | None = None

    @property
    def admin(self) -> AdminClient:
        if self._admin is None:
            self._admin = AdminClient(self.kafka.client_config(**{
                "socket.timeout.ms": int(self.timeout_s * 1000), "log_level": 0}))
        return self._admin

    def broker(self) -> Reachability:
        """The cluster answers a metadata request: how many brokers and topics."""
        try:
            metadata = self.admin.list_topics(timeout=self.timeout_s)
        except KafkaException as exc:
            return Reachability(False, f"{self.kafka.bootstrap}: {_message(exc)}")
        return Reachability(True, f"{self.kafka.bootstrap}: {len(metadata.brokers)} broker(s), "
                                  f"{len(metadata.topics)} topics")

    def registry(self) -> Reachability:
        """The schema registry lists its subjects (with the registry's credentials, when set)."""
        url = self.kafka.registry_url
        user, _, password = self.kafka.registry_user_info.partition(":")
        try:
            response = httpx.get(f"{url}/subjects", timeout=self.timeout_s,
                                 auth=(user, password) if self.kafka.registry_user_info else None)
        except httpx.HTTPError as exc:
            return Reachability(False, f"{url}: {type(exc).__name__}")
        if response.status_code != 200:
            return Reachability(False, f"{url}: HTTP {response.status_code}")
        return Reachability(True, f"{url}: {len(response.json())} subjects")

    def group(self, group_id: str) -> GroupState:
        """How many members `group_id` has, its state, and its lag."""
        try:
            description = self.admin.describe_consumer_groups(
                [group_id], request_timeout=self.timeout_s)[group_id].result()
        except KafkaException as exc:
            return GroupState(group_id, 0, "UNKNOWN", None, _message(exc))
        state = description.state.name if hasattr(description.state, "name") else str(description.state)
        try:
            lag = self.lag(group_id)
        except KafkaException as exc:
            return GroupState(group_id, len(description.members), state, None, f"lag unknown: {_message(exc)}")
        return GroupState(group_id, len(description.members), state, lag)

    def lag(self, group_id: str) -> GroupLag:
        """The records `group_id` has still to read on the partitions it has committed offsets on (high
        watermark minus committed offset, never below 0); KafkaException when the broker cannot say."""
        listed = self.admin.list_consumer_group_offsets(
            [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout_s)[group_id].result()
        committed = {(tp.topic, tp.partition): tp.offset for tp in listed.topic_partitions or []
                     if tp.offset >= 0 and tp.error is None}
        if not committed:
            return GroupLag(0)
        ends = self.admin.list_offsets({TopicPartition(topic, partition): OffsetSpec.latest()
                                        for topic, partition in committed}, request_timeout=self.timeout_s)
        by_topic: dict[str, int] = {}
        for partition, future in ends.items():
            behind = max(0, future.result().offset - committed[(partition.topic, partition.partition)])
            by_topic[partition.topic] = by_topic.get(partition.topic, 0) + behind
        return GroupLag(sum(by_topic.values()), dict(sorted(by_topic.items())), len(committed))

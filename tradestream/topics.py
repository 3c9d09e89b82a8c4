"""Create the catalogue's topics on the broker, idempotently; delete topics a run no longer needs."""

from __future__ import annotations

import logging

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from schemas.topics import CATALOGUE, TopicSpec
from tradestream.config import Settings
from schemas.errors import StackError

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings, prefix: str | None = None,
                  catalogue: tuple[TopicSpec, ...] = CATALOGUE) -> list[str]:
    """Create missing topics (named with `prefix`, default TOPIC_PREFIX); returns the names created.
    Existing topics are left as they are."""
    prefix = settings.topic_prefix if prefix is None else prefix
    admin = AdminClient(settings.kafka().client_config())
    existing = set(admin.list_topics(timeout=10).topics)
    wanted = [
        NewTopic(
            spec.full_name(prefix),
            num_partitions=spec.partitions or settings.kafka_partitions,
            replication_factor=1,
            config={"retention.ms": str(spec.retention_ms), "cleanup.policy": spec.cleanup_policy},
        )
        for spec in catalogue
        if spec.full_name(prefix) not in existing
    ]
    if not wanted:
        return []
    created = []
    for name, future in admin.create_topics(wanted, operation_timeout=30).items():
        try:
            future.result()
        except KafkaException as exc:
            if exc.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise StackError(f"creating topic {name} failed: {exc}") from exc
        else:
            created.append(name)
            log.info("topic=%s created", name)
    return created


def topic_names(settings: Settings) -> set[str]:
    return set(AdminClient(settings.kafka().client_config()).list_topics(timeout=10).topics)


def delete_topics(settings: Settings, names: list[str]) -> None:
    """Delete topics (a benchmark's or a test session's fresh ones: left behind, they pile up past the
    broker's open-file limit on a long-lived stack)."""
    if not names:
        return
    admin = AdminClient(settings.kafka().client_config())
    for name, future in admin.delete_topics(names, operation_timeout=60).items():
        try:
            future.result()
        except KafkaException as exc:
            raise StackError(f"deleting topic {name} failed: {exc}") from exc
        log.info("topic=%s deleted", name)

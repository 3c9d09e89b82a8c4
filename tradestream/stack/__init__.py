"""The local stack: Kafka (KRaft), the schema registry, PostgreSQL and an S3 server, no Docker needed."""

from __future__ import annotations

import logging
from typing import Protocol

from tradestream.config import Settings

log = logging.getLogger(__name__)


class Service(Protocol):
    name: str

    def start(self) -> None: ...

    def stop(self) -> bool: ...

    def status(self) -> dict[str, object]: ...


def services(settings: Settings) -> list[Service]:
    """The stack's services in start order (the registry needs the broker)."""
    from tradestream.stack.kafka import KafkaService
    from tradestream.stack.postgres import PostgresService
    from tradestream.stack.registry import RegistryService
    from tradestream.stack.s3 import S3Service

    return [KafkaService(settings), RegistryService(settings), PostgresService(settings), S3Service(settings)]


def up(settings: Settings) -> None:
    """Start every service that is not running and wait until each answers; idempotent."""
    settings.home.mkdir(parents=True, exist_ok=True)
    for service in services(settings):
        service.start()
        log.info("service=%s ready", service.name)


def down(settings: Settings) -> None:
    for service in reversed(services(settings)):
        service.stop()


def status(settings: Settings) -> dict[str, dict[str, object]]:
    return {service.name: service.status() for service in services(settings)}

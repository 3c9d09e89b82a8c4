"""The universal settings for a stage of the Faust worker: every SettingsChanged on the settings topic, read
at start and then followed, applied to the calendar the stage builds bars with
(`processors.settings.CalendarInForce`).

    watch = SettingsWatch(kafka, codec, CalendarInForce(stage_calendar(today)))
    watch.catch_up()          # at start: every version so far (blocking, up to the topic's end)
    watch.poll()              # then, on a timer: the versions published since (non-blocking)
    watch.calendar            # the calendar to give the stage's processor

Why applying a version whenever it is read gives the bars a live run and a replay agree on: a version
governs only the trading days that begin once it is in force, and it is never back-dated, so each day is
built by the same version whenever the worker learned of it (the strategy runner takes the same versions
at the instants they were made; both build every day alike). A version that cannot follow the ones read
before (out of sequence, back-dated, invalid) is logged with the reason and changes nothing; the strategy
runner dead-letters the same record.
"""

from __future__ import annotations

import logging
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from connectors.kafka.codec import AvroCodec
from connectors.kafka.consumer import consumer_config
from connectors.kafka.settings import KafkaSettings
from processors.calendar import MarketCalendar
from processors.settings import CalendarInForce
from schemas.errors import DecodeError, TradestreamError

log = logging.getLogger(__name__)


class SettingsWatch:
    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, in_force: CalendarInForce,
                 client: str = "tradestream-settings-watch") -> None:
        self.codec = codec
        self.in_force = in_force
        self.topic = kafka.topic("settings")
        self.consumer = Consumer(consumer_config(kafka, client, **{"enable.partition.eof": True}))
        self.consumer.assign([TopicPartition(self.topic, 0, OFFSET_BEGINNING)])   # one partition, key "universal"
        self.applied = 0
        self.refused = 0

    @property
    def calendar(self) -> MarketCalendar:
        return self.in_force.calendar

    def catch_up(self, timeout_s: float = 30.0) -> int:
        """Every version on the topic so far; the number applied. TimeoutError if its end is not reached."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = self.consumer.poll(1.0)
            if message is None:
                continue
            if message.error() is not None and message.error().code() == KafkaError._PARTITION_EOF:
                return self.applied
            self._take(message)
        raise TimeoutError(f"the settings topic {self.topic} was not read to its end within {timeout_s} s")

    def poll(self) -> int:
        """The versions published since the last call, without waiting; the number applied."""
        before = self.applied
        while (message := self.consumer.poll(0)) is not None:
            self._take(message)
        return self.applied - before

    def close(self) -> None:
        self.consumer.close()

    def _take(self, message) -> None:  # noqa: ANN001 - a confluent_kafka Message
        error = message.error()
        if error is not None:
            if error.code() != KafkaError._PARTITION_EOF:
                log.error("settings watch: %s", error.str())
            return
        try:
            change = self.codec.decode(message.value(), "SettingsChanged")
            first = self.in_force.apply(change)
        except (DecodeError, TradestreamError) as exc:
            self.refused += 1
            log.warning("settings watch: the record at offset %d is not applied: %s", message.offset(), exc)
            return
        self.applied += 1
        log.info("settings version %d applied to the bars' calendar from %s: %s", change.version, first,
                 change.reason)

"""The Faust worker's bars stage follows the universal settings on the settings topic: the versions published
before it started are applied when it starts, later ones when it polls, an invalid one is refused with the
calendar unchanged — against the real Kafka."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.calendar import ET, NS, build_nyse_calendar
from processors.settings import CalendarInForce, SettingsHistory, UniversalSettings
from streams.settings_watch import SettingsWatch
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually

pytestmark = pytest.mark.integration


def et_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=ET).timestamp()) * NS


def test_the_bars_calendar_follows_the_settings_topic(settings: Settings, unique: str) -> None:
    prefix = f"w{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    kafka = settings.kafka(prefix)
    codec = AvroCodec(settings.schema_registry_url)
    publisher = EventPublisher(kafka, codec, client_id=f"w-{unique}")
    history = SettingsHistory()
    closed = UniversalSettings(capital=Decimal("100000"), extra_closed_dates=(dt.date(2026, 12, 24),))
    first = history.next_change(closed, ts_event=et_ns(2026, 12, 1), ts_init=et_ns(2026, 12, 1),
                                reason="Christmas Eve closed")
    history.apply(first)
    publisher.publish(kafka.topic("settings"), "universal", first)
    assert publisher.flush() == 0

    watch = SettingsWatch(kafka, codec, CalendarInForce(build_nyse_calendar(dt.date(2026, 12, 1), dt.date(2027, 1, 8))),
                          client=f"w-{unique}")
    try:
        assert watch.catch_up() == 1
        assert watch.calendar.day(dt.date(2026, 12, 24)) is None
        assert watch.calendar.day(dt.date(2026, 12, 31)).early_close is False

        later = history.next_change(UniversalSettings(capital=Decimal("100000"),
                                                      extra_closed_dates=(dt.date(2026, 12, 24),),
                                                      extra_half_days=(dt.date(2026, 12, 31),)),
                                    ts_event=et_ns(2026, 12, 28, 9), ts_init=et_ns(2026, 12, 28, 9),
                                    reason="half-day on New Year's Eve")
        again = first                                              # out of sequence: refused
        for change in (later, again):
            publisher.publish(kafka.topic("settings"), "universal", change)
        assert publisher.flush() == 0
        eventually(lambda: (watch.poll(), watch.applied + watch.refused == 3)[1], timeout_s=30,
                   what="the two later records read")
        assert (watch.applied, watch.refused) == (2, 1)
        half = watch.calendar.day(dt.date(2026, 12, 31))
        assert half.early_close and half.close == et_ns(2026, 12, 31, 13)
        assert watch.calendar.day(dt.date(2026, 12, 24)) is None
    finally:
        watch.close()

"""Record classes and retain-until dates (hand-computed)."""

from __future__ import annotations

import datetime as dt

import pytest

from processors.archive.retention import (TOPIC_CLASSES, ArchiveRetention, RecordClass, add_years, record_class,
                                          retain_until)
from schemas.topics import CATALOGUE

UTC = dt.timezone.utc


def test_every_business_topic_has_a_class_and_the_operational_ones_none() -> None:
    names = {spec.name for spec in CATALOGUE}
    assert set(TOPIC_CLASSES) == names - {"feed.status", "metrics.latency", "deadletter"}
    assert record_class("fills") is RecordClass.TRADE_RECORD and record_class("trades") is RecordClass.TRADE_RECORD
    assert record_class("orders.events") is RecordClass.ORDER and record_class("bars") is RecordClass.OTHER
    with pytest.raises(ValueError, match="deadletter"):
        record_class("deadletter")


def test_default_years_are_six_for_trade_records_three_for_the_rest() -> None:
    retention = ArchiveRetention()
    assert [retention.years(c) for c in RecordClass] == [6, 3, 3]


@pytest.mark.parametrize("years", [0, 101, True, 2.5])
def test_years_are_whole_and_bounded(years: object) -> None:
    with pytest.raises(ValueError, match="order_years"):
        ArchiveRetention(order_years=years)  # type: ignore[arg-type]


def test_retain_until_is_midnight_after_the_slice_plus_the_years() -> None:
    # Slice 2026-12-05 23:00-24:00: its last instant is on the 5th, so midnight of the 6th, six years on.
    end = int(dt.datetime(2026, 12, 6, tzinfo=UTC).timestamp() * 1000)
    assert retain_until(end, 6) == dt.datetime(2032, 12, 6, tzinfo=UTC)
    # One millisecond later the slice's last instant is on the 6th.
    assert retain_until(end + 1, 3) == dt.datetime(2029, 12, 7, tzinfo=UTC)


def test_the_29th_of_february_becomes_the_28th() -> None:
    assert add_years(dt.date(2028, 2, 29), 3) == dt.date(2031, 2, 28)
    assert add_years(dt.date(2028, 2, 29), 4) == dt.date(2032, 2, 29)

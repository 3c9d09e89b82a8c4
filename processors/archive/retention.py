"""Record classes and their retention: how long each archived topic is kept immutable.

SEC 17a-4: blotters and ledgers (our executions and trades) six years, order records and the other
records three years (`ArchiveRetention`, configurable per class, never below one year). The retain-until
date is computed from the slice, not from the clock: midnight UTC after the slice's end, plus the class's
years, so an object written again for the same slice would carry the same date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from schemas.topics import CATALOGUE

LOCK_MODE = "COMPLIANCE"


class RecordClass(str, Enum):
    TRADE_RECORD = "trade_record"
    """Executions and trades: the blotter and the ledgers (17a-4(a): six years)."""
    ORDER = "order"
    """Order intents, operators' manual trade actions, risk decisions and order events (17a-4(b): three years)."""
    OTHER = "other"
    """Market data, bars, indicators, signals, settings, account and strategy changes (three years)."""


TOPIC_CLASSES: dict[str, RecordClass] = {
    "fills": RecordClass.TRADE_RECORD,
    "trades": RecordClass.TRADE_RECORD,
    "orders.intents": RecordClass.ORDER,
    "orders.events": RecordClass.ORDER,
    "risk.decisions": RecordClass.ORDER,
    "ticks.trades": RecordClass.OTHER,
    "ticks.batches": RecordClass.OTHER,
    "ticks.quotes": RecordClass.OTHER,
    "bars": RecordClass.OTHER,
    "indicators": RecordClass.OTHER,
    "signals": RecordClass.OTHER,
    "signals.suppressed": RecordClass.OTHER,
    "risk.overnight": RecordClass.OTHER,
    "accounts": RecordClass.OTHER,
    "trades.actions": RecordClass.ORDER,
    "settings": RecordClass.OTHER,
    "strategies": RecordClass.OTHER,
}
"""Every business topic of the catalogue (names without TOPIC_PREFIX) and its class. The operational
topics (feed status, latency metrics, dead letters) are not archived."""

_KNOWN = {spec.name for spec in CATALOGUE}
if not set(TOPIC_CLASSES) <= _KNOWN:  # pragma: no cover - a catalogue rename must update this table
    raise RuntimeError(f"archived topics not in the catalogue: {sorted(set(TOPIC_CLASSES) - _KNOWN)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveRetention:
    """Years each record class stays locked (ARCHIVE_RETENTION_*_YEARS)."""

    trade_record_years: int = 6
    order_years: int = 3
    other_years: int = 3

    def __post_init__(self) -> None:
        for name in ("trade_record_years", "order_years", "other_years"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
                raise ValueError(f"{name} must be a whole number of years from 1 to 100, not {value!r}")

    def years(self, record_class: RecordClass) -> int:
        return {RecordClass.TRADE_RECORD: self.trade_record_years, RecordClass.ORDER: self.order_years,
                RecordClass.OTHER: self.other_years}[record_class]


def record_class(topic: str) -> RecordClass:
    """The class of a catalogue topic (name without prefix); ValueError for a topic that is not archived."""
    try:
        return TOPIC_CLASSES[topic]
    except KeyError:
        raise ValueError(f"topic {topic!r} is not an archived business topic") from None


def add_years(day: dt.date, years: int) -> dt.date:
    """`day` plus calendar years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def retain_until(slice_end_ms: int, years: int) -> dt.datetime:
    """Midnight UTC after the slice's last instant (`slice_end_ms` exclusive), plus `years` years."""
    last_instant = dt.datetime.fromtimestamp((slice_end_ms - 1) / 1000, dt.timezone.utc)
    day_after = last_instant.date() + dt.timedelta(days=1)
    return dt.datetime.combine(add_years(day_after, years), dt.time(0), dt.timezone.utc)

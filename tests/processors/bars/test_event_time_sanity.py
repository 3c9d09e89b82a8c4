"""A print dated far ahead of its arrival never touches the bars stage's state: it is dead-lettered and
every later real print still makes its bars (one such print used to close bars early and make the next
thousands "late")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.bars.state import BarsProcessor, DeadLetterReason, stage_calendar
from processors.model import TradeTick, TradeTickBatch

CALENDAR = stage_calendar(dt.date(2026, 11, 25))
OPENING = CALENDAR.day(dt.date(2026, 11, 24)).open
S = 1_000_000_000
DAY = 86_400 * S


def real(i: int) -> TradeTick:
    """A print every 7 s from the open, arriving 3 ms after its event time."""
    ts = OPENING + i * 7 * S
    return TradeTick("SPY", ts, ts + 3_000_000, Decimal("600.10") + i % 5, 100, "sim", f"T{i}")


def bars_of(processor: BarsProcessor, records: list, kafka_ns=lambda record: 0) -> tuple[list, list]:
    table: dict = {}
    bars, letters = [], []
    for offset, record in enumerate(records):
        outcome = processor.apply_record(record, offset, kafka_ns(record), 0, table.get)
        bars += outcome.bars
        letters += outcome.dead_letters
    return bars, letters


def test_a_record_dated_a_day_ahead_is_dead_lettered_and_later_bars_are_unchanged() -> None:
    ticks = [real(i) for i in range(200)]  # about 23 minutes: four 5-minute bars close
    future = TradeTick("SPY", ticks[50].ts_init + DAY, ticks[50].ts_init, Decimal("999999"), 1, "sim", "F")
    expected, _ = bars_of(BarsProcessor(CALENDAR, ["5m"], "regular", 0), ticks)
    bars, letters = bars_of(BarsProcessor(CALENDAR, ["5m"], "regular", 0), ticks[:50] + [future] + ticks[50:])
    assert len(expected) == 4 and bars == expected
    assert [(letter.stage, letter.error_class, letter.source_index) for letter in letters] == \
        [("bars", "ImplausibleEventTime", -1)]
    assert "86400.000 s after its arrival" in letters[0].reason


def test_the_records_kafka_time_catches_an_arrival_stamp_dated_ahead_too() -> None:
    ticks = [real(i) for i in range(100)]
    forged = TradeTick("SPY", ticks[10].ts_event + DAY, ticks[10].ts_init + DAY, Decimal("1"), 1, "sim", "F")
    records = ticks[:10] + [forged] + ticks[10:]
    expected, _ = bars_of(BarsProcessor(CALENDAR, ["5m"], "regular", 0), ticks)
    bars, letters = bars_of(BarsProcessor(CALENDAR, ["5m"], "regular", 0), records,
                            kafka_ns=lambda record: record.ts_init if record is not forged else ticks[10].ts_init)
    assert bars == expected and [letter.error_class for letter in letters] == ["ImplausibleEventTime"]


def test_a_batch_keeps_its_plausible_prints_and_names_the_refused_one_by_index() -> None:
    ticks = [real(i) for i in range(120)]
    future = TradeTick("SPY", ticks[40].ts_init + DAY, ticks[40].ts_init, Decimal("5"), 1, "sim", "F")
    batches = [TradeTickBatch.of(ticks[:40], 0), TradeTickBatch.of([ticks[40], future, ticks[41]], 0),
               TradeTickBatch.of(ticks[42:], 0)]
    expected, _ = bars_of(BarsProcessor(CALENDAR, ["5m"], "regular", 0), ticks)
    bars, letters = bars_of(BarsProcessor(CALENDAR, ["5m"], "regular", 0), batches)
    assert bars == expected
    assert [(letter.error_class, letter.source_index) for letter in letters] == [("ImplausibleEventTime", 1)]
    assert letters[0].reason.startswith("print 1: event time")


def test_a_batch_of_only_implausible_prints_is_refused_whole_without_loading_the_symbol() -> None:
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    reads: list[str] = []
    arrival = OPENING
    batch = TradeTickBatch.of([TradeTick("SPY", arrival + DAY + i, arrival, Decimal("1"), 1, "sim", str(i))
                               for i in range(2)], 0)
    outcome = processor.apply_record(batch, 0, 0, 0, lambda key: reads.append(key))
    assert not outcome.changed and reads == []
    assert [letter.source_index for letter in outcome.dead_letters] == [0, 1]
    assert all(isinstance(letter, DeadLetterReason) for letter in outcome.dead_letters)

"""The bars stage's processor without Faust: a restart from the table's values."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.model import PrintColumns, TradeTick, TradeTickBatch
from streams.bars_stage import BarsProcessor, id_key, stage_calendar
from tradestream.errors import StateError

CALENDAR = stage_calendar(dt.date(2026, 11, 25))
OPENING = CALENDAR.day(dt.date(2026, 11, 24)).open


def write(table: dict, processor: BarsProcessor, symbol: str) -> dict:
    """What the stage's write does: the id-chunk entries (None deletes), then the value."""
    value, entries = processor.state(symbol)
    for key, ids in entries.items():
        if ids is None:
            del table[key]
        else:
            table[key] = ids
    table[symbol] = value
    return entries


def test_a_restarted_processor_skips_applied_offsets_and_closes_the_same_bars() -> None:
    """Offsets up to the state's are re-delivered after a crash and skipped; the bars closed are those of
    an uninterrupted run (none twice, none missing)."""
    ticks = [TradeTick("SPY", OPENING + i * 60 * 10**9, 0, Decimal(600 + i), 100, "t", str(i)) for i in range(12)]

    uninterrupted = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    uninterrupted.load("SPY", None, {}.get)
    want = [bar for offset, tick in enumerate(ticks) for bar in uninterrupted.apply(tick, offset)[0]]

    table: dict = {}
    first = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    first.load("SPY", None, table.get)
    got = [bar for offset, tick in enumerate(ticks[:7]) for bar in first.apply(tick, offset)[0]]
    write(table, first, "SPY")  # the crash happens after offset 6 is in the state, offset 7.. are not
    restarted = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    replayed = [restarted.apply(tick, offset) for offset, tick in enumerate(ticks) if offset >= 4]
    assert replayed[:3] == [None, None, None]  # offsets 4-6: already applied
    got += [bar for result in replayed[3:] for bar in result[0]]
    assert got == want and len(want) == 2


def test_trade_ids_are_written_incrementally_and_survive_a_restart() -> None:
    """Each write carries only the ids counted since the last one; a closed bar's chunks are deleted;
    a restarted processor still refuses a print whose trade id its open bar already counted."""
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["5m", "15m"], "regular", 0)
    processor.load("SPY", None, table.get)

    def prints(first: int, count: int) -> PrintColumns:
        return TradeTickBatch.of([TradeTick("SPY", OPENING + i * 10**9, 0, Decimal("600.10"), 100, "sim", f"T{i}")
                                  for i in range(first, first + count)], 0).prints()

    processor.apply_batch("SPY", prints(0, 100), 0)
    entries = write(table, processor, "SPY")
    assert entries == {id_key("SPY", "5m", OPENING, 0): [f"T{i}" for i in range(100)],
                       id_key("SPY", "15m", OPENING, 0): [f"T{i}" for i in range(100)]}
    processor.apply_batch("SPY", prints(100, 50), 1)
    entries = write(table, processor, "SPY")
    assert {key: len(ids) for key, ids in entries.items()} == {id_key("SPY", "5m", OPENING, 1): 50,
                                                                id_key("SPY", "15m", OPENING, 1): 50}

    restarted = BarsProcessor(CALENDAR, ["5m", "15m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    bars, errors = restarted.apply_batch("SPY", prints(120, 40), 2)  # T120..T149 counted, T150..T159 new
    assert not bars and not errors  # duplicates are expected, counted, not errors
    assert restarted.counts["DuplicateTick"] == 60  # 30 repeated ids in each of the two timeframes
    # 5m bar closes (a print after 09:35): its two chunks are deleted, the 15m bar gains a third.
    restarted.apply_batch("SPY", prints(5 * 60 + 1, 1), 3)
    entries = write(table, restarted, "SPY")
    assert entries[id_key("SPY", "5m", OPENING, 0)] is None and entries[id_key("SPY", "5m", OPENING, 1)] is None
    assert len(entries[id_key("SPY", "15m", OPENING, 2)]) == 11
    closed = id_key("SPY", "5m", OPENING, 0).rsplit("|", 1)[0]
    assert not any(key.startswith(closed) for key in table)
    assert sorted(table) == sorted(["SPY", *(id_key("SPY", "15m", OPENING, c) for c in range(3)),
                                    id_key("SPY", "5m", OPENING + 300 * 10**9, 0)])  # the new 5m bar's print


def test_a_missing_id_chunk_stops_the_stage_with_its_key() -> None:
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    processor.load("SPY", None, table.get)
    processor.apply(TradeTick("SPY", OPENING, 0, Decimal("600"), 100, "t", "A1"), 0)
    write(table, processor, "SPY")
    del table[id_key("SPY", "5m", OPENING, 0)]
    with pytest.raises(StateError, match=r"SPY\|ids\|5m\|\d+\|0 is missing"):
        BarsProcessor(CALENDAR, ["5m"], "regular", 0).load("SPY", table["SPY"], table.get)

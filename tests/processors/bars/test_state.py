"""The bars stage's processor without Faust: what one record gives, a restart from the table's values,
and the trade-id chunks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.model import PrintColumns, TradeTick, TradeTickBatch
from processors.bars.id_chunks import id_key
from processors.bars.state import (
    BarsProcessor,
    DeadLetterReason,
    LatencySample,
    RecordOutcome,
    all_plausible,
    stage_calendar,
)
from processors.event_time import EventTimeBounds
from schemas.errors import StateError

CALENDAR = stage_calendar(dt.date(2026, 11, 25))
OPENING = CALENDAR.day(dt.date(2026, 11, 24)).open


def test_a_record_gives_its_bars_dead_letters_and_latencies() -> None:
    """A bad print of a batch is dead-lettered by each timeframe with its index; the latencies are the last
    print's hops and, for each bar it closes, the time from the record reaching Kafka to now."""
    table: dict = {"SPY": None}
    processor = BarsProcessor(CALENDAR, ["5m", "15m"], "regular", 0)
    opening = [TradeTick("SPY", OPENING + i * 10**9, OPENING + i * 10**9 + 500, Decimal("600.10"), 100, "sim", f"T{i}")
               for i in range(3)]
    outcome = processor.apply_record(TradeTickBatch.of(opening, 0), 0, 0, 0, table.get)
    assert outcome.changed and not outcome.bars and not outcome.dead_letters
    assert outcome.latencies == [LatencySample("sim", "SPY", "EXCHANGE_TO_ARRIVAL", 500)]
    bad, closing = OPENING + 301 * 10**9, OPENING + 302 * 10**9  # a zero size, then a print past 09:35
    batch = TradeTickBatch.of([TradeTick("SPY", bad, bad + 100, Decimal("601"), 0, "sim", "X"),
                               TradeTick("SPY", closing, closing + 700, Decimal("601"), 100, "sim", "Y")], 0)
    kafka_ns = closing + 2000
    outcome = processor.apply_record(batch, 1, kafka_ns, kafka_ns + 5000, table.get)
    assert outcome.changed and [(bar.timeframe, bar.start) for bar in outcome.bars] == [("5m", OPENING)]
    reason = f"print 0 at {bad}: price 601.0 and size 0 must be positive finite numbers"
    assert outcome.dead_letters == [DeadLetterReason("bars:5m", "InvalidTick", reason, 0),
                                    DeadLetterReason("bars:15m", "InvalidTick", reason, 0)]
    assert outcome.latencies == [LatencySample("sim", "SPY", "EXCHANGE_TO_ARRIVAL", 700),
                                 LatencySample("sim", "SPY", "ARRIVAL_TO_KAFKA", 1300),
                                 LatencySample("sim", "SPY", "TICK_TO_BAR_CLOSE", 5000)]
    assert processor.apply_record(batch, 1, kafka_ns, kafka_ns, table.get) == RecordOutcome(False)  # applied before


def test_a_bad_record_is_refused_whole_and_a_single_print_has_no_index() -> None:
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    reads: list[str] = []

    def lookup(key: str) -> None:
        reads.append(key)

    three = TradeTickBatch.of([TradeTick("SPY", OPENING + i, 0, Decimal("600"), 100, "t", str(i)) for i in range(3)], 0)
    malformed = processor.apply_record(dataclasses.replace(three, prices_e8=b"\x00" * 8), 0, 0, 0, lookup)
    assert not malformed.changed and [letter.error_class for letter in malformed.dead_letters] == ["MalformedBatch"]
    empty = processor.apply_record(TradeTickBatch("SPY", "t", 0), 1, 0, 0, lookup)
    assert empty == RecordOutcome(False, dead_letters=[DeadLetterReason("bars", "UnexpectedRecord",
                                                                        "TradeTickBatch without prints")])
    assert reads == []  # nothing loaded for a refused record
    invalid = processor.apply_record(TradeTick("SPY", OPENING, 0, Decimal("0"), 100, "t"), 2, 0, 0, lookup)
    assert invalid.dead_letters == [DeadLetterReason("bars:5m", "InvalidTick",
                                                     "price 0.0 and size 100 must be positive finite numbers")]
    processor.apply_record(TradeTick("SPY", OPENING, 0, Decimal("1"), 100, "t"), 3, 0, 0, lookup)
    assert reads == ["SPY"]  # the symbol's value read once (no id chunks: it was never stored)


MINUTE = 60 * 10**9


@given(prints=st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=8),
       kafka=st.integers(-1, 3), ahead=st.integers(0, 2), behind=st.integers(0, 2))
def test_the_batch_check_of_event_times_passes_only_batches_that_no_print_check_refuses(prints, kafka, ahead,
                                                                                       behind) -> None:
    """`all_plausible` answers from the columns' extremes; whenever it passes a batch, `refusal` asked print by
    print refuses none of its prints (times in minutes around an instant; arrival stamps of 0 or less unknown)."""
    base = OPENING + 10 * MINUTE
    ts_events = [base + event * MINUTE for event, _ in prints]
    ts_inits = [base + arrival * MINUTE if arrival > -3 else 0 for _, arrival in prints]
    kafka_ns = base + kafka * MINUTE if kafka >= 0 else 0
    bounds = EventTimeBounds(max_ahead_ms=ahead * 60_000, max_behind_ms=behind * 60_000)
    if all_plausible(bounds, ts_events, ts_inits, kafka_ns):
        assert all(bounds.refusal(e, i, kafka_ns or None) is None for e, i in zip(ts_events, ts_inits))


def test_a_live_batch_passes_the_event_time_check_at_once() -> None:
    """Twenty prints over 2 s, each stamped 3 ms after it happened, the record written 5 ms after the last."""
    ts_events = [OPENING + i * 100_000_000 for i in range(20)]
    ts_inits = [ts + 3_000_000 for ts in ts_events]
    assert all_plausible(EventTimeBounds(), ts_events, ts_inits, ts_inits[-1] + 5_000_000)
    assert all_plausible(EventTimeBounds(max_behind_ms=60_000), ts_events, ts_inits, 0)
    assert not all_plausible(EventTimeBounds(), ts_events, [0, *ts_inits[1:]], 0)  # an unknown arrival: ask each


def write(table: dict, processor: BarsProcessor, symbol: str) -> tuple[dict, list]:
    """What the stage's write does: the new id chunks, the value, then the deletions."""
    value, writes, deletes = processor.state(symbol)
    table.update(writes)
    table[symbol] = value
    for key in deletes:
        del table[key]
    return writes, deletes


def write_every_prefix(table: dict, processor: BarsProcessor, symbol: str, timeframes: list[str]) -> tuple[dict, list]:
    """`write`, after loading every prefix of the write's records in a fresh processor: a crash may cut a
    write anywhere (its records are in one partition, in order). `load` raises StateError if the value
    of a prefix names a chunk that is missing."""
    value, writes, deletes = processor.state(symbol)
    records = [*writes.items(), (symbol, value), *((key, None) for key in deletes)]
    for cut in range(len(records) + 1):
        crashed = dict(table)
        for key, stored in records[:cut]:
            if stored is None:
                del crashed[key]
            else:
                crashed[key] = stored
        BarsProcessor(CALENDAR, timeframes, "regular", 0).load(symbol, crashed.get(symbol), crashed.get)
    table.update(writes)
    table[symbol] = value
    for key in deletes:
        del table[key]
    return writes, deletes


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
    writes, _ = write(table, processor, "SPY")
    assert writes == {id_key("SPY", "5m", OPENING, 0, 0): "\x1f".join(f"T{i}" for i in range(100)),
                      id_key("SPY", "15m", OPENING, 0, 0): "\x1f".join(f"T{i}" for i in range(100))}
    processor.apply_batch("SPY", prints(100, 50), 1)
    writes, _ = write(table, processor, "SPY")
    assert {key: len(ids.split("\x1f")) for key, ids in writes.items()} == {id_key("SPY", "5m", OPENING, 1, 0): 50,
                                                                          id_key("SPY", "15m", OPENING, 1, 0): 50}

    restarted = BarsProcessor(CALENDAR, ["5m", "15m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    bars, errors = restarted.apply_batch("SPY", prints(120, 40), 2)  # T120..T149 counted, T150..T159 new
    assert not bars and not errors  # duplicates are expected, counted, not errors
    assert restarted.counts["DuplicateTick"] == 60  # 30 repeated ids in each of the two timeframes
    # 5m bar closes (a print after 09:35): its two chunks are deleted, the 15m bar gains a third.
    restarted.apply_batch("SPY", prints(5 * 60 + 1, 1), 3)
    writes, deletes = write(table, restarted, "SPY")
    assert deletes == [id_key("SPY", "5m", OPENING, 0, 0), id_key("SPY", "5m", OPENING, 1, 0)]
    assert len(writes[id_key("SPY", "15m", OPENING, 2, 0)].split("\x1f")) == 11
    assert sorted(table) == sorted(["SPY", *(id_key("SPY", "15m", OPENING, c, 0) for c in range(3)),
                                    id_key("SPY", "5m", OPENING + 300 * 10**9, 0, 0)])  # the new 5m bar's print


def test_a_missing_id_chunk_stops_the_stage_with_its_key() -> None:
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    processor.load("SPY", None, table.get)
    processor.apply(TradeTick("SPY", OPENING, 0, Decimal("600"), 100, "t", "A1"), 0)
    write(table, processor, "SPY")
    del table[id_key("SPY", "5m", OPENING, 0, 0)]
    with pytest.raises(StateError, match=r"SPY\|ids\|5m\|\d+\|0\|0 is missing"):
        BarsProcessor(CALENDAR, ["5m"], "regular", 0).load("SPY", table["SPY"], table.get)


def test_id_chunks_merge_by_level_so_a_long_bar_keeps_few_of_them() -> None:
    """Every write adds a chunk; eight chunks of one level become one of the next (8 x 8 + 8 + 3 writes
    leave chunks of levels 2, 1 and 0, three of level 0). A restart reads back every id in order."""
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["60m"], "regular", 0)
    processor.load("SPY", None, table.get)
    writes = 8 * 8 + 8 + 3
    for n in range(writes):  # one print per write, a second apart: all in the first 60m bar
        processor.apply(TradeTick("SPY", OPENING + n * 10**9, 0, Decimal("600"), 100, "t", f"T{n}"), n)
        write(table, processor, "SPY")
    listed = table["SPY"]["id_chunks"]["60m"][str(OPENING)]
    assert listed == [[64, 2], [8, 1], [1, 0], [1, 0], [1, 0]]
    keys = [id_key("SPY", "60m", OPENING, chunk, level) for chunk, (_, level) in enumerate(listed)]
    assert [ids for key in keys for ids in table[key].split("\x1f")] == [f"T{n}" for n in range(writes)]
    assert sorted(k for k in table if k != "SPY") == sorted(keys)  # merged chunks are deleted
    restarted = BarsProcessor(CALENDAR, ["60m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    restarted.apply(TradeTick("SPY", OPENING + 10**9, 0, Decimal("600"), 100, "t", "T1"), writes)
    assert restarted.counts["DuplicateTick"] == 1
    # The bar closes: its five chunks are deleted after the value that no longer names them.
    restarted.apply(TradeTick("SPY", OPENING + 3601 * 10**9, 0, Decimal("600"), 100, "t", "X"), writes + 1)
    _, deletes = write(table, restarted, "SPY")
    assert deletes == keys


def test_every_prefix_of_a_write_recovers() -> None:
    """A crash may cut a state write anywhere (its records are in one partition, in order): whatever
    prefix was stored, the table loads, with the ids the stored value names."""
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["60m"], "regular", 0)
    processor.load("SPY", None, table.get)
    for n in range(8 * 8 + 3):  # merges, then the last print closes the bar
        seconds = n if n < 8 * 8 + 2 else 3601
        processor.apply(TradeTick("SPY", OPENING + seconds * 10**9, 0, Decimal("600"), 100, "t", f"T{n}"), n)
        _, deletes = write_every_prefix(table, processor, "SPY", ["60m"])
    assert deletes and not any(f"|ids|60m|{OPENING}|" in key for key in table)  # the close deleted its chunks


def test_a_value_written_before_chunk_levels_still_loads() -> None:
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    processor.load("SPY", None, table.get)
    for n in range(3):
        processor.apply(TradeTick("SPY", OPENING + n * 10**9, 0, Decimal("600"), 100, "t", f"T{n}"), n)
    # The earlier form: sizes only, keys without a level.
    table.update({f"SPY|ids|5m|{OPENING}|{n}": [f"T{n}"] for n in range(3)})
    table["SPY"] = {**processor.state("SPY")[0], "id_chunks": {"5m": {str(OPENING): [1, 1, 1]}}}
    restarted = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    assert restarted.chunks["SPY"][("5m", OPENING)] == [[1, -1], [1, -1], [1, -1]]
    restarted.apply(TradeTick("SPY", OPENING + 10**9, 0, Decimal("600"), 100, "t", "T1"), 3)
    assert restarted.counts["DuplicateTick"] == 1


def test_an_id_containing_the_separator_keeps_its_chunk_a_list() -> None:
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    processor.load("SPY", None, table.get)
    processor.apply(TradeTick("SPY", OPENING, 0, Decimal("600"), 100, "t", "a\x1fb"), 0)
    processor.apply(TradeTick("SPY", OPENING + 1, 0, Decimal("600"), 100, "t", "c"), 1)
    writes, _ = write(table, processor, "SPY")
    assert list(writes.values()) == [["a\x1fb", "c"]]
    restarted = BarsProcessor(CALENDAR, ["5m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    restarted.apply(TradeTick("SPY", OPENING + 2, 0, Decimal("600"), 100, "t", "a\x1fb"), 2)
    assert restarted.counts["DuplicateTick"] == 1


def stored_ids(table: dict, symbol: str, timeframe: str, start: int) -> list[str]:
    listed = table[symbol]["id_chunks"][timeframe][str(start)]
    chunks = [table[id_key(symbol, timeframe, start, chunk, level)] for chunk, (_, level) in enumerate(listed)]
    return [i for chunk in chunks for i in (chunk.split("\x1f") if isinstance(chunk, str) else chunk)]


def test_a_write_of_more_ids_than_a_chunk_holds_is_cut_into_chunks_that_fit() -> None:
    """A worker catching up takes many records of one symbol in a batch: their ids go in several chunks,
    each within the limit (a larger record would fail to send, at every restart again)."""
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["5m"], "regular", 0, chunk_max_bytes=200)
    processor.load("SPY", None, table.get)
    ids = [f"T{n:03d}" for n in range(100)]  # 4 characters and a separator (6 bytes in JSON): 10 bytes an id
    processor.apply_batch("SPY", TradeTickBatch.of([TradeTick("SPY", OPENING + n, 0, Decimal("600"), 100, "t", i)
                                                    for n, i in enumerate(ids)], 0).prints(), 0)
    writes, _ = write(table, processor, "SPY")
    assert len(writes) > 5 and max(len(json.dumps(chunk)) for chunk in writes.values()) <= 200
    assert stored_ids(table, "SPY", "5m", OPENING) == ids
    restarted = BarsProcessor(CALENDAR, ["5m"], "regular", 0, chunk_max_bytes=200)
    restarted.load("SPY", table["SPY"], table.get)
    restarted.apply(TradeTick("SPY", OPENING + 100, 0, Decimal("600"), 100, "t", "T042"), 1)
    assert restarted.counts["DuplicateTick"] == 1


def test_chunks_whose_merge_would_not_fit_stay_apart() -> None:
    """Merges stop where the merged chunk would pass the limit; no record ever does, every id stays in
    order, and a crash anywhere in a write still leaves a loadable state."""
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["60m"], "regular", 0, chunk_max_bytes=300)
    processor.load("SPY", None, table.get)
    written: list[str] = []
    for n in range(200):  # three prints per write (about 30 bytes): eight merge, 64 would not fit
        batch = [TradeTick("SPY", OPENING + n * 10**9 + k, 0, Decimal("600"), 100, "t", f"T{n:03d}{k}") for k in range(3)]
        written += [tick.trade_id for tick in batch]
        processor.apply_batch("SPY", TradeTickBatch.of(batch, 0).prints(), n)
        writes, _ = write_every_prefix(table, processor, "SPY", ["60m"])
        assert all(len(json.dumps(chunk)) <= 300 for chunk in writes.values())
    levels = [level for _, level in table["SPY"]["id_chunks"]["60m"][str(OPENING)]]
    assert max(levels) == 1 and levels.count(1) == 200 // 8  # level-1 chunks (24 ids) never merge
    assert stored_ids(table, "SPY", "60m", OPENING) == written


def test_a_merge_with_a_chunk_kept_as_a_list_is_a_list_of_every_id_in_order() -> None:
    table: dict = {}
    processor = BarsProcessor(CALENDAR, ["60m"], "regular", 0)
    processor.load("SPY", None, table.get)
    ids = ["T0", "T1", "a\x1fb", "T3", "", "T5", "T6", "T7"]  # an empty id too: still one id
    for n, trade_id in enumerate(ids):
        processor.apply(TradeTick("SPY", OPENING + n * 10**9, 0, Decimal("600"), 100, "t", trade_id), n)
        writes, _ = write(table, processor, "SPY")
    assert writes == {id_key("SPY", "60m", OPENING, 0, 1): ids}
    assert stored_ids(table, "SPY", "60m", OPENING) == ids
    for n, trade_id in enumerate([f"T{n}" for n in range(9, 17)], start=9):
        processor.apply(TradeTick("SPY", OPENING + n * 10**9, 0, Decimal("600"), 100, "t", trade_id), n)
        write(table, processor, "SPY")
    assert table["SPY"]["id_chunks"]["60m"][str(OPENING)] == [[8, 1], [8, 1]]
    assert table[id_key("SPY", "60m", OPENING, 1, 1)] == "\x1f".join(["T9", *(f"T{n}" for n in range(10, 17))])
    restarted = BarsProcessor(CALENDAR, ["60m"], "regular", 0)
    restarted.load("SPY", table["SPY"], table.get)
    for n, trade_id in enumerate(["a\x1fb", "", "T12"], start=20):
        restarted.apply(TradeTick("SPY", OPENING + n * 10**9, 0, Decimal("600"), 100, "t", trade_id), n)
    assert restarted.counts["DuplicateTick"] == 3

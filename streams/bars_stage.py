"""Stage ticks -> bars: decode each tick, feed the bar aggregators of every configured timeframe,
send the bars they close. State per symbol lives in the `bars-state` table (changelog-backed).

Exactly-once effect by idempotent keys: the table value records the offset of the last tick applied
for the symbol, so a restarted worker that re-reads ticks after its last committed offset skips the
ones already in its restored state; a bar sent twice (crash between send and state write) has the
same key (symbol, timeframe, start) and the sink upserts it, the indicator stage ignores it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import time

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from processors.bars import VOLUME_ONLY_BAR, BarAggregator, Timeframe
from processors.calendar import MarketCalendar, build_nyse_calendar, parse_sessions
from processors.model import ID_SEPARATOR, PRICE_E8, PrintColumns, TradeTick, TradeTickBatch
from streams.app import StageContext, StageRuntime, delete_state, fail_stop_on_loss, record_latency, write_state
from schemas.errors import StateError

log = logging.getLogger(__name__)

STAGE = "bars"
BATCH_SIZE = 2000  # TradeTick records per agent batch at most
BATCH_RECORDS = 1000  # TradeTickBatch records per agent batch at most (never reached at 50,000 ticks/s)
BATCH_WITHIN_S = 0.03  # an agent batch waits at most this long for more records


def stage_calendar(today: dt.date) -> MarketCalendar:
    return build_nyse_calendar(dt.date(2000, 1, 1), today + dt.timedelta(days=730))


def id_key(symbol: str, timeframe: str, start: int, chunk: int, level: int) -> str:
    """Table key of one chunk of an open bar's trade ids (its position in the bar and its merge level).
    Level -1 is the key form of values written before chunks had levels."""
    if level < 0:
        return f"{symbol}|ids|{timeframe}|{start}|{chunk}"
    return f"{symbol}|ids|{timeframe}|{start}|{chunk}|{level}"


def packed_ids(ids: list[str]) -> str | list[str]:
    """A chunk's ids as one string joined by ID_SEPARATOR: a third smaller than a JSON list of strings and
    several times cheaper to encode. A chunk whose ids contain the separator stays a list."""
    joined = ID_SEPARATOR.join(ids)
    return joined if joined.count(ID_SEPARATOR) == len(ids) - 1 else ids


def merged_chunk(chunks: list[str | list[str]]) -> str | list[str]:
    """Consecutive chunks as one, in the same form (joined, or a list if any of them is one)."""
    if all(isinstance(chunk, str) for chunk in chunks):
        return ID_SEPARATOR.join(chunks)  # type: ignore[arg-type]
    return [i for chunk in chunks for i in (chunk.split(ID_SEPARATOR) if isinstance(chunk, str) else chunk)]


def chunk_fits(chunk: str | list[str], limit: int) -> bool:
    """Whether a chunk's changelog value (JSON) is at most `limit` bytes. JSON writes a character in at
    most 6 bytes (\\u001f for the separator), so most chunks are settled without encoding them."""
    length = len(chunk) if isinstance(chunk, str) else sum(map(len, chunk)) + len(chunk)
    return 6 * length + 2 <= limit or len(json.dumps(chunk)) <= limit


ID_CHUNK_MERGE = 8  # this many id chunks of one level merge into one chunk of the next level
# A chunk's value at most: a changelog record must stay below the producer's batch and request size
# (streams.app.PRODUCER_BATCH_BYTES) and the broker's message.max.bytes, or its send fails and stops
# the worker, at every restart again.
ID_CHUNK_MAX_BYTES = 512 * 1024


class BarsProcessor:
    """The stage's logic without Faust: symbol state in/out as JSON, events in, bars out.

    A symbol's table value holds its open bars and the offset of the last record applied. The trade ids
    of an open bar (for de-duplication) are stored apart, in chunks under `id_key`s, so that a write
    costs what the batch added, not the size of the bar (an hour bar of a busy symbol holds tens of
    thousands of ids). Each state write adds a chunk of level 0 with the ids counted since the previous
    write; whenever the last ID_CHUNK_MERGE chunks have the same level they are merged into one chunk of
    the next level. A bar written n times so holds fewer than ID_CHUNK_MERGE x log8(n) chunks, and each
    id is rewritten about log8(n) times: an hour bar written 30 times a second has at most 42 chunks,
    not 108,000 to read back on recovery and delete when it closes. The value lists each open bar's
    chunks as [size, level] pairs.

    No chunk's value exceeds `chunk_max_bytes`: ids counted since the last write that do not fit in one
    chunk go in several (a worker catching up after a restart takes up to BATCH_RECORDS records of one
    symbol in a batch), and chunks whose merge would not fit stay as they are. The count above holds
    until chunks reach that size; past it a bar keeps about 8 chunks per `chunk_max_bytes` of ids.

    A write is crash-safe in any prefix: new chunks first (a merged chunk under a key of its new level,
    which the previous value does not name), then the value, then the deletions of chunks it no longer
    names (merged ones, and a closed bar's).
    """

    def __init__(self, calendar: MarketCalendar, timeframes: list[str], sessions: str, lateness_ns: int,
                 chunk_max_bytes: int = ID_CHUNK_MAX_BYTES) -> None:
        selection = parse_sessions(sessions)
        self.chunk_max_bytes = chunk_max_bytes
        self.aggregators = {tf: BarAggregator(tf, selection, calendar, lateness_ns) for tf in timeframes}
        self.loaded: dict[str, int] = {}  # symbol -> last applied offset
        # symbol -> (timeframe, start) -> [size, level] of each id chunk, and the chunks as stored (the
        # same string objects as in the table: merges join them without splitting them into ids)
        self.chunks: dict[str, dict[tuple[str, int], list[list[int]]]] = {}
        self.contents: dict[str, dict[tuple[str, int], list[str | list[str]]]] = {}
        self.counts: Counter[str] = Counter()

    def load(self, symbol: str, state: dict | None, lookup: Callable[[str], list | None]) -> None:
        """Restore a symbol from its table value (None: never seen); `lookup` reads its id chunks."""
        if symbol in self.loaded:
            return
        offset = -1
        chunks: dict[tuple[str, int], list[list[int]]] = {}
        contents: dict[tuple[str, int], list[str | list[str]]] = {}
        if state:
            offset = int(state["offset"])
            for tf, aggregator in self.aggregators.items():
                if tf not in state["timeframes"]:
                    continue
                ids: dict[int, list[str]] = {}
                for start_text, listed in state.get("id_chunks", {}).get(tf, {}).items():
                    start = int(start_text)
                    ids[start] = []
                    # A value written before chunks had levels lists sizes only (level -1: the old keys).
                    sizes = [item if isinstance(item, list) else [item, -1] for item in listed]
                    stored_chunks = contents[(tf, start)] = []
                    for chunk, (size, level) in enumerate(sizes):
                        key = id_key(symbol, tf, start, chunk, level)
                        stored = lookup(key)
                        # ids joined by ID_SEPARATOR, or a list
                        unpacked = stored.split(ID_SEPARATOR) if isinstance(stored, str) else stored
                        if unpacked is None or len(unpacked) != size:
                            raise StateError(f"bars state of {symbol}: id chunk {key} is missing or holds "
                                             f"{len(unpacked or ())} ids, not {size}")
                        ids[start] += unpacked
                        stored_chunks.append(stored)
                    chunks[(tf, start)] = sizes
                aggregator.load_state(symbol, state["timeframes"][tf], ids)
        self.loaded[symbol] = offset
        self.chunks[symbol] = chunks
        self.contents[symbol] = contents

    def state(self, symbol: str) -> tuple[dict, dict[str, str | list[str]], list[str]]:
        """The symbol's table value, the id chunks to write before it and the keys to delete after it."""
        chunks = self.chunks.setdefault(symbol, {})
        contents = self.contents.setdefault(symbol, {})
        writes: dict[str, str | list[str]] = {}
        deletes: list[str] = []
        timeframes, id_chunks = {}, {}
        for tf, aggregator in self.aggregators.items():
            timeframes[tf] = aggregator.to_state(symbol, ids=False)
            open_starts = aggregator.open_bars(symbol)
            for start in open_starts:
                sizes = chunks.setdefault((tf, start), [])
                stored = contents.setdefault((tf, start), [])
                new = aggregator.take_new_ids(symbol, start)
                for count, packed in self._split(new) if new else ():
                    writes[id_key(symbol, tf, start, len(sizes), 0)] = packed
                    sizes.append([count, 0])
                    stored.append(packed)
                    self._merge(symbol, tf, start, sizes, stored, writes, deletes)
            for key in [k for k in chunks if k[0] == tf and k[1] not in open_starts]:  # the bar closed
                contents.pop(key, None)
                deletes += [id_key(symbol, tf, key[1], chunk, level)
                            for chunk, (_, level) in enumerate(chunks.pop(key))]
            # Copies: the value must not change when the next write appends to these lists.
            id_chunks[tf] = {str(start): list(sizes) for (t, start), sizes in chunks.items() if t == tf and sizes}
        return {"offset": self.loaded[symbol], "timeframes": timeframes, "id_chunks": id_chunks}, writes, deletes

    def _split(self, ids: list[str]) -> list[tuple[int, str | list[str]]]:
        """`ids` as consecutive chunks that fit (halved until they do): (number of ids, packed ids)."""
        packed = packed_ids(ids)
        if len(ids) == 1 or chunk_fits(packed, self.chunk_max_bytes):
            return [(len(ids), packed)]
        half = len(ids) // 2
        return self._split(ids[:half]) + self._split(ids[half:])

    def _merge(self, symbol: str, tf: str, start: int, sizes: list[list[int]], stored: list[str | list[str]],
               writes: dict[str, str | list[str]], deletes: list[str]) -> None:
        """Merge the last ID_CHUNK_MERGE chunks of a bar while they have one level and their merge fits."""
        while len(sizes) >= ID_CHUNK_MERGE and len({level for _, level in sizes[-ID_CHUNK_MERGE:]}) == 1:
            first = len(sizes) - ID_CHUNK_MERGE
            level = sizes[-1][1]
            merged = merged_chunk(stored[first:])
            if not chunk_fits(merged, self.chunk_max_bytes):
                return
            for chunk in range(first, len(sizes)):
                key = id_key(symbol, tf, start, chunk, level)
                if writes.pop(key, None) is None:  # a chunk written now is simply not written
                    deletes.append(key)
            writes[id_key(symbol, tf, start, first, level + 1)] = merged
            sizes[first:] = [[sum(size for size, _ in sizes[first:]), level + 1]]
            stored[first:] = [merged]

    def forget(self) -> None:
        """Drop the cache (after a rebalance the table is the truth)."""
        self.loaded.clear()
        self.chunks.clear()
        self.contents.clear()
        for aggregator in self.aggregators.values():
            aggregator.reset()

    def apply_batch(self, symbol: str, prints: PrintColumns, offset: int) -> tuple[list, list] | None:
        """Bars closed and error rejections `(timeframe, rejection, print index)` for a batch of one
        symbol's prints (`TradeTickBatch.prints`); None if this offset was applied before."""
        return self.apply_prints(symbol, prints.ts_events, prints.ts_inits,
                                 [units / PRICE_E8 for units in prints.prices_e8], prints.sizes, prints.trade_ids,
                                 prints.conditions, offset)

    def apply(self, tick: TradeTick, offset: int) -> tuple[list, list] | None:
        """`apply_batch` for a record holding one print (index 0)."""
        return self.apply_prints(tick.symbol, (tick.ts_event,), (tick.ts_init,), (float(tick.price),), (tick.size,),
                                 (tick.trade_id,), (tick.conditions,), offset)

    def apply_prints(self, symbol: str, ts_events: Sequence[int], ts_inits: Sequence[int], prices: Sequence[float],
                     sizes: Sequence[int], trade_ids: Sequence[str | None], conditions: Sequence[Sequence[str]],
                     offset: int) -> tuple[list, list] | None:
        """The prints of one record, column by column (prices as floats: the aggregators' raw form)."""
        if offset <= self.loaded[symbol]:
            return None
        self.loaded[symbol] = offset
        bars, errors = [], []
        for tf, aggregator in self.aggregators.items():
            refused = aggregator.update_many(symbol, ts_events, ts_inits, prices, sizes, trade_ids, conditions)
            closed, rejected = aggregator.drain()
            bars += closed
            indices = iter(refused)
            for rejection in rejected:
                index = -1 if rejection.code == VOLUME_ONLY_BAR else next(indices)
                self.counts[rejection.error_class] += 1
                if rejection.is_error:
                    errors.append((tf, rejection, index))
        return bars, errors


async def write_symbol(table, symbol: str, value: dict, writes: dict[str, str | list[str]],  # noqa: ANN001
                       deletes: list[str], partition: int) -> list[Awaitable]:
    """Write a symbol's new id chunks, then its value, then delete the chunks the value no longer names,
    in the changelog partition; returns the records' delivery futures."""
    futures = [await write_state(table, key, ids, partition) for key, ids in writes.items()]
    futures.append(await write_state(table, symbol, value, partition))
    futures += [await delete_state(table, key, partition) for key in deletes]
    return futures


def register(context: StageContext) -> None:
    app = context.app
    ticks = context.topic("ticks.trades")
    bars_topic = context.output_topic("bars")
    runtime = StageRuntime(context, "bars-state")
    table, latency = runtime.table, runtime.latency
    bars = context.settings.bars
    processor = BarsProcessor(stage_calendar(dt.date.today()), list(bars.timeframes), bars.sessions, bars.lateness_ns)

    if os.environ.get("BARS_STAGE_MODE", "batched") == "single":
        register_single(context, ticks, bars_topic, table, processor)
        return

    def bars_agent(record: type, take: int):  # noqa: ANN202 - a Faust agent function
        """The agent for one input: TradeTick records (one print each) or TradeTickBatch records (up to
        FEED_BATCH_TICKS prints of one symbol). State is written once per symbol per Faust batch."""
        batches = record is TradeTickBatch

        async def agent(stream) -> None:  # noqa: ANN001
            async for events in stream.take_events(take, within=BATCH_WITHIN_S):
                touched: dict[str, object] = {}
                sent: list = []
                for event in events:
                    value = await context.decode(event, STAGE, record)
                    if value is None:
                        continue
                    if batches:
                        try:
                            prints = value.prints()
                        except ValueError as exc:
                            await context.dead_letter(event, STAGE, "MalformedBatch", str(exc))
                            continue
                        if not prints:
                            await context.dead_letter(event, STAGE, "UnexpectedRecord", "TradeTickBatch without prints")
                            continue
                    symbol = value.symbol
                    if symbol not in processor.loaded:
                        processor.load(symbol, table.get(symbol), table.get)
                    result = processor.apply_batch(symbol, prints, event.message.offset) if batches else \
                        processor.apply(value, event.message.offset)
                    if result is None:
                        continue  # applied before the restart
                    touched[symbol] = event
                    kafka_ns = int(event.message.timestamp * 1_000_000_000) if event.message.timestamp else 0
                    now_ns = time.time_ns()
                    last_event, last_arrival = (prints.ts_events[-1], prints.ts_inits[-1]) if batches else \
                        (value.ts_event, value.ts_init)
                    record_latency(latency, value.feed, symbol, "EXCHANGE_TO_ARRIVAL", last_arrival - last_event, now_ns)
                    if kafka_ns:
                        record_latency(latency, value.feed, symbol, "ARRIVAL_TO_KAFKA", kafka_ns - last_arrival, now_ns)
                    bars, errors = result
                    for timeframe, rejection, index in errors:
                        reason = f"print {index} at {rejection.ts_event}: {rejection.reason}" if batches \
                            else rejection.reason
                        await context.dead_letter(event, f"{STAGE}:{timeframe}", rejection.error_class, reason,
                                                  index if batches else -1)
                    for bar in bars:
                        sent.append(await bars_topic.send(key=bar.symbol.encode(), value=bar))
                        if kafka_ns:  # the print that closed the bar reached Kafka at kafka_ns
                            record_latency(latency, value.feed, bar.symbol, "TICK_TO_BAR_CLOSE",
                                           time.time_ns() - kafka_ns, now_ns)
                # State (with the offsets applied) is written only once the bars it covers are acknowledged:
                # a crash in between re-sends them (same keys; the sink upserts, the indicators ignore them).
                await asyncio.gather(*sent)
                # The changelog goes to the partition of the symbol's event (id chunks before the value that
                # lists them). The batch is then acknowledged without waiting for the records: Faust flushes
                # the producer before it commits an offset, and a lost record stops the worker.
                stored = []
                for symbol, event in touched.items():
                    stored += await write_symbol(table, symbol, *processor.state(symbol), event.message.partition)
                fail_stop_on_loss(stored)
                runtime.after_batch(processor.forget)
        return agent

    # One input per deployment: the feeds publish either one record per print or per-symbol batches.
    source = bars.input
    if source in ("trades", "both"):
        app.agent(ticks, name="bars")(bars_agent(TradeTick, BATCH_SIZE))
    if source in ("batches", "both"):
        app.agent(context.topic("ticks.batches"), name="bars-batches")(bars_agent(TradeTickBatch, BATCH_RECORDS))


def register_single(context: StageContext, ticks, bars_topic, table, processor: BarsProcessor) -> None:  # noqa: ANN001
    """The plain one-event-at-a-time agent (a table write per tick), kept for the benchmark comparison."""

    @context.app.agent(ticks, name="bars")
    async def bars_single_agent(stream) -> None:  # noqa: ANN001
        async for event in stream.events():
            tick = await context.decode(event, STAGE, TradeTick)
            if tick is None:
                continue
            processor.load(tick.symbol, table.get(tick.symbol), table.get)
            result = processor.apply(tick, event.message.offset)
            if result is None:
                continue
            bars, errors = result
            for timeframe, rejection, _ in errors:
                await context.dead_letter(event, f"{STAGE}:{timeframe}", rejection.error_class, rejection.reason)
            for bar in bars:
                await bars_topic.send(key=bar.symbol.encode(), value=bar)
            value, writes, deletes = processor.state(tick.symbol)
            for key, ids in writes.items():
                table[key] = ids
            table[tick.symbol] = value
            for key in deletes:
                del table[key]

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
import logging
import os
import time

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence

from processors.bars import VOLUME_ONLY_BAR, BarAggregator, Timeframe
from processors.calendar import MarketCalendar, build_nyse_calendar, parse_sessions
from processors.model import PRICE_E8, PrintColumns, TradeTick, TradeTickBatch
from streams.app import StageContext, StageRuntime, delete_state, fail_stop_on_loss, record_latency, write_state
from tradestream.errors import ConfigError, StateError

log = logging.getLogger(__name__)

STAGE = "bars"
BATCH_SIZE = 2000  # TradeTick records per agent batch at most
BATCH_RECORDS = 1000  # TradeTickBatch records per agent batch at most (never reached at 50,000 ticks/s)
BATCH_WITHIN_S = 0.03  # an agent batch waits at most this long for more records


def configured_timeframes() -> list[str]:
    raw = os.environ.get("BAR_TIMEFRAMES", "5m,15m,30m,60m")
    frames = [t.strip() for t in raw.split(",") if t.strip()]
    try:
        return [Timeframe.parse(t).text for t in frames]
    except ValueError as exc:
        raise ConfigError(f"BAR_TIMEFRAMES={raw!r}: {exc}") from None


def configured_lateness_ns() -> int:
    raw = os.environ.get("BAR_LATENESS_MS", "2000")
    if not raw.strip().isdigit():
        raise ConfigError(f"BAR_LATENESS_MS={raw!r} must be a non-negative integer (milliseconds)")
    return int(raw) * 1_000_000


def configured_input() -> str:
    """BAR_INPUT: trades (one record per print, the default), batches (TradeTickBatch records, when the
    feeds run with FEED_BATCH_TICKS > 0) or both."""
    raw = os.environ.get("BAR_INPUT", "trades").strip() or "trades"
    if raw not in ("trades", "batches", "both"):
        raise ConfigError(f"BAR_INPUT={raw!r} must be trades, batches or both")
    return raw


def configured_sessions() -> str:
    raw = os.environ.get("BAR_SESSIONS", "regular")
    try:
        parse_sessions(raw)
    except ValueError as exc:
        raise ConfigError(f"BAR_SESSIONS: {exc}") from None
    return raw


def stage_calendar(today: dt.date) -> MarketCalendar:
    return build_nyse_calendar(dt.date(2000, 1, 1), today + dt.timedelta(days=730))


def id_key(symbol: str, timeframe: str, start: int, chunk: int) -> str:
    """Table key of one chunk of an open bar's trade ids."""
    return f"{symbol}|ids|{timeframe}|{start}|{chunk}"


class BarsProcessor:
    """The stage's logic without Faust: symbol state in/out as JSON, events in, bars out.

    A symbol's table value holds its open bars and the offset of the last record applied. The trade ids
    of an open bar (for de-duplication) are stored apart, in chunks under `id_key`s: each state write
    adds one chunk with the ids counted since the previous write, and a closed bar's chunks are deleted.
    A write therefore costs what the batch added, not the size of the bar (an hour bar of a busy symbol
    holds tens of thousands of ids). The value lists the chunk sizes of each open bar.
    """

    def __init__(self, calendar: MarketCalendar, timeframes: list[str], sessions: str, lateness_ns: int) -> None:
        selection = parse_sessions(sessions)
        self.aggregators = {tf: BarAggregator(tf, selection, calendar, lateness_ns) for tf in timeframes}
        self.loaded: dict[str, int] = {}  # symbol -> last applied offset
        self.chunks: dict[str, dict[tuple[str, int], list[int]]] = {}  # symbol -> (timeframe, start) -> sizes
        self.counts: Counter[str] = Counter()

    def load(self, symbol: str, state: dict | None, lookup: Callable[[str], list | None]) -> None:
        """Restore a symbol from its table value (None: never seen); `lookup` reads its id chunks."""
        if symbol in self.loaded:
            return
        offset = -1
        chunks: dict[tuple[str, int], list[int]] = {}
        if state:
            offset = int(state["offset"])
            for tf, aggregator in self.aggregators.items():
                if tf not in state["timeframes"]:
                    continue
                ids: dict[int, list[str]] = {}
                for start_text, sizes in state.get("id_chunks", {}).get(tf, {}).items():
                    start = int(start_text)
                    ids[start] = []
                    for chunk in range(len(sizes)):
                        stored = lookup(id_key(symbol, tf, start, chunk))
                        if stored is None or len(stored) != sizes[chunk]:
                            raise StateError(f"bars state of {symbol}: id chunk {id_key(symbol, tf, start, chunk)} "
                                             f"is missing or holds {len(stored or ())} ids, not {sizes[chunk]}")
                        ids[start] += stored
                    chunks[(tf, start)] = list(sizes)
                aggregator.load_state(symbol, state["timeframes"][tf], ids)
        self.loaded[symbol] = offset
        self.chunks[symbol] = chunks

    def state(self, symbol: str) -> tuple[dict, dict[str, list | None]]:
        """The symbol's table value, and the id-chunk entries to write first (None: delete the entry)."""
        chunks = self.chunks.setdefault(symbol, {})
        entries: dict[str, list | None] = {}
        timeframes, id_chunks = {}, {}
        for tf, aggregator in self.aggregators.items():
            timeframes[tf] = aggregator.to_state(symbol, ids=False)
            open_starts = aggregator.open_bars(symbol)
            for start in open_starts:
                sizes = chunks.get((tf, start), [])
                new = aggregator.trade_ids(symbol, start, sum(sizes))
                if new:
                    entries[id_key(symbol, tf, start, len(sizes))] = new
                    chunks[(tf, start)] = [*sizes, len(new)]
            for key in [k for k in chunks if k[0] == tf and k[1] not in open_starts]:  # the bar closed
                entries.update((id_key(symbol, tf, key[1], chunk), None) for chunk in range(len(chunks.pop(key))))
            id_chunks[tf] = {str(start): sizes for (t, start), sizes in chunks.items() if t == tf}
        return {"offset": self.loaded[symbol], "timeframes": timeframes, "id_chunks": id_chunks}, entries

    def forget(self) -> None:
        """Drop the cache (after a rebalance the table is the truth)."""
        self.loaded.clear()
        self.chunks.clear()
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


async def write_symbol(table, symbol: str, value: dict, entries: dict[str, list | None],  # noqa: ANN001
                       partition: int) -> list[Awaitable]:
    """Write a symbol's id chunks (or delete them), then its value, to the changelog partition; returns
    the records' delivery futures."""
    futures = [await (write_state(table, key, ids, partition) if ids is not None else
                      delete_state(table, key, partition)) for key, ids in entries.items()]
    futures.append(await write_state(table, symbol, value, partition))
    return futures


def register(context: StageContext) -> None:
    app = context.app
    ticks = context.topic("ticks.trades")
    bars_topic = context.output_topic("bars")
    runtime = StageRuntime(context, "bars-state")
    table, latency = runtime.table, runtime.latency
    processor = BarsProcessor(stage_calendar(dt.date.today()), configured_timeframes(), configured_sessions(),
                              configured_lateness_ns())

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
    source = configured_input()
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
            value, entries = processor.state(tick.symbol)
            for key, ids in entries.items():
                if ids is None:
                    del table[key]
                else:
                    table[key] = ids
            table[tick.symbol] = value

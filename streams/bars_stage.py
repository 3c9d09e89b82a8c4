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

from processors.bars import ACCEPTED, VOLUME_ONLY_BAR, BarAggregator, Timeframe
from processors.calendar import MarketCalendar, build_nyse_calendar, parse_sessions
from processors.model import TradeTick, TradeTickBatch
from streams.app import StageContext, StageRuntime, record_latency, write_state
from tradestream.errors import ConfigError, DecodeError

log = logging.getLogger(__name__)

STAGE = "bars"
BATCH_SIZE = 2000
BATCH_WITHIN_S = 0.1


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


class BarsProcessor:
    """The stage's logic without Faust: symbol state in/out as JSON, events in, bars out."""

    def __init__(self, calendar: MarketCalendar, timeframes: list[str], sessions: str, lateness_ns: int) -> None:
        selection = parse_sessions(sessions)
        self.aggregators = {tf: BarAggregator(tf, selection, calendar, lateness_ns) for tf in timeframes}
        self.loaded: dict[str, int] = {}  # symbol -> last applied offset
        self.written: dict[str, dict] = {}  # symbol -> the last state this process wrote (kept by forget)
        self.counts: Counter[str] = Counter()

    def load(self, symbol: str, state: dict | None) -> None:
        """Restore a symbol from the table, or from this process's own last write when that is newer: a
        rebalance's table recovery can put back an older changelog value than the one just written, and
        offsets only grow within a partition, so the state with the higher offset is the current one."""
        if symbol in self.loaded:
            return
        own = self.written.get(symbol)
        if own is not None and (not state or int(own["offset"]) > int(state["offset"])):
            state = own
        offset = -1
        if state:
            offset = int(state["offset"])
            for tf, aggregator in self.aggregators.items():
                if tf in state["timeframes"]:
                    aggregator.load_state(symbol, state["timeframes"][tf])
        self.loaded[symbol] = offset

    def state(self, symbol: str) -> dict:
        state = {"offset": self.loaded[symbol],
                 "timeframes": {tf: a.to_state(symbol) for tf, a in self.aggregators.items()}}
        self.written[symbol] = state
        return state

    def forget(self) -> None:
        """Drop the cache (after a rebalance the table is the truth)."""
        self.loaded.clear()
        for aggregator in self.aggregators.values():
            aggregator.reset()

    def apply_batch(self, batch: TradeTickBatch, offset: int) -> tuple[list, list] | None:
        """Bars closed and error rejections `(timeframe, rejection, print index)` for a batch of one
        symbol's prints; None if this offset was applied before. The aggregators take raw values."""
        symbol = batch.symbol
        if offset <= self.loaded[symbol]:
            return None
        self.loaded[symbol] = offset
        bars, errors = [], []
        for tf, aggregator in self.aggregators.items():
            update = aggregator.update_raw
            refused = []
            for index, entry in enumerate(batch.ticks):
                if update(symbol, entry["ts_event"], entry["ts_init"], float(entry["price"]), entry["size"],
                          entry.get("trade_id"), entry.get("conditions")) != ACCEPTED:
                    refused.append(index)
            closed, rejected = aggregator.drain()
            bars += closed
            indices = iter(refused)
            for rejection in rejected:
                index = -1 if rejection.code == VOLUME_ONLY_BAR else next(indices)
                self.counts[rejection.error_class] += 1
                if rejection.is_error:
                    errors.append((tf, rejection, index))
        return bars, errors

    def apply(self, tick: TradeTick, offset: int) -> tuple[list, list] | None:
        """Bars closed and error rejections for one tick; None if this offset was applied before."""
        if offset <= self.loaded[tick.symbol]:
            return None
        self.loaded[tick.symbol] = offset
        bars, errors = [], []
        for tf, aggregator in self.aggregators.items():
            aggregator.handle_tick(tick)
            closed, rejected = aggregator.drain()
            bars += closed
            for rejection in rejected:
                self.counts[rejection.error_class] += 1
                if rejection.is_error:
                    errors.append((tf, rejection))
        return bars, errors


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
    source = configured_input()

    async def bars_batches_agent(stream) -> None:  # noqa: ANN001
        # Multi-record Avro: one Kafka record carries up to FEED_BATCH_TICKS prints of one symbol.
        async for events in stream.take_events(BATCH_SIZE // 20, within=BATCH_WITHIN_S):
            touched: dict[str, object] = {}
            sent: list = []
            for event in events:
                try:
                    batch = context.codec.decode(event.value)
                except DecodeError as exc:
                    await context.dead_letter(event, STAGE, type(exc).__name__, str(exc))
                    continue
                if not isinstance(batch, TradeTickBatch) or not batch.ticks:
                    await context.dead_letter(event, STAGE, "UnexpectedRecord",
                                              f"{type(batch).__name__} without prints on the batches topic")
                    continue
                if batch.symbol not in processor.loaded:
                    processor.load(batch.symbol, table.get(batch.symbol))
                result = processor.apply_batch(batch, event.message.offset)
                if result is None:
                    continue
                touched[batch.symbol] = event
                kafka_ns = int(event.message.timestamp * 1_000_000_000) if event.message.timestamp else 0
                now_ns = time.time_ns()
                last = batch.ticks[-1]
                record_latency(latency, batch.feed, batch.symbol, "EXCHANGE_TO_ARRIVAL",
                               last["ts_init"] - last["ts_event"], now_ns)
                if kafka_ns:
                    record_latency(latency, batch.feed, batch.symbol, "ARRIVAL_TO_KAFKA", kafka_ns - last["ts_init"],
                                   now_ns)
                bars, errors = result
                for timeframe, rejection, index in errors:
                    await context.dead_letter(event, f"{STAGE}:{timeframe}", rejection.error_class,
                                              f"print {index} at {rejection.ts_event}: {rejection.reason}", index)
                for bar in bars:
                    sent.append(await bars_topic.send(key=bar.symbol.encode(), value=bar))
                    if kafka_ns:
                        record_latency(latency, batch.feed, bar.symbol, "TICK_TO_BAR_CLOSE", time.time_ns() - kafka_ns,
                                       now_ns)
            await asyncio.gather(*sent)
            await asyncio.gather(*(write_state(table, symbol, processor.state(symbol), event.message.partition)
                                   for symbol, event in touched.items()))
            runtime.after_batch(processor.forget)

    async def bars_agent(stream) -> None:  # noqa: ANN001
        # Batches: state is written to the table once per symbol per batch, not once per tick.
        async for events in stream.take_events(BATCH_SIZE, within=BATCH_WITHIN_S):
            touched: dict[str, object] = {}
            sent: list = []
            for event in events:
                try:
                    tick = context.codec.decode(event.value)
                except DecodeError as exc:
                    await context.dead_letter(event, STAGE, type(exc).__name__, str(exc))
                    continue
                if not isinstance(tick, TradeTick):
                    await context.dead_letter(event, STAGE, "UnexpectedRecord",
                                              f"{type(tick).__name__} on ticks topic")
                    continue
                if tick.symbol not in processor.loaded:
                    processor.load(tick.symbol, table.get(tick.symbol))
                result = processor.apply(tick, event.message.offset)
                if result is None:
                    continue
                touched[tick.symbol] = event
                kafka_ns = int(event.message.timestamp * 1_000_000_000) if event.message.timestamp else 0
                now_ns = time.time_ns()
                record_latency(latency, tick.feed, tick.symbol, "EXCHANGE_TO_ARRIVAL", tick.ts_init - tick.ts_event,
                               now_ns)
                if kafka_ns:
                    record_latency(latency, tick.feed, tick.symbol, "ARRIVAL_TO_KAFKA", kafka_ns - tick.ts_init, now_ns)
                bars, errors = result
                for timeframe, rejection in errors:
                    await context.dead_letter(event, f"{STAGE}:{timeframe}", rejection.error_class,
                                              rejection.reason)
                for bar in bars:
                    sent.append(await bars_topic.send(key=bar.symbol.encode(), value=bar))
                    if kafka_ns:  # the tick that closed the bar reached Kafka at kafka_ns
                        record_latency(latency, tick.feed, bar.symbol, "TICK_TO_BAR_CLOSE",
                                       time.time_ns() - kafka_ns, now_ns)
            # State (with the offsets applied) is written only once the bars it covers are acknowledged:
            # a crash in between re-sends them (same keys; the sink upserts, the indicators ignore them).
            await asyncio.gather(*sent)
            # The changelog goes to the partition of the symbol's event; the batch is acknowledged (and its
            # offsets become committable) only once the state records are stored.
            await asyncio.gather(*(write_state(table, symbol, processor.state(symbol), event.message.partition)
                                   for symbol, event in touched.items()))
            runtime.after_batch(processor.forget)

    # One input per deployment: the feeds publish either one record per print or per-symbol batches.
    if source in ("trades", "both"):
        app.agent(ticks, name="bars")(bars_agent)
    if source in ("batches", "both"):
        app.agent(context.topic("ticks.batches"), name="bars-batches")(bars_batches_agent)


def register_single(context: StageContext, ticks, bars_topic, table, processor: BarsProcessor) -> None:  # noqa: ANN001
    """The plain one-event-at-a-time agent (a table write per tick), kept for the benchmark comparison."""

    @context.app.agent(ticks, name="bars")
    async def bars_single_agent(stream) -> None:  # noqa: ANN001
        async for event in stream.events():
            try:
                tick = context.codec.decode(event.value)
            except DecodeError as exc:
                await context.dead_letter(event, STAGE, type(exc).__name__, str(exc))
                continue
            processor.load(tick.symbol, table.get(tick.symbol))
            result = processor.apply(tick, event.message.offset)
            if result is None:
                continue
            bars, errors = result
            for timeframe, rejection in errors:
                await context.dead_letter(event, f"{STAGE}:{timeframe}", rejection.error_class, rejection.reason)
            for bar in bars:
                await bars_topic.send(key=bar.symbol.encode(), value=bar)
            table[tick.symbol] = processor.state(tick.symbol)

"""Stage ticks -> bars: each agent decodes a record, hands it to the stage's processor
(`processors.bars.state.BarsProcessor`, which feeds the bar aggregators of every configured timeframe)
and sends the bars, dead letters and latencies it returns. State per symbol lives in the `bars-state`
table (changelog-backed); the processor's docstring gives the exactly-once argument and the write order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable

from processors.bars.state import STAGE, BarsProcessor, stage_calendar
from processors.calendar import MarketCalendar
from processors.event_time import EventTimeBounds
from processors.model import TradeTick, TradeTickBatch
from processors.settings import CalendarInForce
from streams.app import StageContext, StageRuntime, delete_state, fail_stop_on_loss, record_latency, write_state
from streams.settings import BarsStageSettings
from streams.settings_watch import SettingsWatch

log = logging.getLogger(__name__)

BATCH_SIZE = 2000  # TradeTick records per agent batch at most
BATCH_RECORDS = 1000  # TradeTickBatch records per agent batch at most (never reached at 50,000 ticks/s)
BATCH_WITHIN_S = 0.03  # an agent batch waits at most this long for more records
SETTINGS_POLL_S = 5.0  # how often the stage looks for a new version of the universal settings


def stage_processor(bars: BarsStageSettings, today: dt.date | None = None,
                    event_time: EventTimeBounds = EventTimeBounds(),
                    calendar: MarketCalendar | None = None) -> BarsProcessor:
    """The processor for the stage's settings, with `calendar` or the exchange's to two years after `today`
    (default: today)."""
    calendar = calendar or stage_calendar(today or dt.date.today())
    return BarsProcessor(calendar, list(bars.timeframes), bars.sessions, bars.lateness_ns, event_time=event_time)


def kafka_time_ns(message) -> int:  # noqa: ANN001 - a Faust message
    """The record's Kafka timestamp in ns (0: none)."""
    return int(message.timestamp * 1_000_000_000) if message.timestamp else 0


async def write_symbol(table, symbol: str, value: dict, writes: dict[str, str | list[str]],  # noqa: ANN001
                       deletes: list[str], partition: int) -> list[Awaitable]:
    """Write a symbol's new id chunks, then its value, then delete the chunks the value no longer names,
    in the changelog partition; returns the records' delivery futures."""
    futures = [await write_state(table, key, ids, partition) for key, ids in writes.items()]
    futures.append(await write_state(table, symbol, value, partition))
    futures += [await delete_state(table, key, partition) for key in deletes]
    return futures


def register(context: StageContext) -> None:
    runtime = StageRuntime(context, "bars-state")
    # The universal settings' calendar (extra closed dates and half-days, session hours): read to the settings
    # topic's end now, then followed every few seconds (streams/settings_watch.py).
    watch = SettingsWatch(context.settings.kafka, context.codec, CalendarInForce(stage_calendar(dt.date.today())),
                          client=f"{context.app.conf.id}-settings")
    watch.catch_up()
    processor = stage_processor(context.settings.bars, event_time=context.settings.event_time,
                                calendar=watch.calendar)

    @context.app.timer(interval=SETTINGS_POLL_S, name="bars-settings")
    async def follow_settings() -> None:
        watch.poll()

    # One input per deployment: the feeds publish either one record per print or per-symbol batches.
    source = context.settings.bars.input
    if source in ("trades", "both"):
        context.app.agent(context.topic("ticks.trades"), name="bars")(
            bars_agent(context, runtime, processor, TradeTick, BATCH_SIZE))
    if source in ("batches", "both"):
        context.app.agent(context.topic("ticks.batches"), name="bars-batches")(
            bars_agent(context, runtime, processor, TradeTickBatch, BATCH_RECORDS))


def bars_agent(context: StageContext, runtime: StageRuntime, processor: BarsProcessor, record: type,
               take: int) -> Callable:
    """The agent for one input: TradeTick records (one print each) or TradeTickBatch records (up to
    FEED_BATCH_TICKS prints of one symbol). State is written once per symbol per Faust batch."""
    bars_topic = context.output_topic("bars")
    table, latency = runtime.table, runtime.latency

    async def agent(stream) -> None:  # noqa: ANN001
        async for events in stream.take_events(take, within=BATCH_WITHIN_S):
            touched: dict[str, object] = {}
            sent: list = []
            for event in events:
                value = await context.decode(event, STAGE, record)
                if value is None:
                    continue
                message, now_ns = event.message, time.time_ns()
                outcome = processor.apply_record(value, message.offset, kafka_time_ns(message), now_ns, table.get)
                for letter in outcome.dead_letters:
                    await context.dead_letter(event, letter.stage, letter.error_class, letter.reason,
                                              letter.source_index)
                if outcome.changed:
                    touched[value.symbol] = event
                for sample in outcome.latencies:
                    record_latency(latency, sample.feed, sample.symbol, sample.hop, sample.latency_ns, now_ns)
                sent += [await bars_topic.send(key=bar.symbol.encode(), value=bar) for bar in outcome.bars]
            # State (with the offsets applied) is written only once the bars it covers are acknowledged:
            # a crash in between re-sends them (same keys; the sink upserts, the indicators ignore them).
            await asyncio.gather(*sent)
            # The changelog goes to the partition of the symbol's event (id chunks before the value that
            # lists them). The batch is then acknowledged without waiting for the records: Faust flushes
            # the producer before it commits an offset, and a lost record stops the worker.
            stored: list[Awaitable] = []
            for symbol, event in touched.items():
                stored += await write_symbol(table, symbol, *processor.state(symbol), event.message.partition)
            fail_stop_on_loss(stored)
            runtime.after_batch(processor.forget)
    return agent

"""The bars stage replayed for an audit: the recorded prints of the range through the stage's own processor
(`processors.bars.state.BarsProcessor`, as `streams.bars_stage` drives it), with the stage's settings; and
the indicators stage on those bars (`processors.indicators.IndicatorSet` per symbol and timeframe, as
`streams.indicators_stage` applies it, from no state at the range's start).

Each partition's records are applied in offset order, as the stage's agent takes them; the partitions are
merged by event time so that a new version of the universal settings (SettingsChanged, read from the
settings topic's beginning) amends the calendar at the instant it was made, as the strategy runner applies
it. The prints are read to the topics' ends, past the range, so a bar of the range is closed by the same
later print that closed it live; the bars compared are those starting in the range (`streams.audit_replay`).
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass

from connectors.kafka.codec import AvroCodec
from processors.bars.state import BarsProcessor
from processors.calendar import build_nyse_calendar
from processors.event_time import EventTimeBounds
from processors.indicators import IndicatorParams, IndicatorSet, IndicatorSnapshot
from processors.model import Bar, SettingsChanged, TradeTick, TradeTickBatch
from processors.settings import CalendarInForce
from schemas.errors import DecodeError, TradestreamError
from streams.audit_record import RecordSource
from streams.settings import BarsStageSettings

log = logging.getLogger(__name__)

INPUTS = {"trades": ("ticks.trades",), "batches": ("ticks.batches",), "both": ("ticks.trades", "ticks.batches")}


@dataclass(slots=True)
class BarsReplay:
    bars: list[Bar]
    records: int        # input records replayed
    prints: int         # prints in them
    undecodable: int    # records the stage would dead-letter without a bar


def replay_bars(source: RecordSource, topic: Callable[[str], str], codec: AvroCodec, stage: BarsStageSettings,
                event_time: EventTimeBounds, start_ns: int, end_ns: int) -> BarsReplay:
    """The bars the stage makes from the prints recorded from `start_ns` on, those starting before `end_ns` (the
    caller compares those starting in the range: one starting before it may lack prints recorded before it).
    `source` gives the records; `topic` a catalogue topic's name on the broker."""
    first = dt.datetime.fromtimestamp(start_ns / 1e9, dt.timezone.utc).date()
    last = dt.datetime.fromtimestamp(end_ns / 1e9, dt.timezone.utc).date()
    in_force = CalendarInForce(build_nyse_calendar(first - dt.timedelta(days=10), last + dt.timedelta(days=30)))
    processor = BarsProcessor(in_force.calendar, list(stage.timeframes), stage.sessions, stage.lateness_ns,
                              event_time=event_time)
    changes = sorted(_settings_changes(source, topic("settings"), codec), key=lambda c: c.ts_init)
    outcome = BarsReplay([], 0, 0, 0)
    streams = [_decoded(source, topic(name), name == "ticks.batches", codec, start_ns, outcome)
               for name in INPUTS[stage.input]]
    applied = 0
    for ts_event, _, record, raw in heapq.merge(*streams, key=lambda item: (item[0], item[1])):
        while applied < len(changes) and changes[applied].ts_init <= ts_event:
            try:
                in_force.apply(changes[applied])
            except TradestreamError as exc:
                log.warning("audit: settings version %d refused: %s", changes[applied].version, exc)
            applied += 1
        outcome.records += 1
        result = processor.apply_record(record, raw.offset, raw.kafka_ns, raw.kafka_ns, _nothing)
        outcome.bars += [bar for bar in result.bars if bar.start < end_ns]
    return outcome


def replay_indicators(bars: list[Bar], params: IndicatorParams = IndicatorParams()) -> list[IndicatorSnapshot]:
    """The snapshots the indicators stage makes of `bars`, taken in the order they were closed."""
    sets: dict[tuple[str, str], IndicatorSet] = {}
    snapshots = []
    for bar in bars:
        indicator = sets.get((bar.symbol, bar.timeframe))
        if indicator is None:
            indicator = sets[(bar.symbol, bar.timeframe)] = IndicatorSet(bar.symbol, bar.timeframe, params)
        snapshot = indicator.handle_bar(bar)
        if snapshot is not None:
            snapshots.append(snapshot)
    return snapshots


def _nothing(_: str) -> None:
    """The replay's table: empty (every symbol starts from the range's first print)."""
    return None


def _decoded(source: RecordSource, topic: str, batches: bool, codec: AvroCodec, start_ns: int,  # noqa: ANN202
             outcome: BarsReplay):
    """(ts_event, sequence, record, raw) of the topic's input records, partition by partition in offset order,
    each partition's sequence a merge of its own (heapq.merge needs each input sorted: one per partition)."""
    by_partition: dict[int, list] = {}
    for raw in source.read(topic, start_ns):
        try:
            record = codec.decode(raw.value, "TradeTickBatch" if batches else "TradeTick")
        except DecodeError:
            outcome.undecodable += 1
            continue
        ts_event = _first_event_ns(record)
        outcome.prints += record.count or len(record.ticks) if batches else 1
        rows = by_partition.setdefault(raw.partition, [])
        # A partition's records keep their offset order: a late print never moves ahead of an earlier record.
        ts_event = max(ts_event, rows[-1][0]) if rows else ts_event
        rows.append((ts_event, (raw.partition, raw.offset), record, raw))
    return heapq.merge(*by_partition.values(), key=lambda item: (item[0], item[1]))


def _first_event_ns(record: TradeTick | TradeTickBatch) -> int:
    if isinstance(record, TradeTickBatch):
        try:
            return record.prints().ts_events[0]
        except (ValueError, IndexError):
            return 0       # malformed: the processor dead-letters it
    return record.ts_event


def _settings_changes(source: RecordSource, topic: str, codec: AvroCodec) -> list[SettingsChanged]:
    changes = []
    for raw in source.read(topic, None):
        try:
            changes.append(codec.decode(raw.value, "SettingsChanged"))
        except DecodeError as exc:
            log.warning("audit: settings record %s[%d]@%d unreadable: %s", raw.topic, raw.partition, raw.offset, exc)
    return changes


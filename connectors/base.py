"""What every market-data feed connector gives the rest of the platform.

A connector translates its venue's objects into our events at the edge (the vendor's types never
leak past it) and hands them to a `FeedSink`: in production an adapter that publishes to Kafka
(`KafkaFeedSink`), in tests a list. Feeds report their state changes and heartbeats as
`FeedStatusChanged` events through the same sink.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from connectors.kafka.publisher import EventPublisher
from processors.model import FeedStatusChanged, QuoteTick, TradeTick, TradeTickBatch


class FeedSink(Protocol):
    def on_trade(self, tick: TradeTick) -> None: ...

    def on_quote(self, quote: QuoteTick) -> None: ...

    def on_status(self, status: FeedStatusChanged) -> None: ...


class KafkaFeedSink:
    """Publishes a feed's events to the catalogue topics, keyed by symbol (status keyed by feed)."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher
        self.trades_topic = publisher.kafka.topic("ticks.trades")
        self.quotes_topic = publisher.kafka.topic("ticks.quotes")
        self.status_topic = publisher.kafka.topic("feed.status")

    def on_trade(self, tick: TradeTick) -> None:
        self.publisher.publish(self.trades_topic, tick.symbol, tick)

    def on_quote(self, quote: QuoteTick) -> None:
        self.publisher.publish(self.quotes_topic, quote.symbol, quote)

    def on_status(self, status: FeedStatusChanged) -> None:
        self.publisher.publish(self.status_topic, status.feed, status)

    def poll(self, now: int | None = None) -> None:
        """Send what has waited long enough (nothing to do for single records)."""

    def flush(self) -> None:
        """Send everything pending (nothing to do for single records)."""


_NEVER = 2**63


class BatchingKafkaFeedSink(KafkaFeedSink):
    """Publishes trades as per-symbol TradeTickBatch records on `ticks.batches` (multi-record Avro):
    a symbol's batch is sent when it holds `max_ticks` prints or its oldest print waited `max_wait_ns`
    (checked on every trade and by `poll`, which a feed calls on its heartbeat); `flush` sends all.
    Ordering per symbol is kept: one symbol's batches go to one partition, in order."""

    def __init__(self, publisher: EventPublisher, max_ticks: int = 200, max_wait_ns: int = 20_000_000,
                 wall_ns: Callable[[], int] = time.time_ns) -> None:
        super().__init__(publisher)
        if max_ticks < 1 or max_wait_ns < 0:
            raise ValueError("max_ticks must be >= 1 and max_wait_ns >= 0")
        self.batches_topic = publisher.kafka.topic("ticks.batches")
        self.max_ticks = max_ticks
        self.max_wait_ns = max_wait_ns
        self.wall_ns = wall_ns
        self._pending: dict[str, tuple[int, list[TradeTick]]] = {}
        self._due = _NEVER  # no pending batch needs sending before this wall time

    def on_trade(self, tick: TradeTick) -> None:
        now = self.wall_ns()
        pending = self._pending.get(tick.symbol)
        if pending is None:
            pending = self._pending[tick.symbol] = (now, [])
            self._due = min(self._due, now + self.max_wait_ns)
        pending[1].append(tick)
        if len(pending[1]) >= self.max_ticks:
            self._send(tick.symbol, now)
        if now >= self._due:
            self.poll(now)

    def _send(self, symbol: str, now: int) -> None:
        _, ticks = self._pending.pop(symbol)
        self.publisher.publish(self.batches_topic, symbol, TradeTickBatch.of(ticks, now))

    def poll(self, now: int | None = None) -> None:
        now = self.wall_ns() if now is None else now
        if now < self._due:
            return
        for symbol in [s for s, (started, _) in self._pending.items() if now - started >= self.max_wait_ns]:
            self._send(symbol, now)
        self._due = min((started for started, _ in self._pending.values()), default=_NEVER - self.max_wait_ns) \
            + self.max_wait_ns

    def flush(self) -> None:
        now = self.wall_ns()
        for symbol in list(self._pending):
            self._send(symbol, now)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedBatching:
    """How feeds publish trades (built by the CLI from FEED_BATCH_TICKS and FEED_BATCH_MS)."""

    max_ticks: int = 0
    """Prints per TradeTickBatch record at most; 0 publishes one TradeTick record per print."""
    max_wait_ms: int = 20
    """A batch is sent at the latest this long after its first print."""


def feed_sink(publisher: EventPublisher, batching: FeedBatching) -> KafkaFeedSink:
    """The feed sink the settings ask for: single records, or per-symbol batches."""
    if batching.max_ticks == 0:
        return KafkaFeedSink(publisher)
    return BatchingKafkaFeedSink(publisher, batching.max_ticks, batching.max_wait_ms * 1_000_000)


class ListFeedSink:
    """Collects events in lists (tests, replays into memory)."""

    def __init__(self) -> None:
        self.trades: list[TradeTick] = []
        self.quotes: list[QuoteTick] = []
        self.statuses: list[FeedStatusChanged] = []

    def on_trade(self, tick: TradeTick) -> None:
        self.trades.append(tick)

    def on_quote(self, quote: QuoteTick) -> None:
        self.quotes.append(quote)

    def on_status(self, status: FeedStatusChanged) -> None:
        self.statuses.append(status)

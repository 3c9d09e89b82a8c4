"""What every market-data feed connector gives the rest of the platform.

A connector translates its venue's objects into our events at the edge (the vendor's types never
leak past it) and hands them to a `FeedSink`: in production an adapter that publishes to Kafka
(`KafkaFeedSink`), in tests a list. Feeds report their state changes and heartbeats as
`FeedStatusChanged` events through the same sink.
"""

from __future__ import annotations

from typing import Protocol

from connectors.kafka_publish import EventPublisher
from processors.model import FeedStatusChanged, QuoteTick, TradeTick
from streams.topics import spec


class FeedSink(Protocol):
    def on_trade(self, tick: TradeTick) -> None: ...

    def on_quote(self, quote: QuoteTick) -> None: ...

    def on_status(self, status: FeedStatusChanged) -> None: ...


class KafkaFeedSink:
    """Publishes a feed's events to the catalogue topics, keyed by symbol (status keyed by feed)."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher
        self.trades_topic = spec("ticks.trades").full_name()
        self.quotes_topic = spec("ticks.quotes").full_name()
        self.status_topic = spec("feed.status").full_name()

    def on_trade(self, tick: TradeTick) -> None:
        self.publisher.publish(self.trades_topic, tick.symbol, tick)

    def on_quote(self, quote: QuoteTick) -> None:
        self.publisher.publish(self.quotes_topic, quote.symbol, quote)

    def on_status(self, status: FeedStatusChanged) -> None:
        self.publisher.publish(self.status_topic, status.feed, status)


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

"""Typed, immutable market-data messages shared by every stage.

Each class mirrors one Avro schema in `schemas/` field for field (a test keeps them equal), so the
schema stays the single source of truth and the codec maps records to these types by name.
Times are integer nanoseconds since the Unix epoch, UTC: `ts_event` is when it happened at the
source, `ts_init` when our object was created. Prices are exact `Decimal`s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class TradeTick:
    symbol: str
    ts_event: int
    ts_init: int
    price: Decimal
    size: int
    feed: str
    trade_id: str | None = None
    exchange: str | None = None
    conditions: tuple[str, ...] = field(default_factory=tuple)


PRICE_E8 = 100_000_000  # prices in a TradeTickBatch are integer counts of 1e-8


def price_e8(price: Decimal) -> int:
    """An exact price as an integer count of 1e-8; ValueError if it has more than 8 fractional digits
    (or is not finite)."""
    if not price.is_finite():
        raise ValueError(f"price {price} is not a finite number")
    numerator, denominator = price.as_integer_ratio()
    factor, remainder = divmod(PRICE_E8, denominator)
    if remainder:
        raise ValueError(f"price {price} has more than 8 fractional digits")
    return numerator * factor


def price_of_e8(units: int) -> Decimal:
    """The exact decimal price of an integer count of 1e-8."""
    return Decimal(units).scaleb(-8)


@dataclass(frozen=True, slots=True)
class TradeTickBatch:
    """Consecutive prints of one symbol from one feed in one event, column by column: print i is
    (ts_events[i], ts_inits[i], prices_e8[i], sizes[i], trade_ids[i], exchanges[i], conditions[i]); an
    empty trade id or exchange means the feed gave none. A record written with schema version 1 decodes
    with its prints in `ticks` (TradeTickEntry field dicts) and empty columns: `columnar()` gives the
    column form of either."""

    symbol: str
    feed: str
    ts_init: int
    ts_events: tuple[int, ...] = ()
    ts_inits: tuple[int, ...] = ()
    prices_e8: tuple[int, ...] = ()
    sizes: tuple[int, ...] = ()
    trade_ids: tuple[str, ...] = ()
    exchanges: tuple[str, ...] = ()
    conditions: tuple[Sequence[str], ...] = ()
    ticks: tuple[dict, ...] = ()

    @classmethod
    def of(cls, ticks: Sequence[TradeTick], ts_init: int) -> TradeTickBatch:
        """The batch of `ticks` (one symbol, one feed); ValueError for a mixed list or a price with more
        than 8 fractional digits."""
        first = ticks[0]
        if any(t.symbol != first.symbol or t.feed != first.feed for t in ticks):
            raise ValueError("a batch holds prints of one symbol from one feed")
        return cls(first.symbol, first.feed, ts_init,
                   tuple(t.ts_event for t in ticks), tuple(t.ts_init for t in ticks),
                   tuple(price_e8(t.price) for t in ticks), tuple(t.size for t in ticks),
                   tuple(t.trade_id or "" for t in ticks), tuple(t.exchange or "" for t in ticks),
                   tuple(list(t.conditions) for t in ticks))

    def __len__(self) -> int:
        return len(self.ticks) or len(self.ts_events)

    def columnar(self) -> TradeTickBatch:
        """This batch in column form (a version-1 batch converted); ValueError if the columns do not all
        have one entry per print, or a version-1 price has more than 8 fractional digits."""
        if self.ticks:
            entries = self.ticks
            return TradeTickBatch(
                self.symbol, self.feed, self.ts_init, tuple(e["ts_event"] for e in entries),
                tuple(e["ts_init"] for e in entries), tuple(price_e8(e["price"]) for e in entries),
                tuple(e["size"] for e in entries), tuple(e.get("trade_id") or "" for e in entries),
                tuple(e.get("exchange") or "" for e in entries), tuple(list(e.get("conditions") or ()) for e in entries))
        lengths = {len(self.ts_events), len(self.ts_inits), len(self.prices_e8), len(self.sizes), len(self.trade_ids),
                   len(self.exchanges), len(self.conditions)}
        if len(lengths) != 1:
            raise ValueError(f"TradeTickBatch columns differ in length ({self.column_lengths()}): one entry per "
                             "print in each is required")
        return self

    def column_lengths(self) -> str:
        return ", ".join(f"{name} {len(getattr(self, name))}" for name in (
            "ts_events", "ts_inits", "prices_e8", "sizes", "trade_ids", "exchanges", "conditions"))

    def trades(self) -> list[TradeTick]:
        """The prints as TradeTicks (ValueError as in `columnar`)."""
        b = self.columnar()
        return [TradeTick(b.symbol, b.ts_events[i], b.ts_inits[i], price_of_e8(b.prices_e8[i]), b.sizes[i], b.feed,
                          b.trade_ids[i] or None, b.exchanges[i] or None, tuple(b.conditions[i]))
                for i in range(len(b.ts_events))]


@dataclass(frozen=True, slots=True)
class QuoteTick:
    symbol: str
    ts_event: int
    ts_init: int
    bid_price: Decimal
    bid_size: int
    ask_price: Decimal
    ask_size: int
    feed: str
    bid_exchange: str | None = None
    ask_exchange: str | None = None


@dataclass(frozen=True, slots=True)
class Bar:
    symbol: str
    timeframe: str
    session: str
    start: int
    end: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    vwap: Decimal
    trades: int
    ts_init: int = 0


@dataclass(frozen=True, slots=True)
class SignalGenerated:
    signal_id: str
    strategy: str
    symbol: str
    side: str
    ts_event: int
    ts_init: int
    price: Decimal
    reason: str
    rule_values: dict[str, float] = field(default_factory=dict)
    action: str = "ENTRY"


@dataclass(frozen=True, slots=True)
class SignalSuppressed:
    signal_id: str
    strategy: str
    symbol: str
    side: str
    ts_event: int
    ts_init: int
    price: Decimal | None
    rule: str
    suppression: str
    rule_values: dict[str, float] = field(default_factory=dict)
    action: str = "ENTRY"


@dataclass(frozen=True, slots=True)
class OrderIntentCreated:
    client_order_id: str
    signal_id: str
    strategy: str
    mode: str
    symbol: str
    instrument: str
    contract: str
    side: str
    ts_event: int
    ts_init: int
    exchange: str
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None
    tick_size: Decimal
    reference_price: Decimal
    product: str
    quantity: int
    multiplier: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    ts_init: int
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    error_class: str
    reason: str
    key: bytes | None = None
    value: bytes | None = None
    source_index: int = -1


@dataclass(frozen=True, slots=True)
class FeedStatusChanged:
    feed: str
    ts_init: int
    connected: bool
    active: bool
    messages_per_second: float
    event: str
    subscribed_symbols: tuple[str, ...] = field(default_factory=tuple)
    last_latency_ns: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class LatencyMeasured:
    feed: str
    symbol: str
    hop: str
    window_start: int
    window_end: int
    count: int
    p50_ns: int
    p95_ns: int
    p99_ns: int
    max_ns: int

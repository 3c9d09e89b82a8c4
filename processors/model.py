"""Typed, immutable market-data messages shared by every stage.

Each class mirrors one Avro schema in `schemas/` field for field (a test keeps them equal), so the
schema stays the single source of truth and the codec maps records to these types by name.
Times are integer nanoseconds since the Unix epoch, UTC: `ts_event` is when it happened at the
source, `ts_init` when our object was created. Prices are exact `Decimal`s.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class TradeTickBatch:
    """Consecutive prints of one symbol in one event; `ticks` holds TradeTickEntry field dicts."""

    symbol: str
    feed: str
    ts_init: int
    ticks: tuple[dict, ...]

    @classmethod
    def of(cls, ticks: list[TradeTick], ts_init: int) -> TradeTickBatch:
        first = ticks[0]
        if any(t.symbol != first.symbol or t.feed != first.feed for t in ticks):
            raise ValueError("a batch holds prints of one symbol from one feed")
        return cls(first.symbol, first.feed, ts_init, tuple(
            {"ts_event": t.ts_event, "ts_init": t.ts_init, "price": t.price, "size": t.size, "trade_id": t.trade_id,
             "exchange": t.exchange, "conditions": list(t.conditions)} for t in ticks))

    def trades(self) -> list[TradeTick]:
        return [TradeTick(self.symbol, e["ts_event"], e["ts_init"], e["price"], e["size"], self.feed, e.get("trade_id"),
                          e.get("exchange"), tuple(e.get("conditions") or ())) for e in self.ticks]


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

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

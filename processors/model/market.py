"""Market data: prints (`TradeTick`, and `TradeTickBatch` packing many of them), quotes and bars, with the
exact-price helpers they use (`price_e8`, `price_of_e8`, `plain_decimal`).

Part of processors.model (see its docstring for what every message shares).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np


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


def plain_decimal(value: Decimal | None) -> Decimal | None:
    """`value` without trailing fractional zeros (636.28000000 -> 636.28, 600.00000000 -> 600), else `value`
    itself. Prices decoded from Kafka carry the schemas' 8 decimal places and prices read from a file the digits
    written there: what is shown or written of them must read the same live, replayed and backtested."""
    if value is None:
        return None
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or digits[-1] != 0:
        return value
    normal = value.normalize()
    return normal.quantize(1) if normal.as_tuple().exponent > 0 else normal  # type: ignore[operator]


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


ID_SEPARATOR = "\x1f"  # joins a TradeTickBatch's trade ids (ASCII unit separator)


@dataclass(frozen=True, slots=True)
class PrintColumns:
    """The prints of a TradeTickBatch as Python columns, print i at index i of each; None for a trade id or
    exchange the feed did not give."""

    ts_events: list[int]
    ts_inits: list[int]
    prices_e8: list[int]
    sizes: list[int]
    trade_ids: list[str | None]
    exchanges: list[str | None]
    conditions: list[tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.ts_events)


@dataclass(frozen=True, slots=True)
class TradeTickBatch:
    """Consecutive prints of one symbol from one feed in one event, in the packed column form of the
    schema's version 2 (see trade_tick_batch.avsc); `of` packs TradeTicks, `prints` unpacks them. A record
    written with version 1 decodes with its prints in `ticks` (TradeTickEntry field dicts) and count 0;
    `prints` and `trades` read either form."""

    symbol: str
    feed: str
    ts_init: int
    count: int = 0
    ts_events: bytes = b""
    ts_inits: bytes = b""
    prices_e8: bytes = b""
    sizes: bytes = b""
    trade_ids: str = ""
    exchanges: tuple[str, ...] = ()
    exchange_index: bytes = b""
    condition_sets: tuple[Sequence[str], ...] = ()
    condition_index: bytes = b""
    ticks: tuple[dict, ...] = ()

    @classmethod
    def of(cls, ticks: Sequence[TradeTick], ts_init: int) -> TradeTickBatch:
        """The batch of `ticks` (one symbol, one feed); ValueError for a mixed list, a price with more than
        8 fractional digits, a trade id containing U+001F, or more than 65,536 distinct exchanges or
        condition lists."""
        first = ticks[0]
        if any(t.symbol != first.symbol or t.feed != first.feed for t in ticks):
            raise ValueError("a batch holds prints of one symbol from one feed")
        trade_ids = ID_SEPARATOR.join([t.trade_id or "" for t in ticks])
        if trade_ids.count(ID_SEPARATOR) != len(ticks) - 1:
            raise ValueError("a trade id contains U+001F, the separator of a batch's trade ids")
        exchanges: dict[str, int] = {}
        exchange_index = [exchanges.setdefault(t.exchange or "", len(exchanges)) for t in ticks]
        condition_sets: dict[tuple[str, ...], int] = {}
        condition_index = [condition_sets.setdefault(tuple(t.conditions), len(condition_sets)) for t in ticks]
        if len(exchanges) > 65_536 or len(condition_sets) > 65_536:
            raise ValueError("a batch holds at most 65,536 distinct exchanges and condition lists")
        return cls(first.symbol, first.feed, ts_init, len(ticks),
                   _pack([t.ts_event for t in ticks]), _pack([t.ts_init for t in ticks]),
                   _pack([price_e8(t.price) for t in ticks]), _pack([t.size for t in ticks]), trade_ids,
                   tuple(exchanges), np.array(exchange_index, "<u2").tobytes(),
                   tuple(list(c) for c in condition_sets), np.array(condition_index, "<u2").tobytes())

    def __len__(self) -> int:
        return len(self.ticks) or self.count

    def prints(self) -> PrintColumns:
        """The prints as Python columns; ValueError if the packed columns do not hold `count` prints each
        or an index points past its dictionary."""
        if self.ticks:  # schema version 1
            entries = self.ticks
            return PrintColumns([e["ts_event"] for e in entries], [e["ts_init"] for e in entries],
                                [price_e8(e["price"]) for e in entries], [e["size"] for e in entries],
                                [e.get("trade_id") for e in entries], [e.get("exchange") for e in entries],
                                [tuple(e.get("conditions") or ()) for e in entries])
        n = self.count
        trade_ids: list[str | None] = [i or None for i in self.trade_ids.split(ID_SEPARATOR)] if n else []
        if len(trade_ids) != n:
            raise ValueError(f"TradeTickBatch of {n} prints holds {len(trade_ids)} trade ids")
        exchanges = [e or None for e in self.exchanges]
        conditions = [tuple(c) for c in self.condition_sets]
        return PrintColumns(_unpack(self.ts_events, n, "ts_events"), _unpack(self.ts_inits, n, "ts_inits"),
                            _unpack(self.prices_e8, n, "prices_e8"), _unpack(self.sizes, n, "sizes"), trade_ids,
                            _lookup(exchanges, self.exchange_index, n, "exchange_index"),
                            _lookup(conditions, self.condition_index, n, "condition_index"))

    def trades(self) -> list[TradeTick]:
        """The prints as TradeTicks (ValueError as in `prints`)."""
        p = self.prints()
        return [TradeTick(self.symbol, p.ts_events[i], p.ts_inits[i], price_of_e8(p.prices_e8[i]), p.sizes[i],
                          self.feed, p.trade_ids[i], p.exchanges[i], p.conditions[i]) for i in range(len(p))]


def _pack(values: list[int]) -> bytes:
    try:
        return np.array(values, "<i8").tobytes()
    except OverflowError:
        raise ValueError("a batch column value does not fit a signed 64-bit integer") from None


def _unpack(raw: bytes, count: int, name: str) -> list[int]:
    if len(raw) != 8 * count:
        raise ValueError(f"TradeTickBatch {name} holds {len(raw)} bytes, not 8 for each of its {count} prints")
    return np.frombuffer(raw, "<i8").tolist()


def _lookup(values: list, raw: bytes, count: int, name: str) -> list:
    if len(raw) != 2 * count:
        raise ValueError(f"TradeTickBatch {name} holds {len(raw)} bytes, not 2 for each of its {count} prints")
    indices = np.frombuffer(raw, "<u2").tolist()
    if indices and max(indices) >= len(values):
        raise ValueError(f"TradeTickBatch {name} points past its {len(values)} distinct values")
    return [values[i] for i in indices]


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

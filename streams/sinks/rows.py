"""Mapping of decoded events (field dicts from the codec) to rows of the PostgreSQL tables.

Each table has its natural key as primary key; `TABLES` says which columns a row has, which are the
key and whether a repeated key updates the row (derived data such as bars) or keeps the first
(facts such as ticks). The sink upserts with these, so a replay or a restart never duplicates a row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from processors.model import TradeTickBatch, price_of_e8
from schemas.errors import DataError

UTC = dt.timezone.utc


EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)


def ts(ns: int) -> dt.datetime:
    """Nanoseconds since the epoch to a UTC datetime, truncated to the microsecond (PostgreSQL's precision)."""
    return EPOCH + dt.timedelta(microseconds=int(ns) // 1000)


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]
    update_on_conflict: bool
    row: Callable[[dict[str, Any]], tuple[Any, ...]]
    # PostgreSQL types of the columns for a binary COPY (None: text COPY). Binary costs the sink half the
    # CPU of text for a trade row (no timestamp or numeric formatting) and PostgreSQL a third less. In a
    # binary row a timestamptz column holds integer nanoseconds since the epoch (see
    # streams.sinks.postgres.EpochNanosTimestamptzDumper): no datetime is built per row.
    binary: tuple[str, ...] | None = None


class TextArray(tuple):
    """A text[] value for a binary COPY (see streams.sinks.postgres.TextArrayBinaryDumper)."""

    __slots__ = ()


def _positive(value: Any, what: str) -> Any:
    if not value > 0 or (hasattr(value, "is_finite") and not value.is_finite()):
        raise DataError(f"{what} {value} is not a positive finite number")
    return value


def _trade_row(v: dict[str, Any]) -> tuple[Any, ...]:
    _positive(v["price"], "price")
    _positive(v["size"], "size")
    return (v["symbol"], v["ts_event"], v["ts_event"], v["ts_init"], v.get("trade_id") or synthetic_trade_id(v),
            v["price"], v["size"], v.get("exchange"), TextArray(v.get("conditions") or ()), v["feed"])


def trade_batch_rows(batch: TradeTickBatch) -> tuple[list[tuple[Any, ...]], list[tuple[int, DataError]]]:
    """trade_ticks rows of a TradeTickBatch (either schema version), and the prints refused as implausible
    with their index in the batch. DataError for the whole batch when its columns do not hold its prints
    (`TradeTickBatch.prints`). A print's row is the row of the same print sent as a TradeTick."""
    symbol, feed = batch.symbol, batch.feed
    try:
        prints = batch.prints()
    except ValueError as exc:
        raise DataError(str(exc)) from None
    rows: list[tuple[Any, ...]] = []
    refused: list[tuple[int, DataError]] = []
    append = rows.append
    arrays = {conditions: TextArray(conditions) for conditions in set(prints.conditions)}
    for index, (ts_event, ts_init, units, size, trade_id, exchange, conditions) in enumerate(zip(
            prints.ts_events, prints.ts_inits, prints.prices_e8, prints.sizes, prints.trade_ids, prints.exchanges,
            prints.conditions)):
        if units <= 0 or size <= 0:
            refused.append((index, DataError(f"price {price_of_e8(units)} and size {size} must be positive")))
            continue
        price = price_of_e8(units)
        if trade_id is None:
            trade_id = synthetic_trade_id({"feed": feed, "ts_event": ts_event, "price": price, "size": size,
                                           "exchange": exchange})
        append((symbol, ts_event, ts_event, ts_init, trade_id, price, size, exchange, arrays[conditions], feed))
    return rows, refused


def _bar_row(v: dict[str, Any]) -> tuple[Any, ...]:
    if not v["low"] <= min(v["open"], v["close"]) <= max(v["open"], v["close"]) <= v["high"]:
        raise DataError(f"bar OHLC {v['open']}/{v['high']}/{v['low']}/{v['close']} is inconsistent")
    return (v["symbol"], v["timeframe"], ts(v["start"]), ts(v["end"]), v["start"], v["end"], v["session"],
            v["open"], v["high"], v["low"], v["close"], v["volume"], v["vwap"], v["trades"], v["ts_init"])


def synthetic_trade_id(v: dict[str, Any]) -> str:
    """A deterministic id for a print whose feed gives none: same print, same id."""
    digest = hashlib.sha1(f"{v['feed']}|{v['ts_event']}|{v['price']}|{v['size']}|{v.get('exchange')}".encode())
    return "syn-" + digest.hexdigest()[:20]


TABLES: dict[str, Table] = {
    "TradeTick": Table(
        "trade_ticks",
        ("symbol", "ts", "ts_event_ns", "ts_init_ns", "trade_id", "price", "size", "exchange", "conditions", "feed"),
        ("symbol", "ts", "trade_id"), False, _trade_row,
        ("text", "timestamptz", "int8", "int8", "text", "numeric", "int8", "text", "text[]", "text")),
    "QuoteTick": Table(
        "quote_ticks",
        ("symbol", "ts", "ts_event_ns", "ts_init_ns", "bid_price", "bid_size", "ask_price", "ask_size",
         "bid_exchange", "ask_exchange", "feed"),
        ("symbol", "ts", "ts_event_ns", "feed"), False,
        lambda v: (v["symbol"], ts(v["ts_event"]), v["ts_event"], v["ts_init"], v["bid_price"], v["bid_size"],
                   v["ask_price"], v["ask_size"], v.get("bid_exchange"), v.get("ask_exchange"), v["feed"])),
    "Bar": Table(
        "bars",
        ("symbol", "timeframe", "start", "end", "start_ns", "end_ns", "session", "open", "high", "low", "close",
         "volume", "vwap", "trades", "ts_init_ns"),
        ("symbol", "timeframe", "start"), True, _bar_row),
    "IndicatorSnapshot": Table(
        "indicator_snapshots",
        ("symbol", "timeframe", "start", "end", "start_ns", "close", "atr_period", "atr", "donchian_period",
         "dc_upper", "dc_lower", "dc_mid", "pivot", "r1", "r2", "r3", "s1", "s2", "s3", "fractal_k",
         "fractal_high", "fractal_low", "swing_left", "swing_right", "swing_high", "swing_low", "ts_init_ns"),
        ("symbol", "timeframe", "start"), True,
        lambda v: (v["symbol"], v["timeframe"], ts(v["start"]), ts(v["end"]), v["start"], v["close"],
                   v["atr_period"], v["atr"], v["donchian_period"], v["dc_upper"], v["dc_lower"], v["dc_mid"],
                   v["pivot"], v["r1"], v["r2"], v["r3"], v["s1"], v["s2"], v["s3"], v["fractal_k"],
                   v["fractal_high"], v["fractal_low"], v["swing_left"], v["swing_right"], v["swing_high"],
                   v["swing_low"], v["ts_init"])),
    "SignalGenerated": Table(
        "signals",
        ("signal_id", "strategy", "symbol", "side", "action", "ts", "ts_event_ns", "ts_init_ns", "price",
         "reason", "rule_values"),
        ("signal_id",), False,
        lambda v: (v["signal_id"], v["strategy"], v["symbol"], v["side"], v.get("action") or "ENTRY",
                   ts(v["ts_event"]), v["ts_event"], v["ts_init"], v["price"], v["reason"],
                   json.dumps(v.get("rule_values") or {}))),
    "SignalSuppressed": Table(
        "signal_suppressions",
        ("signal_id", "strategy", "symbol", "side", "action", "ts", "ts_event_ns", "ts_init_ns", "price", "rule",
         "suppression", "rule_values"),
        ("signal_id",), False,
        lambda v: (v["signal_id"], v["strategy"], v["symbol"], v["side"], v.get("action") or "ENTRY",
                   ts(v["ts_event"]), v["ts_event"], v["ts_init"], v.get("price"), v["rule"], v["suppression"],
                   json.dumps(v.get("rule_values") or {}))),
    "OrderIntentCreated": Table(
        "order_intents",
        ("client_order_id", "signal_id", "strategy", "mode", "symbol", "instrument", "contract", "side", "ts",
         "ts_event_ns", "ts_init_ns", "exchange", "order_type", "limit_price", "stop_price", "tick_size",
         "reference_price", "product", "quantity", "multiplier", "detail"),
        ("client_order_id",), False,
        lambda v: (v["client_order_id"], v["signal_id"], v["strategy"], v["mode"], v["symbol"], v["instrument"],
                   v["contract"], v["side"], ts(v["ts_event"]), v["ts_event"], v["ts_init"], v["exchange"],
                   v["order_type"], v.get("limit_price"), v.get("stop_price"), v["tick_size"],
                   v["reference_price"], v["product"], v["quantity"], v["multiplier"], v.get("detail") or "")),
    "FeedStatusChanged": Table(
        "feed_status",
        ("feed", "ts", "ts_init_ns", "connected", "active", "subscribed_symbols", "messages_per_second",
         "last_latency_ns", "event", "detail"),
        ("feed", "ts_init_ns"), False,
        lambda v: (v["feed"], ts(v["ts_init"]), v["ts_init"], v["connected"], v["active"],
                   list(v.get("subscribed_symbols") or ()), v["messages_per_second"], v.get("last_latency_ns"),
                   v["event"], v.get("detail"))),
    "DeadLetter": Table(
        "dead_letters",
        ("source_topic", "source_partition", "source_offset", "source_index", "stage", "ts", "error_class", "reason",
         "key", "value"),
        ("source_topic", "source_partition", "source_offset", "source_index", "stage"), False,
        lambda v: (v["source_topic"], v["source_partition"], v["source_offset"], v.get("source_index", -1), v["stage"],
                   ts(v["ts_init"]), v["error_class"], v["reason"], v.get("key"), v.get("value"))),
    "LatencyMeasured": Table(
        "latency_metrics",
        ("feed", "symbol", "hop", "window_start", "window_end", "sample_count", "p50_ns", "p95_ns", "p99_ns",
         "max_ns"),
        ("feed", "symbol", "hop", "window_end"), True,
        lambda v: (v["feed"], v["symbol"], v["hop"], ts(v["window_start"]), ts(v["window_end"]), v["count"],
                   v["p50_ns"], v["p95_ns"], v["p99_ns"], v["max_ns"])),
}


def upsert_sql(table: Table) -> str:
    """INSERT ... SELECT from the staging table, deduplicated on the natural key within the batch."""
    cols = ", ".join(f'"{c}"' for c in table.columns)
    key = ", ".join(f'"{c}"' for c in table.key)
    if table.update_on_conflict:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in table.columns if c not in table.key)
        conflict = f"on conflict ({key}) do update set {updates}"
    else:
        conflict = f"on conflict ({key}) do nothing"
    # Within one batch the last occurrence of a key wins (ordinality of the staged rows).
    return (f'insert into {table.name} ({cols}) select {cols} from ('
            f'select distinct on ({key}) * from staging_{table.name} order by {key}, _seq desc) s {conflict}')

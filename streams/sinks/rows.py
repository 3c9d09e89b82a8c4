"""Mapping of decoded events (field dicts from the codec) to rows of the PostgreSQL tables.

Each table has its natural key as primary key; `TABLES` says which columns a row has, which are the
key and whether a repeated key updates the row (derived data such as bars) or keeps the first
(facts such as ticks). The sink upserts with these, so a replay or a restart never duplicates a row.
A versioned table (trades: one row per trade holding its newest version) replaces a row only with a
higher version, so a replay or a redelivery of an older version never overwrites a newer one.

A row builder refuses (DataError, so the sink dead-letters the record with the reason) what the table's
checks would refuse: a batch the database rejected would stop the sink at the same record every time.
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
    # A versioned table's version column: a stored row is replaced only by a row with a higher version, and
    # within one batch the highest version of a key wins (None: the last occurrence wins).
    version: str | None = None
    # Columns of a versioned table that keep the greatest value any stored or incoming version had (null
    # when none had one), whichever version the row holds.
    greatest: tuple[str, ...] = ()


class TextArray(tuple):
    """A text[] value for a binary COPY (see streams.sinks.postgres.TextArrayBinaryDumper)."""

    __slots__ = ()


def _settings_json(v: dict[str, Any]) -> str | None:
    """An account change's settings as the jsonb column takes them (None for a kill-switch reset); text that is
    not a JSON object is refused (a DataError: the sink dead-letters the record)."""
    text = v.get("settings") or ""
    if v["kind"] != "SETTINGS_CHANGED":
        return None
    try:
        settings = json.loads(text)
    except ValueError:
        raise DataError(f"account change of {v['account_id']}: settings are not JSON") from None
    if not isinstance(settings, dict):
        raise DataError(f"account change of {v['account_id']}: settings must be a JSON object")
    return text


def _settings_change_row(v: dict[str, Any]) -> tuple[Any, ...]:
    """A settings_changes row; a version below 1 or settings that are not a JSON object are refused."""
    if v["version"] < 1:
        raise DataError(f"settings version {v['version']} is below 1")
    try:
        settings = json.loads(v["settings"])
    except ValueError:
        raise DataError(f"settings version {v['version']}: settings are not JSON") from None
    if not isinstance(settings, dict):
        raise DataError(f"settings version {v['version']}: settings must be a JSON object")
    return (v["version"], v["ts_event"], v["ts_init"], v["reason"], v.get("operator") or "", v["settings"])


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


def _risk_decision_row(v: dict[str, Any]) -> tuple[Any, ...]:
    checks = {name: len(v[name]) for name in ("check_names", "check_values", "check_limits", "check_outcomes",
                                                "check_details", "check_allowed_quantities")}
    if len(set(checks.values())) != 1:
        raise DataError("the check_* arrays are parallel but have different lengths: "
                        + ", ".join(f"{name} {length}" for name, length in checks.items()))
    if v["quantity"] < 0:
        raise DataError(f"quantity {v['quantity']} is negative")
    return (v["intent_id"], v["account_id"], v["strategy"], v["symbol"], v["side"], v["action"], v["ts_event"],
            v["ts_init"], v.get("regime"), v["outcome"], v["quantity"], v.get("requested_quantity"),
            list(v["reasons"]), list(v["check_names"]), list(v["check_values"]), list(v["check_limits"]),
            list(v["check_outcomes"]), list(v["check_details"]), list(v["check_allowed_quantities"]),
            v.get("equity"), v["signal_price"], v.get("stop_price"), v.get("unit_risk"), v.get("risk_budget"),
            v.get("risk_quantity"), v.get("trade_risk"), v.get("open_risk_after"), v.get("total_risk_pct"),
            v.get("kill_switch_tripped", False), v.get("tripped_kill_switch", False),
            v.get("kill_switch_reason") or "")


def _order_event_row(v: dict[str, Any]) -> tuple[Any, ...]:
    if v["sequence"] < 0:
        raise DataError(f"sequence {v['sequence']} of order {v['client_order_id']} is negative")
    return (v["client_order_id"], v["sequence"], v["account_id"], v["strategy"], v["trade_id"], v["event"],
            v.get("status"), v.get("broker_status") or "", v["ts_event"], v["ts_init"], v["symbol"], v["side"],
            v["order_type"], v["quantity"], v.get("filled_quantity", 0), v.get("limit_price"), v.get("stop_price"),
            v.get("trigger_price"), v.get("parent_order_id"), v.get("oca_group"), v.get("operation"),
            v.get("reason") or "", v["broker"], v.get("broker_order_id"), v.get("broker_perm_id"),
            v.get("broker_ref"))


def _fill_row(v: dict[str, Any]) -> tuple[Any, ...]:
    _positive(v["quantity"], "quantity")
    _positive(v["price"], "price")
    return (v["exec_id"], v["client_order_id"], v["account_id"], v["strategy"], v["trade_id"], v["ts_event"],
            v["ts_init"], v["symbol"], v["side"], v["quantity"], v["price"], v["filled_quantity"],
            v["leaves_quantity"], v.get("multiplier", 1), v["commission"], v["regulatory_fees"], v["broker"],
            v.get("broker_perm_id"))


TRADE_STATUSES = ("Waiting", "Running", "Closed")
EXIT_CHANGES = ("REDUCED", "CLOSED")  # the changes an exit fill makes: their ts_event is that fill's time


def _trade_update_row(v: dict[str, Any]) -> tuple[Any, ...]:
    trade = f"trade {v['trade_id']} version {v['version']}"
    if v["version"] < 0:
        raise DataError(f"{trade}: the version is negative")
    if v["status"] not in TRADE_STATUSES:
        raise DataError(f"{trade}: status {v['status']!r} is not one of {', '.join(TRADE_STATUSES)}")
    if not 0 <= v["exit_qty"] <= v["entry_qty"]:
        raise DataError(f"{trade}: exit_qty {v['exit_qty']} is not between 0 and entry_qty {v['entry_qty']}")
    if v["status"] != "Waiting" and (v.get("entry_price") is None or v.get("opened_ns") is None):
        raise DataError(f"{trade}: a {v['status']} trade needs its entry_price and opened_ns")
    if v["status"] == "Closed" and v.get("closed_ns") is None:
        raise DataError(f"{trade}: a Closed trade needs its closed_ns")
    last_exit_ns = v["ts_event"] if v["change"] in EXIT_CHANGES else None
    return (v["trade_id"], v["version"], v["change"], v["account_id"], v["strategy"], v["ss_type"], v["signal_type"],
            v["symbol"], v["direction"], v["status"], v["ts_event"], v["ts_init"], v["entry_qty"], v["exit_qty"],
            v.get("entry_price"), v.get("exit_price"), v["initial_stop"], v["stop_price"], v.get("target_price"),
            v["pnl"], v["charges"], v["net_pnl"], v["net_pnl_pct"], v.get("opened_ns"), v.get("closed_ns"),
            last_exit_ns, v["comment"])


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
    "RiskDecisionMade": Table(
        "risk_decisions",
        ("intent_id", "account_id", "strategy", "symbol", "side", "action", "ts_event_ns", "ts_init_ns", "regime",
         "outcome", "quantity", "requested_quantity", "reasons", "check_names", "check_values", "check_limits",
         "check_outcomes", "check_details", "check_allowed_quantities", "equity", "signal_price", "stop_price",
         "unit_risk", "risk_budget", "risk_quantity", "trade_risk", "open_risk_after", "total_risk_pct",
         "kill_switch_tripped", "tripped_kill_switch", "kill_switch_reason"),
        ("intent_id",), False, _risk_decision_row),
    "OrderStatusChanged": Table(
        "order_events",
        ("client_order_id", "sequence", "account_id", "strategy", "trade_id", "event", "status", "broker_status",
         "ts_event_ns", "ts_init_ns", "symbol", "side", "order_type", "quantity", "filled_quantity", "limit_price",
         "stop_price", "trigger_price", "parent_order_id", "oca_group", "operation", "reason", "broker",
         "broker_order_id", "broker_perm_id", "broker_ref"),
        ("client_order_id", "sequence"), False, _order_event_row),
    "FillExecuted": Table(
        "fills",
        ("exec_id", "client_order_id", "account_id", "strategy", "trade_id", "ts_event_ns", "ts_init_ns", "symbol",
         "side", "quantity", "price", "filled_quantity", "leaves_quantity", "multiplier", "commission",
         "regulatory_fees", "broker", "broker_perm_id"),
        ("exec_id",), False, _fill_row),
    "TradeUpdated": Table(
        "trades",
        ("trade_id", "version", "change", "account_id", "strategy", "ss_type", "signal_type", "symbol", "direction",
         "status", "ts_event_ns", "ts_init_ns", "entry_qty", "exit_qty", "entry_price", "exit_price",
         "initial_stop", "stop_price", "target_price", "pnl", "charges", "net_pnl", "net_pnl_pct", "opened_ns",
         "closed_ns", "last_exit_ns", "comment"),
        ("trade_id",), True, _trade_update_row, version="version", greatest=("last_exit_ns",)),
    "OvernightCoverageChecked": Table(
        "overnight_checks",
        ("check_id", "account_id", "ts_event_ns", "ts_init_ns", "regime", "equity", "requirement", "excess",
         "positions", "uncovered", "detail"),
        ("check_id",), False,
        lambda v: (v["check_id"], v["account_id"], v["ts_event"], v["ts_init"], v["regime"], v["equity"],
                   v["requirement"], v["excess"], v["positions"], list(v.get("uncovered") or ()), v["detail"])),
    "AccountChanged": Table(
        "account_changes",
        ("account_id", "ts_event_ns", "kind", "ts_init_ns", "reason", "operator", "settings"),
        ("account_id", "ts_event_ns", "kind"), False,
        lambda v: (v["account_id"], v["ts_event"], v["kind"], v["ts_init"], v["reason"], v.get("operator") or "",
                   _settings_json(v))),
    "SettingsChanged": Table(
        "settings_changes",
        ("version", "ts_event_ns", "ts_init_ns", "reason", "operator", "settings"),
        ("version",), False, _settings_change_row),
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
    """INSERT ... SELECT from the staging table, deduplicated on the natural key within the batch.

    Within one batch the last occurrence of a key wins (ordinality of the staged rows), or for a versioned
    table its highest version. A versioned table's stored row is replaced only when the incoming version is
    higher; its `greatest` columns take the greatest value of the batch's versions and the stored row.
    """
    cols = ", ".join(f'"{c}"' for c in table.columns)
    key = ", ".join(f'"{c}"' for c in table.key)
    if table.version is None:
        source = f"select distinct on ({key}) * from staging_{table.name} order by {key}, _seq desc"
    else:
        picked = ", ".join(f'max("{c}") over (partition by {key}) as "{c}"' if c in table.greatest else f'"{c}"'
                           for c in table.columns)
        source = (f'select distinct on ({key}) {picked} from staging_{table.name} '
                  f'order by {key}, "{table.version}" desc, _seq desc')
    if table.update_on_conflict:
        updates = ", ".join(f'"{c}" = greatest({table.name}."{c}", excluded."{c}")' if c in table.greatest
                            else f'"{c}" = excluded."{c}"' for c in table.columns if c not in table.key)
        conflict = f"on conflict ({key}) do update set {updates}"
        if table.version is not None:
            conflict += f' where {table.name}."{table.version}" < excluded."{table.version}"'
    else:
        conflict = f"on conflict ({key}) do nothing"
    return f"insert into {table.name} ({cols}) select {cols} from ({source}) s {conflict}"

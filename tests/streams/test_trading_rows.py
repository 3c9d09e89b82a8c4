"""Rows of the trading tables (risk decisions, order events, fills, trades) from records decoded by the real
codec, what they refuse, and the upsert that keeps each trade's highest version."""

from __future__ import annotations

import dataclasses
import re

import pytest

from connectors.kafka.codec import AvroCodec
from schemas.errors import DataError
from streams.sinks.rows import TABLES, upsert_sql
from tests.streams.trading_events import D, fill, ns, order_event, risk_decision, trade

TOPICS = {"RiskDecisionMade": "t.risk.decisions", "OrderStatusChanged": "t.orders.events",
          "FillExecuted": "t.fills", "TradeUpdated": "t.trades"}


def decoded(codec: AvroCodec, event: object) -> tuple[str, dict]:
    record = codec.record_name(event)
    name, value, _ = codec.decode_record(codec.encode(TOPICS[record], event), record)
    return name, value


def row_of(codec: AvroCodec, event: object) -> dict[str, object]:
    record, value = decoded(codec, event)
    table = TABLES[record]
    row = table.row(value)
    assert len(row) == len(table.columns)
    return dict(zip(table.columns, row))


def test_a_risk_decision_row_holds_every_field_and_the_checks_as_parallel_lists(registry_stub) -> None:
    row = row_of(AvroCodec(registry_stub), risk_decision("i-1", "acct"))
    assert TABLES["RiskDecisionMade"].name == "risk_decisions" and TABLES["RiskDecisionMade"].key == ("intent_id",)
    assert row == {
        "intent_id": "i-1", "account_id": "acct", "strategy": "breakout", "symbol": "SPY", "side": "BUY",
        "action": "entry", "ts_event_ns": ns("2026-03-10T13:44:59.5+00:00"),
        "ts_init_ns": ns("2026-03-10T13:44:59.6+00:00"), "regime": "intraday_margin", "outcome": "RESIZE",
        "quantity": 100, "requested_quantity": 150, "reasons": [],
        "check_names": ["risk_per_trade", "buying_power", "kill_switch"],
        "check_values": [D("250"), D("75037.5"), None], "check_limits": [D("500"), D("50025"), None],
        "check_outcomes": ["passed", "capped", "passed"],
        "check_details": ["risk 250.00 USD <= 500.00 USD", "150 x 500.25 USD > buying power", "not tripped"],
        "check_allowed_quantities": [None, 100, None], "equity": D("100000"), "signal_price": D("500.25"),
        "stop_price": D("497.75"), "unit_risk": D("2.5"), "risk_budget": D("500"), "risk_quantity": 200,
        "trade_risk": D("250"), "open_risk_after": D("250"), "total_risk_pct": D("0.25"),
        "kill_switch_tripped": False, "tripped_kill_switch": False, "kill_switch_reason": ""}


def test_check_arrays_of_different_lengths_are_refused_naming_each_length(registry_stub) -> None:
    codec = AvroCodec(registry_stub)
    _, value = decoded(codec, dataclasses.replace(risk_decision("i-2", "acct"), check_details=("only one",)))
    with pytest.raises(DataError, match="check_names 3, check_values 3, .*check_details 1"):
        TABLES["RiskDecisionMade"].row(value)


def test_order_event_and_fill_rows(registry_stub) -> None:
    codec = AvroCodec(registry_stub)
    event = row_of(codec, order_event("o-1-stop", 1, "acct", "o-1", event="MODIFIED"))
    assert (event["client_order_id"], event["sequence"], event["event"], event["status"], event["stop_price"],
            event["limit_price"], event["reason"], event["broker_order_id"]) == (
        "o-1-stop", 1, "MODIFIED", "Placed", D("497.75"), None, "stop moved to break-even", None)
    assert TABLES["OrderStatusChanged"].key == ("client_order_id", "sequence")
    row = row_of(codec, fill("x-1", "acct", "o-1", "SELL", 100, "502.1", "1", "0.03"))
    assert (row["exec_id"], row["trade_id"], row["side"], row["quantity"], row["price"], row["commission"],
            row["regulatory_fees"], row["multiplier"]) == ("x-1", "o-1", "SELL", 100, D("502.1"), D("1"), D("0.03"), 1)
    assert TABLES["FillExecuted"].key == ("exec_id",)
    _, value = decoded(codec, fill("x-2", "acct", "o-1", "SELL", 1, "0", "1"))
    with pytest.raises(DataError, match="price 0E-8 is not a positive"):
        TABLES["FillExecuted"].row(value)


def test_a_trade_row_keeps_the_exit_time_only_for_exit_changes(registry_stub) -> None:
    codec = AvroCodec(registry_stub)
    opened = "2026-03-10T18:00:00+00:00"
    common = dict(entry_qty=50, entry_price="400.1", opened=opened, direction="short")
    reduced = row_of(codec, trade("t", "a", "s", 1, "REDUCED", "Running", "2026-03-10T18:30:00+00:00", exit_qty=20,
                                  exit_price="399", **common))
    moved = row_of(codec, trade("t", "a", "s", 2, "STOP_MOVED", "Running", "2026-03-10T18:31:00+00:00", exit_qty=20,
                                exit_price="399", **common))
    closed = row_of(codec, trade("t", "a", "s", 3, "CLOSED", "Closed", "2026-03-10T19:00:00+00:00", exit_qty=50,
                                 exit_price="399", closed="2026-03-10T19:00:00+00:00", **common))
    assert reduced["last_exit_ns"] == ns("2026-03-10T18:30:00+00:00")
    assert moved["last_exit_ns"] is None
    assert closed["last_exit_ns"] == closed["closed_ns"] == ns("2026-03-10T19:00:00+00:00")
    assert (moved["trade_id"], moved["version"], moved["status"], moved["opened_ns"], moved["entry_price"]) == (
        "t", 2, "Running", ns(opened), D("400.1"))


@pytest.mark.parametrize(("changes", "reason"), [
    ({"exit_qty": 60}, "exit_qty 60 is not between 0 and entry_qty 50"),
    ({"status": "Open"}, "status 'Open' is not one of Waiting, Running, Closed"),
    ({"entry_price": None}, "a Running trade needs its entry_price and opened_ns"),
    ({"opened_ns": None}, "a Running trade needs its entry_price and opened_ns"),
    ({"status": "Closed", "closed_ns": None}, "a Closed trade needs its closed_ns"),
    ({"version": -1}, "the version is negative"),
])
def test_a_trade_the_table_would_refuse_is_a_data_error(registry_stub, changes: dict, reason: str) -> None:
    codec = AvroCodec(registry_stub)
    event = trade("t-9", "a", "s", 1, "OPENED", "Running", "2026-03-10T18:00:00+00:00", entry_qty=50,
                  entry_price="400.1", opened="2026-03-10T18:00:00+00:00")
    _, value = decoded(codec, event)
    with pytest.raises(DataError, match=re.escape(reason)):
        TABLES["TradeUpdated"].row({**value, **changes})


def test_the_trades_upsert_replaces_a_row_only_with_a_higher_version() -> None:
    table = TABLES["TradeUpdated"]
    sql = upsert_sql(table)
    assert (table.name, table.key, table.version, table.greatest) == ("trades", ("trade_id",), "version",
                                                                      ("last_exit_ns",))
    # Within a batch: the highest version of each trade (the staging order only breaks ties).
    assert 'select distinct on ("trade_id")' in sql
    assert 'order by "trade_id", "version" desc, _seq desc' in sql
    # Against the stored row: replaced only by a higher version, every other column from the new version but
    # the last exit time, which is the greatest of the stored row's and the batch's versions.
    assert sql.endswith(' where trades."version" < excluded."version"')
    assert 'max("last_exit_ns") over (partition by "trade_id") as "last_exit_ns"' in sql
    assert '"last_exit_ns" = greatest(trades."last_exit_ns", excluded."last_exit_ns")' in sql
    updated = re.findall(r'"(\w+)" = excluded\."\w+"', sql.split(" do update set ")[1])
    assert sorted(updated) == sorted(c for c in table.columns if c not in ("trade_id", "last_exit_ns"))


def test_facts_keep_the_first_row_and_unversioned_tables_are_unchanged() -> None:
    for record in ("RiskDecisionMade", "OrderStatusChanged", "FillExecuted"):
        sql = upsert_sql(TABLES[record])
        assert sql.endswith("do nothing") and "_seq desc) s on conflict" in sql
    assert upsert_sql(TABLES["Bar"]) == (
        'insert into bars ("symbol", "timeframe", "start", "end", "start_ns", "end_ns", "session", "open", "high", '
        '"low", "close", "volume", "vwap", "trades", "ts_init_ns") select "symbol", "timeframe", "start", "end", '
        '"start_ns", "end_ns", "session", "open", "high", "low", "close", "volume", "vwap", "trades", "ts_init_ns" '
        'from (select distinct on ("symbol", "timeframe", "start") * from staging_bars order by "symbol", '
        '"timeframe", "start", _seq desc) s on conflict ("symbol", "timeframe", "start") do update set '
        '"end" = excluded."end", "start_ns" = excluded."start_ns", "end_ns" = excluded."end_ns", '
        '"session" = excluded."session", "open" = excluded."open", "high" = excluded."high", '
        '"low" = excluded."low", "close" = excluded."close", "volume" = excluded."volume", '
        '"vwap" = excluded."vwap", "trades" = excluded."trades", "ts_init_ns" = excluded."ts_init_ns"')


def test_the_sink_consumes_the_four_trading_topics() -> None:
    from streams.sinks.postgres import SINK_TOPICS
    from schemas.topics import spec

    for name in ("risk.decisions", "orders.events", "fills", "trades"):
        assert name in SINK_TOPICS and spec(name).schema in TABLES

"""The .avsc files are the single source of truth: documented, mirrored by the Python types, and
every event round-trips through the Confluent wire format unchanged."""

from __future__ import annotations

import dataclasses
import struct
from pathlib import Path
from decimal import Decimal

import fastavro
import pytest

from processors import model
from schemas import SCHEMAS
from connectors.kafka.codec import AvroCodec
from schemas.topics import CATALOGUE
from schemas.errors import DecodeError, SchemaError

REQUIRED = {"TradeTick", "QuoteTick", "Bar", "IndicatorSnapshot", "SignalGenerated", "DeadLetter",
            "FeedStatusChanged", "LatencyMeasured"}

SAMPLES = {
    "TradeTick": model.TradeTick(symbol="SPY", ts_event=1_764_000_000_123_456_789, ts_init=1_764_000_000_124_000_000,
                                 price=Decimal("598.12345678"), size=300, feed="simulated", trade_id="t-1",
                                 exchange="ARCA", conditions=("@", "F")),
    "QuoteTick": model.QuoteTick(symbol="QQQ", ts_event=1, ts_init=2, bid_price=Decimal("510.01"), bid_size=200,
                                 ask_price=Decimal("510.02"), ask_size=100, feed="polygon", bid_exchange="Q"),
    "Bar": model.Bar(symbol="SPY", timeframe="5m", session="regular", start=10, end=20, open=Decimal("1.5"),
                     high=Decimal("2.25"), low=Decimal("1.25"), close=Decimal("2"), volume=1200,
                     vwap=Decimal("1.83333333"), trades=4, ts_init=21),
    "SignalGenerated": model.SignalGenerated(signal_id="s-1", strategy="corr", symbol="SPY", side="BUY", ts_event=5,
                                             ts_init=6, price=Decimal("600.01"), reason="price > swing_high",
                                             rule_values={"price(SPY)": 600.01, "swing_high(SPY,15m)": 599.5}),
    "SignalSuppressed": model.SignalSuppressed(signal_id="s-2", strategy="corr", symbol="SPY", side="SELL",
                                               ts_event=5, ts_init=6, price=None, rule="price(SPY) > 1",
                                               suppression="data stale", rule_values={"price(SPY)": 2.0},
                                               action="EXIT"),
    "OrderIntentCreated": model.OrderIntentCreated(
        client_order_id="ts-abc", signal_id="s-1", strategy="corr", mode="VIRTUAL", symbol="SPY",
        instrument="OPTION", contract="SPY   261218C00600000", side="BUY", ts_event=5, ts_init=6, exchange="CBOE",
        order_type="STOP_LIMIT", limit_price=Decimal("2.15"), stop_price=Decimal("2.10"), tick_size=Decimal("0.01"),
        reference_price=Decimal("600.12"), product="MARGIN", quantity=2, multiplier=100, detail="ATM call"),
    "RiskDecisionMade": model.RiskDecisionMade(
        intent_id="ts-abc", account_id="acct-1", strategy="corr", symbol="SPY", side="BUY", action="entry",
        ts_event=5, ts_init=6, regime="intraday_margin", outcome="RESIZE", quantity=200, requested_quantity=300,
        reasons=(), check_names=("kill_switch", "max_position_pct"), check_values=(None, Decimal("40.2")),
        check_limits=(None, Decimal("50")), check_outcomes=("passed", "capped"),
        check_details=("not tripped", "position 40.2% of equity, limit 50%"), check_allowed_quantities=(None, 200),
        equity=Decimal("50000"), signal_price=Decimal("100.01"), stop_price=Decimal("98.01"), unit_risk=Decimal("2"),
        risk_budget=Decimal("400"), risk_quantity=200, trade_risk=Decimal("400"), open_risk_after=Decimal("400"),
        total_risk_pct=Decimal("0.8")),
    "OrderStatusChanged": model.OrderStatusChanged(
        client_order_id="ts-abc-stop", sequence=2, account_id="acct-1", strategy="corr", trade_id="ts-abc",
        event="TRIGGERED", status="Placed", ts_event=7, ts_init=8, symbol="SPY", side="SELL", order_type="STOP",
        quantity=200, broker="paper", stop_price=Decimal("98.01"), trigger_price=Decimal("97.95"),
        parent_order_id="ts-abc", oca_group="ts-abc", broker_order_id=17, broker_perm_id=998877),
    "FillExecuted": model.FillExecuted(
        exec_id="ts-abc-stop-1", client_order_id="ts-abc-stop", account_id="acct-1", strategy="corr",
        trade_id="ts-abc", ts_event=7, ts_init=8, symbol="SPY", side="SELL", quantity=200, price=Decimal("97.95"),
        filled_quantity=200, leaves_quantity=0, commission=Decimal("1.00"), regulatory_fees=Decimal("0.44"),
        broker="paper"),
    "TradeUpdated": model.TradeUpdated(
        trade_id="ts-abc", version=3, change="CLOSED", account_id="acct-1", strategy="corr", ss_type="intraday",
        signal_type="long", symbol="SPY", direction="long", status="Closed", ts_event=9, ts_init=10, entry_qty=200,
        exit_qty=200, initial_stop=Decimal("98.01"), stop_price=Decimal("100.01"), pnl=Decimal("-412.00"),
        charges=Decimal("2.44"), net_pnl=Decimal("-414.44"), net_pnl_pct=Decimal("-2.0720"),
        comment="risk reduction; stop-loss", entry_price=Decimal("100.01"), exit_price=Decimal("97.95"),
        target_price=Decimal("102.01"), opened_ns=5, closed_ns=9),
    "AccountChanged": model.AccountChanged(account_id="paper-1", kind="KILL_SWITCH_RESET", ts_event=11, ts_init=12,
                                           reason="loss reviewed with the desk head", operator="ana"),
    "TradeActionRequested": model.TradeActionRequested(
        action_id="ts-abc:manual:move_stop:16", account_id="paper-1", trade_id="ts-abc", action="MOVE_STOP",
        ts_event=16, ts_init=17, operator="ana", price=Decimal("99.25"), reason="tighten before the news"),
    "StrategyChanged": model.StrategyChanged(strategy="breakout-5m", kind="REPLACED", ts_event=18, ts_init=19,
                                             operator="ana", version=3, config='{"name": "breakout-5m"}'),
    "SettingsChanged": model.SettingsChanged(
        version=2, ts_event=15, ts_init=14, reason="half-day on 2026-12-31", operator="ana",
        settings='{"capital": "100000", "extra_half_days": ["2026-12-31"]}'),
    "OvernightCoverageChecked": model.OvernightCoverageChecked(
        check_id="paper-1:2026-11-24", account_id="paper-1", ts_event=13, ts_init=14, regime="intraday_margin",
        equity=Decimal("49000"), requirement=Decimal("51000.5"), excess=Decimal("-2000.5"), positions=2,
        uncovered=("QQQ",), detail="requirement 51000.5 over equity 49000"),
    "TradeTickBatch": model.TradeTickBatch.of([
        model.TradeTick(symbol="SPY", ts_event=1, ts_init=2, price=Decimal("600.01"), size=100, feed="sim",
                        trade_id="7", conditions=("I",)),
        model.TradeTick(symbol="SPY", ts_event=3, ts_init=4, price=Decimal("600.02"), size=5, feed="sim")], 9),
    "DeadLetter": model.DeadLetter(ts_init=1, stage="bars", source_topic="ts.ticks.trades", source_partition=3,
                                   source_offset=42, error_class="ImplausiblePrice", reason="price 0 is not positive",
                                   key=b"SPY", value=b"\x00\x00\x00\x00\x01garbage"),
    "FeedStatusChanged": model.FeedStatusChanged(feed="ibkr", ts_init=9, connected=False, active=False,
                                                 messages_per_second=0.0, event="disconnected",
                                                 subscribed_symbols=("SPY", "QQQ"), detail="error 1100",
                                                 role="primary"),
    "LatencyMeasured": model.LatencyMeasured(feed="simulated", symbol="*", hop="TICK_TO_BAR_CLOSE", window_start=1,
                                             window_end=2, count=10, p50_ns=5, p95_ns=9, p99_ns=10, max_ns=12),
}


def test_every_required_event_has_a_schema() -> None:
    assert REQUIRED <= set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_schema_is_valid_and_documented(name: str) -> None:
    schema = SCHEMAS[name]
    fastavro.parse_schema(schema)
    assert schema.get("doc"), f"{name} has no doc"
    undocumented = [f["name"] for f in schema["fields"] if not f.get("doc")]
    assert undocumented == [], f"{name}: fields without doc: {undocumented}"


@pytest.mark.parametrize("name", sorted(set(SAMPLES)))
def test_python_type_mirrors_schema(name: str) -> None:
    cls = getattr(model, name)
    assert {f.name for f in dataclasses.fields(cls)} == {f["name"] for f in SCHEMAS[name]["fields"]}


def test_indicator_snapshot_type_mirrors_schema() -> None:
    from processors.indicators import IndicatorSnapshot

    assert {f.name for f in dataclasses.fields(IndicatorSnapshot)} == {
        f["name"] for f in SCHEMAS["IndicatorSnapshot"]["fields"]}


def test_every_topic_names_an_existing_schema() -> None:
    names = [spec.name for spec in CATALOGUE]
    assert len(names) == len(set(names))
    assert {spec.schema for spec in CATALOGUE} <= set(SCHEMAS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_round_trip_through_wire_format(name: str, registry_stub) -> None:
    codec = AvroCodec(registry_stub)
    event = SAMPLES[name]
    data = codec.encode("t.test", event)
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert magic == 0
    assert registry_stub.by_id[schema_id] is not None
    assert codec.decode(data) == event


def test_decoding_garbage_raises_decode_error(registry_stub) -> None:
    codec = AvroCodec(registry_stub)
    good = codec.encode("t.test", SAMPLES["TradeTick"])
    with pytest.raises(DecodeError, match="magic byte"):
        codec.decode(b"\x01" + good[1:])
    with pytest.raises(DecodeError, match="shorter than"):
        codec.decode(b"\x00\x00")
    with pytest.raises(DecodeError):
        codec.decode(good[:-3])
    with pytest.raises(DecodeError, match="trailing"):
        codec.decode(good + b"\x00")


def test_price_with_more_decimals_than_the_schema_is_refused(registry_stub) -> None:
    codec = AvroCodec(registry_stub)
    tick = dataclasses.replace(SAMPLES["TradeTick"], price=Decimal("1.123456789"))
    with pytest.raises(SchemaError):
        codec.encode("t.test", tick)


def test_decoding_with_an_older_writer_schema_fills_defaults(registry_stub) -> None:
    """Schema evolution: a record written before optional fields existed still decodes."""
    import json

    from confluent_kafka.schema_registry import Schema

    old = json.loads(json.dumps(SCHEMAS["TradeTick"]))
    old["fields"] = [f for f in old["fields"] if f["name"] not in ("exchange", "conditions", "trade_id")]
    schema_id = registry_stub.register_schema("t.old-value", Schema(json.dumps(old), "AVRO"))
    import io

    buffer = io.BytesIO()
    buffer.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(old), {
        "symbol": "SPY", "ts_event": 1, "ts_init": 2, "price": Decimal("10.5"), "size": 5, "feed": "x"})
    tick = AvroCodec(registry_stub).decode(buffer.getvalue())
    assert tick == model.TradeTick(symbol="SPY", ts_event=1, ts_init=2, price=Decimal("10.5"), size=5, feed="x")


BATCH_TICKS = [
    model.TradeTick(symbol="SPY", ts_event=1, ts_init=2, price=Decimal("600.01"), size=100, feed="sim", trade_id="7",
                    exchange="ARCA", conditions=("I", "@")),
    model.TradeTick(symbol="SPY", ts_event=3, ts_init=4, price=Decimal("600.12345678"), size=5, feed="sim")]


def test_trade_tick_batch_version_2_reads_version_1_records(registry_stub) -> None:
    """Version 2 (columns) is BACKWARD compatible with version 1 (a record per print): the registry takes it
    under the same subject, and a version-1 record already on the topic decodes to the same prints."""
    import io
    import json

    from confluent_kafka.schema_registry import Schema

    from tradestream.schema_registry.compat import check_level

    version1 = json.loads((Path(__file__).parent / "history" / "trade_tick_batch.v1.avsc").read_text())
    assert check_level("BACKWARD", SCHEMAS["TradeTickBatch"], [version1]) == []
    schema_id = registry_stub.register_schema("t.batches-value", Schema(json.dumps(version1), "AVRO"))
    buffer = io.BytesIO()
    buffer.write(struct.pack(">bI", 0, schema_id))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(version1), {
        "symbol": "SPY", "feed": "sim", "ts_init": 9, "ticks": [
            {"ts_event": t.ts_event, "ts_init": t.ts_init, "price": t.price, "size": t.size, "trade_id": t.trade_id,
             "exchange": t.exchange, "conditions": list(t.conditions)} for t in BATCH_TICKS]})
    batch = AvroCodec(registry_stub).decode(buffer.getvalue())
    assert batch.count == 0 and len(batch) == 2
    assert batch.trades() == BATCH_TICKS
    assert batch.prints() == model.TradeTickBatch.of(BATCH_TICKS, 9).prints()


def test_trade_tick_batch_packs_its_columns() -> None:
    batch = model.TradeTickBatch.of(BATCH_TICKS, 9)
    assert batch.count == 2 and len(batch) == 2
    assert batch.prices_e8 == struct.pack("<qq", 60_001_000_000, 60_012_345_678)
    assert batch.ts_events == struct.pack("<qq", 1, 3) and batch.sizes == struct.pack("<qq", 100, 5)
    assert batch.trade_ids == "7\x1f"  # the second print has no id
    assert batch.exchanges == ("ARCA", "") and batch.exchange_index == struct.pack("<HH", 0, 1)
    assert batch.condition_sets == (["I", "@"], []) and batch.condition_index == struct.pack("<HH", 0, 1)
    assert batch.prints() == model.PrintColumns([1, 3], [2, 4], [60_001_000_000, 60_012_345_678], [100, 5],
                                                ["7", None], ["ARCA", None], [("I", "@"), ()])
    assert batch.trades() == BATCH_TICKS
    same = model.TradeTickBatch.of([BATCH_TICKS[1]] * 3, 9)  # repeated values are stored once
    assert same.exchanges == ("",) and same.condition_sets == ([],) and same.trade_ids == "\x1f\x1f"


@pytest.mark.parametrize(("change", "message"), [
    ({"prices_e8": struct.pack("<q", 1)}, "prices_e8 holds 8 bytes, not 8 for each of its 2 prints"),
    ({"trade_ids": "7"}, "of 2 prints holds 1 trade ids"),
    ({"exchange_index": struct.pack("<HH", 0, 2)}, "exchange_index points past its 2 distinct values"),
    ({"condition_index": b"\x00"}, "condition_index holds 1 bytes, not 2"),
])
def test_a_malformed_batch_is_refused_with_the_column_at_fault(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(model.TradeTickBatch.of(BATCH_TICKS, 9), **change).prints()


def test_a_batch_cannot_be_built_from_what_it_cannot_carry() -> None:
    with pytest.raises(ValueError, match="one symbol from one feed"):
        model.TradeTickBatch.of([BATCH_TICKS[0], dataclasses.replace(BATCH_TICKS[1], symbol="QQQ")], 9)
    with pytest.raises(ValueError, match="U\\+001F"):
        model.TradeTickBatch.of([dataclasses.replace(BATCH_TICKS[0], trade_id="a\x1fb")], 9)
    with pytest.raises(ValueError, match="more than 8 fractional digits"):
        model.TradeTickBatch.of([dataclasses.replace(BATCH_TICKS[0], price=Decimal("1.000000001"))], 9)


@pytest.mark.parametrize(("price", "message"), [
    (Decimal("1.123456789"), "more than 8 fractional digits"), (Decimal("NaN"), "not a finite number"),
    (Decimal("Infinity"), "not a finite number")])
def test_batch_prices_are_exact_integer_counts_of_1e_8(price: Decimal, message: str) -> None:
    assert model.price_e8(Decimal("0.00000001")) == 1 and model.price_e8(Decimal("-2.5")) == -250_000_000
    assert model.price_of_e8(60_001_000_000) == Decimal("600.01")
    with pytest.raises(ValueError, match=message):
        model.price_e8(price)


def test_a_writer_schema_equal_to_ours_decodes_without_schema_resolution(registry_stub) -> None:
    """A consumer that fetches the writer's schema from the registry uses its own parsed schema when the
    two are equal (fastavro then skips resolution), and the fetched one when they differ."""
    data = AvroCodec(registry_stub).encode("t.batches", SAMPLES["TradeTickBatch"])
    reader = AvroCodec(registry_stub)
    assert reader.decode(data) == SAMPLES["TradeTickBatch"]
    name, writer = reader._writer(struct.unpack(">bI", data[:5])[1])
    assert name == "TradeTickBatch" and writer is reader._parsed["TradeTickBatch"]
    import json

    from confluent_kafka.schema_registry import Schema

    version1 = (Path(__file__).parent / "history" / "trade_tick_batch.v1.avsc").read_text()
    old_id = registry_stub.register_schema("t.batches-value", Schema(json.dumps(json.loads(version1)), "AVRO"))
    assert reader._writer(old_id)[1] is not reader._parsed["TradeTickBatch"]

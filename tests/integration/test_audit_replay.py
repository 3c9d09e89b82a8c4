"""The audit replay on the real stack: a simulated day run live (the worker's bars and indicators stages, the
strategy runner trading in the example paper account), then `tradestream audit replay` over it reproduces every
recorded output (bars, indicator snapshots, signals, suppressed signals, intents, risk decisions, orders, fills,
trades) with no producer and no record written anywhere; the same replay with a rule's threshold changed reports
exactly the differences that the in-process session finds between the two configurations. A settings version in
force live (a closed day) is in force in the replay; prints written under an older schema version replay through
schema resolution."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
import re
import signal
import struct
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import confluent_kafka
import fastavro
import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

import connectors.kafka.publisher
import streams.audit_replay
from connectors.base import BatchingKafkaFeedSink, KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.bars import TickArrays, aggregate_batch
from processors.calendar import ET, NS, build_nyse_calendar, parse_sessions
from processors.model import SettingsChanged
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.settings import CalendarInForce, SettingsHistory, UniversalSettings
from processors.simulation import MarketSimulator, SimulationConfig
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from streams.strategy_resume import TRADING_TOPICS, decision_id
from tradestream import cli
from tradestream.commands.inputs import load_account
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_FILE = ROOT / "examples/accounts/paper.yaml"
DAY = dt.date(2026, 11, 23)
EXIT_RULE = "price({p}) < donchian_lower({p}, 5m, 10)"
CHANGED_EXIT_RULE = "price({p}) < donchian_lower({p}, 5m, 10) * 1.002"   # the threshold raised by 0.2 %


def strategy(name: str, primary: str, correlated: str, exit_rule: str) -> ScannerConfig:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data |= {"name": name, "symbols": [primary, correlated], "primary": primary, "correlated": correlated,
             "exit_rules": [exit_rule.format(p=primary)], "max_signals_per_day": 100, "max_signals_per_symbol": 100}
    return ScannerConfig.from_mapping(data)


def session_outputs(config: ScannerConfig, ticks: list, calendar, change: SettingsChanged | None = None  # noqa: ANN001
                    ) -> dict[str, dict[str, tuple]]:
    """The in-process trading session's outputs on the prints (with `change` applied at the instant it was
    made): per topic, natural id -> fields but ts_init."""
    in_force = CalendarInForce(calendar)
    pipeline = StrategyPipeline(config, in_force.calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts))
    session = TradingSession({config.name: pipeline}, TradingDesk(desk_config(
        [config], load_account(str(ACCOUNT_FILE)), in_force.calendar)), settings=in_force)
    out: dict[str, dict[str, tuple]] = {name: {} for name in ("signals", "signals.suppressed", "orders.intents",
                                                              *TRADING_TOPICS.values())}
    for tick in ticks:
        if change is not None and tick.ts_event > change.ts_init:
            session.on_settings_change(change)
            change = None
        step = session.on_trade(tick, tick.ts_event)
        for name, events in (("signals", step.decisions.signals), ("signals.suppressed", step.decisions.suppressed),
                             ("orders.intents", step.decisions.intents),
                             *((TRADING_TOPICS[type(e).__name__], [e]) for e in step.trading)):
            for event in events:
                out[name][decision_id(event)] = tuple((f.name, getattr(event, f.name))
                                                      for f in dataclasses.fields(event) if f.name != "ts_init")
    return out


def simulated_days(unique: str, days: tuple[dt.date, ...], calendar) -> tuple[str, str, list]:  # noqa: ANN001
    """(primary, correlated, prints) of the strategy's two symbols over the days' regular sessions."""
    primary, correlated = f"P{unique[:5]}".upper(), f"C{unique[:5]}".upper()
    windows = [w for w in calendar.windows(parse_sessions("regular"))
               if dt.datetime.fromtimestamp(w.start_ns / 1e9, dt.timezone.utc).date() in days]
    simulation = SimulationConfig(symbols=(primary, correlated), seed=5, start_prices=(600.0, 500.0),
                                  annual_volatility=(0.6, 0.6), correlation=((1.0, -0.5), (-0.5, 1.0)),
                                  trades_per_minute=20, bad_print_probability=0.0)
    return primary, correlated, list(MarketSimulator(simulation, windows).ticks())


def closed_bars(settings: Settings, ticks: list, calendar) -> list:  # noqa: ANN001
    """The bars the stage closes on the prints: the batch aggregator's whose end + lateness a later print of
    their symbol passed."""
    stage = settings.bars_stage()
    return [b for tf in stage.timeframes for b in aggregate_batch(
        TickArrays.from_ticks(ticks), tf, parse_sessions(stage.sessions), calendar, stage.lateness_ns).bars
        if b.end + stage.lateness_ns <= max(t.ts_event for t in ticks if t.symbol == b.symbol)]


def one_record_per_print(publisher: EventPublisher, ticks: list) -> None:
    feed = KafkaFeedSink(publisher)
    for tick in ticks:
        feed.on_trade(tick)


def run_live(settings: Settings, unique: str, tmp_path: Path, config_file: Path, ticks: list,
             expected: dict, bars: int, changes: tuple = (), publish: Callable = one_record_per_print,
             bar_input: str = "trades") -> None:
    """The live day: `changes` on the settings topic, the prints on Kafka (`publish`), then the worker's bars
    and indicators stages (reading `bar_input`) and the strategy runner with its account until every expected
    output is on its topic."""
    prefix = f"a{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home), "BAR_INPUT": bar_input}
    kafka = settings.kafka(prefix)
    publisher = EventPublisher(kafka, AvroCodec(settings.schema_registry_url), client_id=f"audit-{unique}")
    for change in changes:
        publisher.publish(kafka.topic("settings"), "universal", change)
    publish(publisher, ticks)
    assert publisher.flush() == 0 and publisher.failed == 0
    worker = spawn(["worker", "--app-id", f"tradestream-worker-{unique}"], env, tmp_path / "worker.log")
    runner = spawn(["strategy", "run", "--config", str(config_file), "--account", str(ACCOUNT_FILE),
                    "--group", f"runners-{unique}"], env, tmp_path / "strategy.log")
    try:
        def recorded(name: str) -> int:
            return sum(topic_records(settings, [kafka.topic(name)]).values())
        eventually(lambda: all(recorded(name) >= len(expected[name]) for name in expected) and
                   recorded("bars") >= bars and recorded("indicators") >= bars, timeout_s=240,
                   what="the live day's outputs on Kafka")
    finally:
        for process in (runner, worker):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


def expected_differences(recorded: dict[str, dict[str, tuple]], replayed: dict[str, dict[str, tuple]]) -> set:
    """(stage, id, kind) of every output that the two runs do not share with the same fields."""
    found = set()
    for stage in recorded:
        ours, theirs = recorded[stage], replayed[stage]
        found |= {(stage, i, "missing in replay") for i in ours.keys() - theirs.keys()}
        found |= {(stage, i, "not recorded") for i in theirs.keys() - ours.keys()}
        found |= {(stage, i, "differs") for i in ours.keys() & theirs.keys() if ours[i] != theirs[i]}
    return found


def topic_records(settings: Settings, topics: list[str]) -> dict[tuple[str, int], int]:
    """The end offset of every partition of `topics`."""
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": "audit-offsets"})
    try:
        ends = {}
        for topic in topics:
            for p in consumer.list_topics(topic, timeout=10).topics[topic].partitions:
                ends[(topic, p)] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        return ends
    finally:
        consumer.close()


class NoProducer:
    """Stands for confluent_kafka.Producer during the replay: creating one fails the test."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        raise AssertionError("the audit replay created a Kafka producer")


def counts(output: str, stage: str) -> tuple[int, int, int, int]:
    """(recorded, replayed, matched, differences) of a stage's summary line."""
    match = re.search(rf"^{re.escape(stage)}\s+recorded\s+([\d,]+)\s+replayed\s+([\d,]+)\s+matched\s+([\d,]+)\s+"
                      r"differences\s+([\d,]+)$", output, re.MULTILINE)
    assert match, output
    return tuple(int(g.replace(",", "")) for g in match.groups())  # type: ignore[return-value]


def test_a_live_day_replays_with_no_difference_and_a_changed_threshold_with_exactly_its_own(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    calendar = build_nyse_calendar(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=2))
    primary, correlated, ticks = simulated_days(unique, (DAY,), calendar)
    config = strategy(f"audit-{unique}", primary, correlated, EXIT_RULE)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    expected = session_outputs(config, ticks, calendar)
    assert len(expected["signals"]) >= 4 and len(expected["fills"]) >= 2, "the day must trade"
    closed = closed_bars(settings, ticks, calendar)
    assert len(closed) > 50
    run_live(settings, unique, tmp_path, config_file, ticks, expected, len(closed))

    # The replay: no producer may be created, no record written; its runners have no publisher and no broker.
    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    monkeypatch.setattr(confluent_kafka, "Producer", NoProducer)
    monkeypatch.setattr(connectors.kafka.publisher, "Producer", NoProducer)
    replays: list[streams.audit_replay.AuditReplay] = []
    run = streams.audit_replay.AuditReplay.run
    monkeypatch.setattr(streams.audit_replay.AuditReplay, "run", lambda self: replays.append(self) or run(self))
    prefixed = sorted(t for t in confluent_kafka.admin.AdminClient(
        {"bootstrap.servers": settings.kafka_bootstrap}).list_topics(timeout=10).topics if t.startswith(prefix))
    before = topic_records(settings, prefixed)
    out = tmp_path / "replay"
    capsys.readouterr()
    status = cli.main(["audit", "replay", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--config",
                       str(config_file), "--account", str(ACCOUNT_FILE), "--out", str(out)])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert topic_records(settings, prefixed) == before, "the replay wrote to a topic"
    assert [(r.publisher, r.live_account) for r in replays[0].runners] == [(None, None)]
    assert counts(printed, "bars")[:3] == counts(printed, "indicators")[:3] == (len(closed),) * 3
    for name, outputs in expected.items():
        assert counts(printed, name) == (len(outputs), len(outputs), len(outputs), 0), name
    assert (out / "differences.csv").read_text() == "stage,key,kind,field,recorded,replayed\n"
    assert "No difference" in (out / "report.html").read_text()

    # The exit rule's threshold changed: exactly the outputs the two configurations do not share differ.
    changed = strategy(config.name, primary, correlated, CHANGED_EXIT_RULE)
    changed_file = tmp_path / "changed.yaml"
    changed_file.write_text(yaml.safe_dump(changed.to_mapping()))
    wanted = expected_differences(expected, session_outputs(changed, ticks, calendar))
    assert {stage for stage, _, _ in wanted} >= {"signals", "trades"}, "the change must show in signals and trades"
    start, end = min(t.ts_event for t in ticks), max(t.ts_event for t in ticks) + 1
    status = cli.main(["audit", "replay", "--from", str(start), "--to", str(end), "--config", str(changed_file),
                       "--account", str(ACCOUNT_FILE), "--out", str(tmp_path / "changed")])
    printed = capsys.readouterr().out
    assert status == 1, printed
    with (tmp_path / "changed" / "differences.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["stage"], r["key"], r["kind"]) for r in rows} == wanted
    assert counts(printed, "bars")[3] == counts(printed, "indicators")[3] == 0
    assert topic_records(settings, prefixed) == before


def test_a_replay_applies_the_settings_version_in_force_at_each_instant(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A version of the universal settings made at noon on the 23rd closes the 24th: live, the worker cuts no bar
    on the 24th and the desk refuses its entries; the replay of both days reproduces that, so it differs from
    nothing."""
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    closed_day = DAY + dt.timedelta(days=1)
    made = int(dt.datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=ET).timestamp()) * NS
    nyse = build_nyse_calendar(DAY - dt.timedelta(days=7), closed_day + dt.timedelta(days=7))
    primary, correlated, ticks = simulated_days(unique, (DAY, closed_day), nyse)
    config = strategy(f"audit-{unique}", primary, correlated, EXIT_RULE)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    version = UniversalSettings(capital=Decimal("100000"), extra_closed_dates=(closed_day,))
    change = SettingsHistory().next_change(version, ts_event=made, ts_init=made, reason="closed on the 24th",
                                           operator="ops")
    expected = session_outputs(config, ticks, nyse, change)
    refused = [dict(fields) for fields in expected["risk.decisions"].values()
               if dict(fields)["outcome"] == "REJECT" and dict(fields)["reasons"][0].startswith("trading_day")]
    assert refused, "the closed day's entries are refused"
    in_force = CalendarInForce(nyse)
    in_force.apply(change)
    closed = closed_bars(settings, ticks, in_force.calendar)
    day_end = int(dt.datetime.combine(closed_day, dt.time(), dt.timezone.utc).timestamp()) * NS
    assert closed and all(b.start < day_end for b in closed)
    assert len(closed_bars(settings, ticks, nyse)) > len(closed), "the version changes the bars"
    run_live(settings, unique, tmp_path, config_file, ticks, expected, len(closed), changes=(change,))

    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    capsys.readouterr()
    status = cli.main(["audit", "replay", "--from", DAY.isoformat(), "--to", closed_day.isoformat(), "--config",
                       str(config_file), "--account", str(ACCOUNT_FILE), "--out", str(tmp_path / "replay")])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert counts(printed, "bars") == counts(printed, "indicators") == (len(closed),) * 3 + (0,)
    for name, outputs in expected.items():
        assert counts(printed, name) == (len(outputs), len(outputs), len(outputs), 0), name


def test_prints_written_under_an_older_schema_version_replay_through_schema_resolution(
        settings: Settings, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The morning's prints were batched under TradeTickBatch version 1 (a record per print in `ticks`), the
    afternoon's under the current version (packed columns): the replay reads each record with its writer's schema
    and reproduces the live day with no difference."""
    prefix = f"a{unique}."
    ensure_topics(settings, prefix=prefix)
    version1 = json.loads((ROOT / "tests/schemas/history/trade_tick_batch.v1.avsc").read_text())
    registry = SchemaRegistryClient({"url": settings.schema_registry_url})
    old_id = registry.register_schema(f"{prefix}ticks.batches-value", Schema(json.dumps(version1), "AVRO"))
    register_all(settings.schema_registry_url, prefix=prefix)   # the current version, evolved from version 1
    parsed = fastavro.parse_schema(version1)
    calendar = build_nyse_calendar(DAY - dt.timedelta(days=7), DAY + dt.timedelta(days=2))
    primary, correlated, ticks = simulated_days(unique, (DAY,), calendar)
    config = strategy(f"audit-{unique}", primary, correlated, EXIT_RULE)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    expected = session_outputs(config, ticks, calendar)
    closed = closed_bars(settings, ticks, calendar)
    half = len(ticks) // 2

    def version_1_record(batch: list) -> bytes:
        out = io.BytesIO()
        out.write(struct.pack(">bI", 0, old_id))
        fastavro.schemaless_writer(out, parsed, {"symbol": batch[0].symbol, "feed": batch[0].feed, "ts_init": 0,
                                                 "ticks": [{"ts_event": t.ts_event, "ts_init": t.ts_init,
                                                            "price": t.price, "size": t.size, "trade_id": t.trade_id,
                                                            "exchange": t.exchange, "conditions": list(t.conditions)}
                                                           for t in batch]})
        return out.getvalue()

    def publish(publisher: EventPublisher, prints: list) -> None:
        pending: dict[str, list] = {}
        topic = publisher.kafka.topic("ticks.batches")
        for tick in prints[:half]:
            batch = pending.setdefault(tick.symbol, [])
            batch.append(tick)
            if len(batch) == 50:
                publisher.producer.produce(topic, key=tick.symbol.encode(), value=version_1_record(pending.pop(
                    tick.symbol)))
        for symbol, batch in pending.items():
            publisher.producer.produce(topic, key=symbol.encode(), value=version_1_record(batch))
        feed = BatchingKafkaFeedSink(publisher, max_ticks=50)
        for tick in prints[half:]:
            feed.on_trade(tick)
        feed.flush()

    run_live(settings, unique, tmp_path, config_file, ticks, expected, len(closed), publish=publish,
             bar_input="batches")
    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    monkeypatch.setenv("BAR_INPUT", "batches")
    capsys.readouterr()
    status = cli.main(["audit", "replay", "--from", DAY.isoformat(), "--to", DAY.isoformat(), "--config",
                       str(config_file), "--account", str(ACCOUNT_FILE), "--out", str(tmp_path / "replay")])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert counts(printed, "bars") == counts(printed, "indicators") == (len(closed),) * 3 + (0,)
    for name, outputs in expected.items():
        assert counts(printed, name) == (len(outputs), len(outputs), len(outputs), 0), name
    assert f"{len(ticks):,} prints (0 records that do not decode)" in (tmp_path / "replay" / "report.html").read_text()

"""The strategy on the real stack: trades on Kafka, `tradestream strategy run` (killed with SIGKILL and
restarted), the sink, PostgreSQL — the same signals and order intents as the in-process backtest on the
same trades, each stored once; then an audit replay of the range reproduces them and publishes nothing.
The strategy trades in the example paper account: its risk decisions, orders, fills and trades on Kafka
are those of the in-process trading session over the same trades, each once across the crash, and the
replay reproduces them too."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
from confluent_kafka import Consumer, TopicPartition
import pytest
import yaml

from connectors.base import BatchingKafkaFeedSink, KafkaFeedSink
from connectors.kafka.publisher import EventPublisher
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.simulation import MarketSimulator, SimulationConfig
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from processors.csvio import format_time
from tradestream.commands.backtest_trading import write_trading_files
from tradestream.commands.inputs import load_account
from connectors.kafka.codec import AvroCodec, register_all
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_FILE = ROOT / "examples/accounts/paper.yaml"
TRADING_RECORDS = {"risk.decisions": "RiskDecisionMade", "orders.events": "OrderStatusChanged", "fills": "FillExecuted",
                   "trades": "TradeUpdated", "risk.overnight": "OvernightCoverageChecked"}
TRADING_TOPICS = tuple(TRADING_RECORDS)


def without_ts_init(event: object) -> tuple:
    """An event's fields but `ts_init` (when the object was built: wall time live, event time in a replay)."""
    return tuple((name, getattr(event, name)) for name in sorted(event.__dataclass_fields__) if name != "ts_init")


def topic_events(settings: Settings, topic: str, group: str) -> list[object]:
    """Every record of `topic`, decoded, partition by partition from the start."""
    codec = AvroCodec(settings.schema_registry_url)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": group,
                         "enable.partition.eof": True, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        events, ended = [], set()
        while len(ended) < len(partitions):
            message = consumer.poll(10)
            assert message is not None, f"{topic}: no end of partition within 10 s"
            if message.error():
                ended.add(message.partition())
                continue
            events.append(codec.decode(message.value()))
        return events
    finally:
        consumer.close()


@pytest.mark.parametrize("records", ["single", "batches"])
def test_streamed_signals_equal_the_backtest_across_a_restart_and_replay(settings: Settings, unique: str,
                                                                         tmp_path: Path, records: str) -> None:
    """`records`: one Kafka record per print (ts.ticks.trades) or per-symbol batches (ts.ticks.batches)."""
    prefix = f"s{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)

    primary, correlated = f"P{unique[:5]}".upper(), f"C{unique[:5]}".upper()
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data |= {"name": f"it-{unique}", "symbols": [primary, correlated], "primary": primary, "correlated": correlated,
             "exit_rules": [f"price({primary}) < donchian_lower({primary}, 5m, 10)"],
             "max_signals_per_day": 100, "max_signals_per_symbol": 100}
    config = ScannerConfig.from_mapping(data)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    # The file, or (second case) the scanner stored as the API stores it, by name.
    source = ["--config", str(config_file)]
    if records == "batches":
        with psycopg.connect(settings.database_url) as conn:
            conn.execute("insert into scanners (name, config) values (%s, %s)",
                         (config.name, json.dumps(config.to_mapping())))
        source = ["--scanner", config.name]

    calendar = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 25))
    windows = [w for w in calendar.windows(parse_sessions("regular"))
               if dt.date(2026, 11, 23) <= dt.datetime.fromtimestamp(w.start_ns / 1e9).date() <= dt.date(2026, 11, 24)]
    simulation = SimulationConfig(symbols=(primary, correlated), seed=5, start_prices=(600.0, 500.0),
                                  annual_volatility=(0.6, 0.6), correlation=((1.0, -0.5), (-0.5, 1.0)),
                                  trades_per_minute=20, bad_print_probability=0.0)
    ticks = list(MarketSimulator(simulation, windows).ticks())
    expected = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                lambda ts: in_schedule(config, ts)).run_trades(ticks)
    assert len(expected.signals) >= 4
    account = load_account(str(ACCOUNT_FILE))
    session = TradingSession({config.name: StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                                            lambda ts: in_schedule(config, ts))},
                             TradingDesk(desk_config([config], account, calendar)))
    expected_trading = [event for tick in ticks for event in session.on_trade(tick, tick.ts_event).trading]
    fills = [e for e in expected_trading if type(e).__name__ == "FillExecuted"]
    assert len(fills) >= 2 and any(type(e).__name__ == "TradeUpdated" and e.status == "Closed"
                                   for e in expected_trading), "the run must open and close trades"

    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), client_id=f"it-{unique}")
    half = len(ticks) // 2

    sink = BatchingKafkaFeedSink(publisher, max_ticks=50) if records == "batches" else KafkaFeedSink(publisher)

    def publish(part: list) -> None:
        for tick in part:
            sink.on_trade(tick)
        sink.flush()
        assert publisher.flush() == 0 and publisher.failed == 0

    publish(ticks[:half])
    first_half = sum(s.ts_event < ticks[half].ts_event for s in expected.signals)
    assert 1 <= first_half < len(expected.signals)

    def stored() -> tuple[list[tuple], list[tuple]]:
        with psycopg.connect(settings.database_url) as conn:
            signals = conn.execute("select signal_id, symbol, side, action, price from signals where strategy = %s "
                                   "order by ts_event_ns", (config.name,)).fetchall()
            intents = conn.execute("select client_order_id, contract, side, order_type, limit_price, quantity "
                                   "from order_intents where strategy = %s order by ts_event_ns",
                                   (config.name,)).fetchall()
        return signals, intents

    writer = spawn(["sink", "--group", f"sink-{unique}"], env, tmp_path / "sink.log")
    runner_log = tmp_path / "strategy.log"
    trading = ["--account", str(ACCOUNT_FILE)]
    runner = spawn(["strategy", "run", *source, *trading], env, runner_log)
    try:
        eventually(lambda: len(stored()[0]) >= 1, timeout_s=120, what="first signals in the database")
        os.killpg(runner.pid, signal.SIGKILL)   # a crash mid-stream, after some decisions were published
        runner.wait(timeout=30)
        publish(ticks[half:])
        runner = spawn(["strategy", "run", *source, *trading], env, runner_log)
        eventually(lambda: len(stored()[0]) >= len(expected.signals) and len(stored()[1]) >= len(expected.intents),
                   timeout_s=180, what="every signal and intent in the database")
    finally:
        for process in (runner, writer):
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)

    signals, intents = stored()
    assert signals == [(s.signal_id, s.symbol, s.side, s.action, s.price) for s in expected.signals]
    assert intents == [(i.client_order_id, i.contract, i.side, i.order_type, i.limit_price, i.quantity)
                       for i in expected.intents]

    # The restart re-derived every decision but published only those after the newest already on Kafka.
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"count-{unique}"})
    try:
        def records(topic: str) -> int:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            return sum(high - low for low, high in (
                consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions))
        assert records(f"{prefix}signals") == len(expected.signals)
        assert records(f"{prefix}orders.intents") == len(expected.intents)
        eventually(lambda: sum(records(f"{prefix}{topic}") for topic in TRADING_TOPICS) >= len(expected_trading),
                   timeout_s=60, what="every trading event on Kafka")
    finally:
        consumer.close()

    # Risk decisions, order events, fills and trade updates: those of the in-process session, each once
    # although the runner was killed mid-stream and rebuilt its desk from the trades.
    for topic in TRADING_TOPICS:
        published = topic_events(settings, f"{prefix}{topic}", f"read-{unique}")
        wanted = [e for e in expected_trading if type(e).__name__ == TRADING_RECORDS[topic]]
        got, want = sorted(map(without_ts_init, published), key=repr), sorted(map(without_ts_init, wanted), key=repr)
        assert got == want, topic
        assert len(published) == len({without_ts_init(e) for e in published}), f"{topic}: a record published twice"

    # The audit replay of the range reproduces every decision and publishes nothing.
    start = min(t.ts_event for t in ticks)
    end = max(t.ts_event for t in ticks) + 1
    out = tmp_path / "replay"
    result = subprocess.run([sys.executable, "-m", "tradestream.cli", "strategy", "replay", "--config",
                             str(config_file), "--from", str(start), "--to", str(end), "--out", str(out),
                             "--compare", "--account", str(ACCOUNT_FILE)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 difference(s)" in result.stdout
    replayed = (out / "signals.csv").read_text().splitlines()
    assert len(replayed) == len(expected.signals) + 1
    assert signals == stored()[0]  # nothing new was stored by the replay
    # ... and the trading, file for file as the in-process session's (ts_init is not in the files).
    write_trading_files(tmp_path / "expected", expected_trading, session.desk)
    for name in ("decisions.csv", "orders.csv", "fills.csv", "trades.csv", "deals.csv"):
        assert (out / name).read_text() == (tmp_path / "expected" / name).read_text(), name

    # ... and the backtest over the same prints writes the same files (the command, as a user runs it).
    ticks_csv, bars_csv = tmp_path / "ticks.csv", tmp_path / "bars.csv"
    ticks_csv.write_text("ts,symbol,price,size,trade_id,conditions\n" + "".join(
        f"{format_time(t.ts_event)},{t.symbol},{t.price},{t.size},{t.trade_id or ''},{' '.join(t.conditions)}\n"
        for t in ticks))
    bars_csv.write_text("symbol,start,open,high,low,close,volume\n")
    backtest = subprocess.run([sys.executable, "-m", "tradestream.cli", "backtest", "--config", str(config_file),
                               "--bars", str(bars_csv), "--ticks", str(ticks_csv), "--account", str(ACCOUNT_FILE),
                               "--out", str(tmp_path / "backtest"), "--quiet"], env=env, capture_output=True,
                              text=True, timeout=300)
    assert backtest.returncode == 0, backtest.stdout + backtest.stderr
    for name in ("signals.csv", "intents.csv", "decisions.csv", "orders.csv", "fills.csv", "trades.csv", "deals.csv"):
        assert (tmp_path / "backtest" / name).read_text() == (out / name).read_text(), name

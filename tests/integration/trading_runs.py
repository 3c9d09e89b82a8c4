"""Shared by the trading integration tests: the example correlation strategy on two symbols of the test's own,
trading the example paper account (`correlation_on_paper`), a simulated session of prints of those symbols
(`simulated_prints`), running `tradestream strategy run --account` as its own process until it has published what a
test expects, then reading back what it published."""

from __future__ import annotations

import datetime as dt
import os
import signal
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, TopicPartition

from processors.calendar import ET, MarketCalendar, parse_sessions
from processors.model import TradeTick
from processors.risk import Account
from processors.risk.account_file import read_account
from processors.scanner import ScannerConfig
from processors.simulation import MarketSimulator, SimulationConfig
from tradestream.config import Settings

from .conftest import eventually, spawn
from .test_strategy import ROOT, TRADING_RECORDS, TRADING_TOPICS, topic_events


def correlation_on_paper(unique: str, tmp_path: Path, name: str, exit_rule: str,
                         **limits: Any) -> tuple[ScannerConfig, Path, Account, Path]:
    """examples/strategies/correlation.yaml on the symbols P<unique> and C<unique> (`exit_rule` with {primary} for
    the first), trading examples/accounts/paper.yaml with `limits` changed; each also written to a file for the
    runner: (strategy, its file, account, its file)."""
    primary, correlated = f"P{unique[:5]}".upper(), f"C{unique[:5]}".upper()
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data |= {"name": name, "symbols": [primary, correlated], "primary": primary, "correlated": correlated,
             "exit_rules": [exit_rule.format(primary=primary)], "max_signals_per_day": 100,
             "max_signals_per_symbol": 100}
    config = ScannerConfig.from_mapping(data)
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    account_data = yaml.safe_load((ROOT / "examples/accounts/paper.yaml").read_text())
    account_data["limits"] |= limits
    account_file = tmp_path / "account.yaml"
    account_file.write_text(yaml.safe_dump(account_data))
    return config, config_file, read_account(account_data), account_file


def simulated_prints(config: ScannerConfig, calendar: MarketCalendar, days: tuple[dt.date, ...]) -> list[TradeTick]:
    """The regular sessions of `days` (New York dates) of the strategy's two symbols, negatively correlated, at 20
    prints a minute each (seed 5: the same prints every run)."""
    windows = [w for w in calendar.windows(parse_sessions("regular"))
               if dt.datetime.fromtimestamp(w.start_ns / 1e9, ET).date() in days]
    simulation = SimulationConfig(symbols=(config.primary, config.correlated), seed=5, start_prices=(600.0, 500.0),
                                  annual_volatility=(0.6, 0.6), correlation=((1.0, -0.5), (-0.5, 1.0)),
                                  trades_per_minute=20, bad_print_probability=0.0)
    return list(MarketSimulator(simulation, windows).ticks())


def run_until_published(settings: Settings, prefix: str, env: dict[str, str], config_file: Path, account_file: Path,
                        log: Path, trading_events: int, dead_letter: str) -> dict[str, list]:
    """Start the runner, wait until the trading topics hold `trading_events` records and the dead-letter topic
    one (`dead_letter` says which), stop it; every trading topic's records, decoded, by topic name."""
    runner = spawn(["strategy", "run", "--config", str(config_file), "--account", str(account_file)], env, log)
    consumer = Consumer({"bootstrap.servers": settings.kafka_bootstrap, "group.id": f"count-{prefix}"})

    def records(topic: str) -> int:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return sum(high - low for low, high in (
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10) for p in partitions))
    try:
        eventually(lambda: sum(records(f"{prefix}{t}") for t in TRADING_TOPICS) >= trading_events, timeout_s=180,
                   what="every trading event on Kafka")
        eventually(lambda: records(f"{prefix}deadletter") >= 1, timeout_s=60, what=dead_letter)
    finally:
        consumer.close()
        os.killpg(runner.pid, signal.SIGTERM)
        runner.wait(timeout=60)
    return {topic: topic_events(settings, f"{prefix}{topic}", f"read-{prefix}{topic}") for topic in TRADING_TOPICS}


def of_topic(events: list, topic: str) -> list:
    """The events of `events` that `topic` carries."""
    return [e for e in events if type(e).__name__ == TRADING_RECORDS[topic]]

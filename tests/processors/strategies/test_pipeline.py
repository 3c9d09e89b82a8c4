"""The strategy pipeline over simulated SPY/QQQ trades, cross-checked with the batch core, and the
backtest CLI's files."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from processors.bars import TickArrays, aggregate_batch
from processors.calendar import Session, build_nyse_calendar
from processors.indicators import compute_indicators
from processors.model import SignalGenerated
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.strategies.pipeline import StrategyPipeline
from tradestream.cli import main

ROOT = Path(__file__).resolve().parents[3]
ACCOUNT = ROOT / "examples" / "accounts" / "paper.yaml"  # the example strategy trades in this account
NS = 1_000_000_000


@pytest.fixture(scope="module")
def config() -> ScannerConfig:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data |= {"max_signals_per_day": 50, "max_signals_per_symbol": 50}
    return ScannerConfig.from_mapping(data)


def run_pipeline(config: ScannerConfig, ticks: list) -> tuple[StrategyPipeline, object]:
    calendar = build_nyse_calendar(dt.date(2026, 11, 9), dt.date(2026, 11, 25))
    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts))
    return pipeline, pipeline.run_trades(ticks)


def test_signals_fire_and_every_one_is_explained_by_batch_swing_levels(config: ScannerConfig, ticks: list) -> None:
    """Independent check: bars by `aggregate_batch` and indicators by `compute_indicators` (the batch
    twins) give, for each signal, the swing levels the signal says it compared the prices with."""
    _, decisions = run_pipeline(config, ticks)
    assert len(decisions.signals) >= 4 and len(decisions.intents) == len(decisions.signals)
    calendar = build_nyse_calendar(dt.date(2026, 11, 9), dt.date(2026, 11, 25))
    batch = aggregate_batch(TickArrays.from_ticks(ticks), "5m", frozenset({Session.REGULAR}), calendar).bars
    frame = pd.DataFrame({"symbol": [b.symbol for b in batch], "start": [b.start for b in batch],
                          "end": [b.end for b in batch], "high": [float(b.high) for b in batch],
                          "low": [float(b.low) for b in batch], "close": [float(b.close) for b in batch],
                          "session": [b.session for b in batch]})
    levels = compute_indicators(frame)
    for signal in decisions.signals:
        for symbol in ("SPY", "QQQ"):
            # bars close on the first tick after their end: a bar ending at the instant is not known yet
            last = levels[(levels.symbol == symbol) & (levels.end < signal.ts_event)].iloc[-1]
            for level in ("swing_high", "swing_low"):
                key = f"{level}({symbol}, 5m)"
                if key in signal.rule_values:
                    assert signal.rule_values[key] == pytest.approx(last[level], abs=0, rel=0)
        last_price = {s: next(t.price for t in reversed(ticks) if t.symbol == s and t.ts_event < signal.ts_event)
                      for s in ("SPY", "QQQ")}
        assert signal.price == last_price["SPY"]
        if "price(QQQ)" in signal.rule_values:
            assert signal.rule_values["price(QQQ)"] == float(last_price["QQQ"])
    sides = [(s.action, s.side) for s in decisions.signals]
    # positions alternate: an entry is always followed by an exit of the opposite side
    for (action, side), (next_action, next_side) in zip(sides, sides[1:]):
        if action == "ENTRY":
            assert next_action == "EXIT" and next_side != side


def test_a_second_run_takes_identical_decisions(config: ScannerConfig, ticks: list) -> None:
    _, first = run_pipeline(config, ticks)
    _, second = run_pipeline(config, ticks)
    assert first.signals == second.signals and first.intents == second.intents


def test_backtest_cli_writes_signals_and_summary(config: ScannerConfig, ticks: list, tmp_path: Path) -> None:
    ticks_csv = tmp_path / "ticks.csv"
    with open(ticks_csv, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "symbol", "price", "size", "trade_id"])
        writer.writerows([t.ts_event, t.symbol, t.price, t.size, t.trade_id or ""] for t in ticks)
    bars_csv = tmp_path / "bars.csv"
    bars_csv.write_text("symbol,start,open,high,low,close,volume\n")
    config_file = tmp_path / "strategy.yaml"
    config_file.write_text(yaml.safe_dump(config.to_mapping()))
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(config_file), "--bars", str(bars_csv), "--ticks", str(ticks_csv),
                 "--account", str(ACCOUNT), "--out", str(out), "--quiet"]) == 0
    _, expected = run_pipeline(config, ticks)
    with open(out / "signals.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["ts", "signal_id", "strategy", "symbol", "action", "side", "price", "reason",
                             "rule_values"]  # tradestream.commands.decisions, shared with `strategy replay`
    assert [(r["side"], r["price"]) for r in rows] == [(s.side, str(s.price)) for s in expected.signals]
    assert rows[0]["ts"].endswith("Z") or rows[0]["ts"].endswith("+00:00")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["signals"] == len(expected.signals) and summary["ticks"] == len(ticks)


def test_backtest_over_bars_only(tmp_path: Path, ticks: list) -> None:
    """One-minute bars drive the strategy: price is the latest bar close, 5m bars are resampled."""
    calendar = build_nyse_calendar(dt.date(2026, 11, 9), dt.date(2026, 11, 25))
    bars = aggregate_batch(TickArrays.from_ticks(ticks), "1m", frozenset({Session.REGULAR}), calendar).bars
    bars_csv = tmp_path / "bars.csv"
    with open(bars_csv, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["symbol", "start", "open", "high", "low", "close", "volume"])
        writer.writerows([b.symbol, b.start, b.open, b.high, b.low, b.close, b.volume] for b in bars)
    config_file = ROOT / "examples/strategies/correlation.yaml"
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(config_file), "--bars", str(bars_csv), "--account", str(ACCOUNT),
                 "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bars"] == len(bars) and summary["signals"] >= 1
    assert np.isfinite(summary["events_per_second"])


def test_backtest_reports_configuration_errors_with_the_field(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    config_file = tmp_path / "bad.yaml"
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data["exit_rules"] = ["price(SPY) > > 1"]
    config_file.write_text(yaml.safe_dump(data))
    (tmp_path / "bars.csv").write_text("symbol,start,open,high,low,close,volume\n")
    assert main(["backtest", "--config", str(config_file), "--bars", str(tmp_path / "bars.csv"),
                 "--out", str(tmp_path / "out")]) == 2
    assert "exit_rules[0]" in capsys.readouterr().err


def test_signals_are_typed(config: ScannerConfig, ticks: list) -> None:
    _, decisions = run_pipeline(config, ticks[: len(ticks) // 2])
    assert all(isinstance(s, SignalGenerated) and s.strategy == "spy-qqq-correlation" for s in decisions.signals)

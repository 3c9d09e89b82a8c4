"""One writer of decision files: its columns and cells, and `backtest` and `strategy replay` writing
identical files for the same trades."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from processors.calendar import build_nyse_calendar, session_windows
from processors.csvio import read_ticks
from processors.model import OrderIntentCreated, SignalGenerated, SignalSuppressed
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.simulation import MarketSimulator, SimulationConfig
from processors.strategies.pipeline import Decisions, StrategyPipeline
from tradestream.cli import main
from tradestream.commands.decisions import (INTENT_COLUMNS, SIGNAL_COLUMNS, SUPPRESSED_COLUMNS, intent_rows,
                                            signal_rows, suppressed_rows, write_decisions)

ROOT = Path(__file__).resolve().parents[2]
NS = 1_000_000_000
T0 = 1_795_530_600 * NS + 1_500  # 2026-11-24T14:30:00.000001500Z


def _signal(**changes: object) -> SignalGenerated:
    fields = dict(signal_id="sig-1", strategy="s", symbol="SPY", side="BUY", ts_event=T0, ts_init=T0 + 7,
                  price=Decimal("601.10"), reason="price(SPY) > swing_high(SPY, 5m)",
                  rule_values={"price(SPY)": 601.1, "swing_high(SPY, 5m)": float("nan")}, action="ENTRY")
    return SignalGenerated(**(fields | changes))


def _intent() -> OrderIntentCreated:
    return OrderIntentCreated(
        client_order_id="ts-1", signal_id="sig-1", strategy="s", mode="paper", symbol="SPY", instrument="equity",
        contract="SPY", side="BUY", ts_event=T0, ts_init=T0 + 9, exchange="SMART", order_type="LMT",
        limit_price=Decimal("601.11"), stop_price=None, tick_size=Decimal("0.01"),
        reference_price=Decimal("601.10"), product="MIS", quantity=10, multiplier=1)


@pytest.mark.parametrize("event_type, columns", [(SignalGenerated, SIGNAL_COLUMNS),
                                                 (SignalSuppressed, SUPPRESSED_COLUMNS),
                                                 (OrderIntentCreated, INTENT_COLUMNS)])
def test_every_field_of_a_decision_has_a_column(event_type: type, columns: tuple[str, ...]) -> None:
    """ts_event is `ts`; ts_init (when our object was made) is not part of the decision."""
    fields = {f.name for f in dataclasses.fields(event_type)} - {"ts_event", "ts_init"}
    assert set(columns) == fields | {"ts"} and columns[0] == "ts" and len(set(columns)) == len(columns)


def test_cells_are_exact_decimals_empty_for_absent_values_and_json_rule_values() -> None:
    [signal] = signal_rows([_signal()])
    row = dict(zip(SIGNAL_COLUMNS, signal))
    assert row["ts"] == "2026-11-24T14:30:00.000001500Z"
    assert (row["action"], row["side"], row["price"]) == ("ENTRY", "BUY", "601.10")
    assert json.loads(row["rule_values"]) == {"price(SPY)": 601.1, "swing_high(SPY, 5m)": None}
    [intent] = intent_rows([_intent()])
    row = dict(zip(INTENT_COLUMNS, intent))
    assert (row["limit_price"], row["stop_price"], row["quantity"], row["detail"]) == ("601.11", "", "10", "")
    suppressed = SignalSuppressed(signal_id="sig-2", strategy="s", symbol="SPY", side="SELL", ts_event=T0,
                                  ts_init=T0, price=None, rule="max_signals_per_day", suppression="LIMIT")
    [row] = suppressed_rows([suppressed])
    assert dict(zip(SUPPRESSED_COLUMNS, row))["price"] == ""


def test_write_decisions_writes_the_three_files_with_their_headers(tmp_path: Path) -> None:
    write_decisions(tmp_path / "out", [_signal(), _signal(signal_id="sig-3", action="EXIT", side="SELL")], [],
                    [_intent()])
    for name, columns, count in (("signals.csv", SIGNAL_COLUMNS, 2), ("suppressed.csv", SUPPRESSED_COLUMNS, 0),
                                 ("intents.csv", INTENT_COLUMNS, 1)):
        with open(tmp_path / "out" / name, newline="") as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == columns and len(rows) == count + 1
    with open(tmp_path / "out" / "signals.csv", newline="") as handle:
        assert [r["signal_id"] for r in csv.DictReader(handle)] == ["sig-1", "sig-3"]


# -- backtest and replay -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ticks_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    windows = session_windows(dt.date(2026, 11, 16), dt.date(2026, 11, 17), "regular")
    simulation = SimulationConfig(symbols=("SPY", "QQQ"), seed=11, start_prices=(600.0, 500.0),
                                  annual_volatility=(0.6, 0.6), correlation=((1.0, -0.5), (-0.5, 1.0)),
                                  trades_per_minute=30, bad_print_probability=0.0)
    path = tmp_path_factory.mktemp("ticks") / "ticks.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "symbol", "price", "size", "trade_id"])
        writer.writerows([t.ts_event, t.symbol, t.price, t.size, t.trade_id or ""]
                         for t in MarketSimulator(simulation, windows).ticks())
    return path


class InProcessRunner:
    """Stands in for `streams.strategy_runner.StrategyRunner` in `strategy replay`: the trades of a CSV
    file instead of the trades topic, through a `StrategyPipeline` built as the runner builds it."""

    ticks_csv: Path

    def __init__(self, _kafka: object, _codec: object, config: ScannerConfig, start_ns: int,
                 end_ns: int | None = None, publisher: object = None, lateness_ms: int = 0,
                 event_time: object = None) -> None:
        assert publisher is None  # a replay publishes nothing
        first = dt.datetime.fromtimestamp(start_ns / 1e9, dt.timezone.utc).date()
        last = dt.datetime.fromtimestamp(end_ns / 1e9, dt.timezone.utc).date()
        calendar = build_nyse_calendar(first - dt.timedelta(days=10), last + dt.timedelta(days=30))
        self.pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                         lambda ts: in_schedule(config, ts), lateness_ns=lateness_ms * 1_000_000)
        self.start_ns, self.end_ns = start_ns, end_ns
        self.decisions = Decisions()

    def run(self, stop: object, until_caught_up: bool = False) -> SimpleNamespace:
        with open(self.ticks_csv, newline="") as handle:
            reader = csv.DictReader(handle)
            ticks = sorted(read_ticks(reader, list(reader.fieldnames or [])), key=lambda t: t.ts_event)
        trades = [t for t in ticks if self.start_ns <= t.ts_event < self.end_ns]
        for tick in trades:
            self.decisions.extend(self.pipeline.on_trade(tick))
        return SimpleNamespace(trades=len(trades))


def test_backtest_and_replay_write_identical_files_for_the_same_trades(
        ticks_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import streams.strategy_runner

    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data |= {"max_signals_per_day": 1, "max_signals_per_symbol": 1}  # some signals are suppressed by the limit
    config = tmp_path / "strategy.yaml"
    config.write_text(yaml.safe_dump(ScannerConfig.from_mapping(data).to_mapping()))
    bars = tmp_path / "bars.csv"
    bars.write_text("symbol,start,open,high,low,close,volume\n")

    assert main(["backtest", "--config", str(config), "--bars", str(bars), "--ticks", str(ticks_csv),
                 "--account", str(ROOT / "examples/accounts/paper.yaml"), "--out", str(tmp_path / "backtest")]) == 0

    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:5433/db")  # no local password generated
    monkeypatch.setenv("TRADESTREAM_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(InProcessRunner, "ticks_csv", ticks_csv, raising=False)
    monkeypatch.setattr(streams.strategy_runner, "StrategyRunner", InProcessRunner)
    assert main(["strategy", "replay", "--config", str(config), "--from", "2026-11-16T00:00:00Z",
                 "--to", "2026-11-19T00:00:00Z", "--out", str(tmp_path / "replay")]) == 0

    for name in ("signals.csv", "suppressed.csv", "intents.csv"):
        backtest = (tmp_path / "backtest" / name).read_text()
        replay = (tmp_path / "replay" / name).read_text()
        assert backtest.splitlines()[0] == replay.splitlines()[0]
        assert len(backtest.splitlines()) > 1, f"{name}: no rows to compare"
        assert backtest == replay, name


def test_the_readme_lists_the_columns_the_writer_writes() -> None:
    tables = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0] in ("signals.csv", "suppressed.csv", "intents.csv"):
            tables[cells[0]] = tuple(c.strip() for c in cells[1].split(","))
    assert tables == {"signals.csv": SIGNAL_COLUMNS, "suppressed.csv": SUPPRESSED_COLUMNS,
                      "intents.csv": INTENT_COLUMNS}

"""`tradestream backtest` of a daily (1d) strategy: the example correlation strategy with `timeframe: 1d`
over two daily files, one bar per session, signals at the sessions' closes."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from processors.calendar import ET, build_nyse_calendar
from tradestream.cli import main

ROOT = Path(__file__).resolve().parents[2]
MARKET = Path("/work/shared/data/market")
FILES = {"SPY": MARKET / "nvda-1999-2014.txt", "QQQ": MARKET / "orcl-1995-2014.txt"}


def daily_strategy(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data.update(timeframe="1d", type="positional", exit_rules=[])
    for section in ("risk", "trade", "charges"):  # signals only: no trade management, no account
        data.pop(section)
    path = tmp_path / "daily.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def daily_bars(tmp_path: Path) -> Path:
    """The two files' 2004-2005 rows as bars starting at 09:30 ET, with no end and no timeframe column."""
    path = tmp_path / "bars.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["symbol", "start", "open", "high", "low", "close", "volume"])
        for symbol, source in FILES.items():
            for row in csv.DictReader(source.open()):
                if "2004-01-01" <= row["Date"] < "2006-01-01":
                    start = dt.datetime.combine(dt.date.fromisoformat(row["Date"]), dt.time(9, 30), tzinfo=ET)
                    writer.writerow([symbol, start.isoformat(), row["Open"], row["High"], row["Low"], row["Close"],
                                     row["Volume"]])
    return path


@pytest.mark.skipif(not all(path.exists() for path in FILES.values()), reason="the shared daily files are absent")
def test_a_daily_backtest_writes_signals_at_the_sessions_closes(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["backtest", "--config", str(daily_strategy(tmp_path)), "--bars", str(daily_bars(tmp_path)),
                 "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["bars"] == 2 * 504  # 2004 and 2005: 252 sessions each, per symbol
    with (out / "signals.csv").open() as handle:
        signals = list(csv.DictReader(handle))
    assert len(signals) == summary["signals"] >= 4
    calendar = build_nyse_calendar(dt.date(2004, 1, 1), dt.date(2006, 1, 10))
    for signal in signals:
        at = dt.datetime.fromisoformat(signal["ts"].replace("Z", "+00:00"))
        assert calendar.day(at.astimezone(ET).date()).close == int(at.timestamp()) * 1_000_000_000
        assert "1d)" in signal["reason"]


def test_a_daily_strategy_whose_window_ends_before_the_close_is_refused(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    path = daily_strategy(tmp_path)
    path.write_text(path.read_text().replace("end_time: '16:00'", "end_time: '15:30'"))
    assert "15:30" in path.read_text()
    assert main(["strategy", "validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "ScannerConfigError" in err and "end_time: 15:30 ends before the session close 16:00 ET" in err
    assert "Traceback" not in err


@pytest.mark.skipif(not all(path.exists() for path in FILES.values()), reason="the shared daily files are absent")
def test_a_settings_file_closes_a_date_for_the_backtest(tmp_path: Path) -> None:
    strategy, bars = daily_strategy(tmp_path), daily_bars(tmp_path)
    plain, closed = tmp_path / "plain", tmp_path / "closed"
    assert main(["backtest", "--config", str(strategy), "--bars", str(bars), "--out", str(plain), "--quiet"]) == 0
    with (plain / "signals.csv").open() as handle:
        first = next(csv.DictReader(handle))
    date = dt.datetime.fromisoformat(first["ts"].replace("Z", "+00:00")).astimezone(ET).date()
    settings = tmp_path / "settings.yaml"
    settings.write_text(yaml.safe_dump({"capital": "100000", "extra_closed_dates": [date.isoformat()]}))
    assert main(["backtest", "--config", str(strategy), "--bars", str(bars), "--settings", str(settings),
                 "--out", str(closed), "--quiet"]) == 0
    assert json.loads((closed / "summary.json").read_text())["bars"] == 2 * 504 - 2   # that day's two bars
    with (closed / "signals.csv").open() as handle:
        dates = {dt.datetime.fromisoformat(s["ts"].replace("Z", "+00:00")).astimezone(ET).date()
                 for s in csv.DictReader(handle)}
    assert date not in dates

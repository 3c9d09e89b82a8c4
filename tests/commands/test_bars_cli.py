from __future__ import annotations

import csv
from pathlib import Path

from tradestream.cli import main

TICKS = """ts,symbol,price,size,trade_id,conditions
2026-11-24T09:30:01-05:00,SPY,10.00,100,1,
2026-11-24T14:31:00Z,SPY,10.50,200,2,@
1764009120000000000,SPY,9.75,300,3,
2026-11-24T09:34:59-05:00,SPY,10.25,400,4,
2026-11-24T09:34:59-05:00,SPY,10.25,400,4,
2026-11-24T09:40:00-05:00,QQQ,500,10,9,
"""


def test_ticks_to_bars(tmp_path: Path, capsys) -> None:
    ticks = tmp_path / "ticks.csv"
    ticks.write_text(TICKS.replace("1764009120000000000", "1795530720000000000"))  # 2026-11-24 14:32Z
    out = tmp_path / "bars.csv"
    assert main(["bars", "--ticks", str(ticks), "--timeframe", "5m", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["symbol", "start", "end", "open", "high", "low", "close", "volume", "vwap", "trades"]
    qqq, spy = rows
    assert spy == {"symbol": "SPY", "start": "2026-11-24T14:30:00Z", "end": "2026-11-24T14:35:00Z", "open": "10.0",
                   "high": "10.5", "low": "9.75", "close": "10.25", "volume": "1000", "vwap": "10.12500000",
                   "trades": "4"}
    assert (qqq["start"], qqq["volume"]) == ("2026-11-24T14:40:00Z", "10")
    assert "DuplicateTick" in capsys.readouterr().err


def test_bad_row_names_line_and_column(tmp_path: Path, capsys) -> None:
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("ts,symbol,price,size\n2026-11-24T14:31:00Z,SPY,abc,1\n")
    assert main(["bars", "--ticks", str(ticks), "--timeframe", "5m", "--out", str(tmp_path / "o.csv")]) == 2
    assert "line 2, column price" in capsys.readouterr().err


def test_resample_bars(tmp_path: Path) -> None:
    bars = tmp_path / "1m.csv"
    bars.write_text("symbol,start,open,high,low,close,volume\n"
                    "SPY,2026-11-24T14:30:00Z,10,11,9,10.5,100\n"
                    "SPY,2026-11-24T14:31:00Z,10.5,12,10,11,300\n"
                    "SPY,2026-11-24T14:35:00Z,11,11,11,11,5\n")
    out = tmp_path / "5m.csv"
    assert main(["bars", "--bars", str(bars), "--timeframe", "5m", "--out", str(out)]) == 0
    first, second = csv.DictReader(out.open())
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (
        "10", "12", "9", "11", "400")
    # vwap of bars without vwap uses their close: (10.5*100 + 11*300) / 400 = 10.875
    assert first["vwap"] == "10.87500000"
    assert second["start"] == "2026-11-24T14:35:00Z"

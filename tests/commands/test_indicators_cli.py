from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tradestream.cli import main


def test_indicators_csv(tmp_path: Path) -> None:
    lines = ["symbol,start,open,high,low,close,volume,extra"]
    highs = [10, 11, 12, 11.5, 13]
    lows = [9, 9.5, 10.5, 10, 11]
    closes = [9.5, 10.5, 11, 10.5, 12.5]
    for i, (h, l, c) in enumerate(zip(highs, lows, closes)):
        lines.append(f"AAA,2026-11-{20 + i}T14:30:00Z,{c},{h},{l},{c},100,x")
    lines.append("BBB,2026-11-20T14:30:00Z,1,2,0.5,1.5,10,y")
    source = tmp_path / "bars.csv"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "ind.csv"
    assert main(["indicators", "--bars", str(source), "--out", str(out), "--atr", "3", "--donchian", "2",
                 "--fractal", "1", "--swing", "1,1"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0])[:7] == ["symbol", "start", "open", "high", "low", "close", "volume"]
    aaa = [r for r in rows if r["symbol"] == "AAA"]
    assert [r["atr"] for r in aaa] == ["", "", "", "1.5", repr(5.5 / 3)]
    assert aaa[1]["dc_upper"] == "11.0" and aaa[0]["dc_upper"] == ""
    # P of bar 0 = (10 + 9 + 9.5)/3 = 9.5
    assert aaa[0]["pivot"] == "9.5"
    # fractal (k=1) high: bar 2 (12) > 11 and 11.5, known on bar 3
    assert [r["fractal_high"] for r in aaa] == ["", "", "", "12.0", "12.0"]
    bbb = [r for r in rows if r["symbol"] == "BBB"]
    assert bbb[0]["atr"] == "" and bbb[0]["pivot"] == "1.3333333333333333"


def _bars(tmp_path: Path) -> Path:
    source = tmp_path / "bars.csv"
    source.write_text("symbol,start,open,high,low,close,volume\nA,2026-11-20T14:30:00Z,1,2,0.5,1.5,10\n")
    return source


def test_bad_swing_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["indicators", "--bars", str(_bars(tmp_path)), "--out", str(tmp_path / "o.csv"), "--swing", "5"])
    assert "LEFT,RIGHT" in capsys.readouterr().err


def test_bad_period_names_the_parameter(tmp_path: Path, capsys) -> None:
    assert main(["indicators", "--bars", str(_bars(tmp_path)), "--out", str(tmp_path / "o.csv"), "--atr", "0"]) == 2
    assert "atr_period" in capsys.readouterr().err

from __future__ import annotations

import csv
from pathlib import Path

from tradestream.cli import main


def test_calendar_csv(tmp_path: Path) -> None:
    out = tmp_path / "cal.csv"
    assert main(["calendar", "--from", "2026-12-23", "--to", "2026-12-28", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["date"] for r in rows] == ["2026-12-23", "2026-12-24", "2026-12-28"]
    assert rows[1] == {"date": "2026-12-24", "pre_open": "2026-12-24T09:00:00Z", "open": "2026-12-24T14:30:00Z",
                       "close": "2026-12-24T18:00:00Z", "post_close": "2026-12-24T22:00:00Z",
                       "early_close": "true"}


def test_calendar_rejects_reversed_range(capsys) -> None:
    assert main(["calendar", "--from", "2026-12-28", "--to", "2026-12-23"]) == 2
    assert "--to is before --from" in capsys.readouterr().err

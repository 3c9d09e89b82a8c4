"""`tradestream settings`: validate prints the normalised settings or every problem with the file; change refuses
a past --at before reaching Kafka. (Publishing and `show` read the settings topic: tests/integration.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tradestream.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_validate_prints_the_normalised_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "validate", "--file", str(ROOT / "examples/settings/universal.yaml")]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["capital"] == "100000" and printed["regular_open"] == "09:30"
    assert printed["option_category_split"] == {"mode": "count", "itm_strikes": 1, "otm_strikes": 1,
                                                "deep_strikes": 5}


def test_validate_names_every_problem_and_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"capital": 1.5, "regular_close": "07:00"}')
    assert main(["settings", "validate", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert "tradestream settings validate: SettingsError: capital: must be written as a string" in err
    assert "regular_close: must be after regular_open (09:30), got 07:00" in err
    assert f"in {path}" in err


def test_change_refuses_a_past_instant_before_publishing(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="--at must not be in the past"):
        main(["settings", "change", "--file", str(ROOT / "examples/settings/universal.yaml"), "--reason", "r",
              "--at", "2020-01-02T14:30:00Z"])

"""The `tradestream` command itself: --version, --log-level, LOG_FORMAT, help, and how errors are reported."""

from __future__ import annotations

import importlib.metadata
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from schemas.errors import ConfigError
from tradestream.cli import JsonFormatter, LOG_LEVELS, configure_logging, log_format_from_env, main
from tradestream.config import Settings

ROOT = Path(__file__).resolve().parents[2]
CALENDAR = ["calendar", "--from", "2026-11-23", "--to", "2026-11-24"]


@contextmanager
def bare_root_logger() -> Iterator[logging.Logger]:
    """The root logger without handlers, as in a fresh process (pytest adds its own for each test phase,
    so this runs inside the test), restored afterwards."""
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    root.handlers[:] = []
    try:
        yield root
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_version_is_the_installed_distribution(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tradestream {importlib.metadata.version('tradestream')}"


def test_a_bad_log_level_names_the_accepted_levels_and_exits_2_without_a_traceback() -> None:
    result = subprocess.run([sys.executable, "-m", "tradestream.cli", "--log-level", "LOUD", *CALENDAR],
                            capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2
    assert "--log-level" in result.stderr and "LOUD" in result.stderr
    assert all(level in result.stderr for level in LOG_LEVELS)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("given, level", [("warning", logging.WARNING), ("Debug", logging.DEBUG)])
def test_the_log_level_is_accepted_in_any_case(given: str, level: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    with bare_root_logger() as root:
        assert main(["--log-level", given, *CALENDAR]) == 0
        assert root.level == level


def test_json_log_lines_parse_with_time_level_logger_message_and_exception() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("tradestream.test_cli")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("symbol=%s offset=%d\nsecond line", "SPY", 42)
        try:
            raise RuntimeError("broker gone")
        except RuntimeError:
            logger.exception("sink stopped")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "WARNING" and first["logger"] == "tradestream.test_cli"
    assert first["message"] == "symbol=SPY offset=42\nsecond line"
    assert first["time"].endswith("Z") and "T" in first["time"]
    assert "exception" not in first
    assert second["message"] == "sink stopped"
    assert "RuntimeError: broker gone" in second["exception"] and "Traceback" in second["exception"]


def test_log_format_json_in_the_environment_makes_the_cli_log_json(monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    with bare_root_logger():
        assert main(CALENDAR) == 0
        capsys.readouterr()
        logging.getLogger("tradestream.some_stage").info("bar closed symbol=%s", "QQQ")
    entry = json.loads(capsys.readouterr().err)
    assert {k: entry[k] for k in ("level", "logger", "message")} == {
        "level": "INFO", "logger": "tradestream.some_stage", "message": "bar closed symbol=QQQ"}


def test_a_bad_log_format_exits_2_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    assert main(CALENDAR) == 2
    err = capsys.readouterr().err
    assert "LOG_FORMAT" in err and "Traceback" not in err


@pytest.mark.parametrize("value", ["", "text", "JSON", " json ", "xml"])
def test_log_format_is_read_as_settings_read_it(value: str, tmp_path: Path) -> None:
    environ = {"LOG_FORMAT": value, "DATABASE_URL": "postgresql://u:p@127.0.0.1:5433/db",
               "TRADESTREAM_HOME": str(tmp_path)}
    try:
        expected = Settings.from_env(environ).log_format
    except ConfigError:
        with pytest.raises(ConfigError, match="LOG_FORMAT"):
            log_format_from_env(environ)
    else:
        assert log_format_from_env(environ) == expected


def test_configure_logging_writes_text_by_default() -> None:
    stream = io.StringIO()
    with bare_root_logger():
        configure_logging("INFO", "text", stream)
        logging.getLogger("tradestream.x").info("started port=%d", 8000)
    assert stream.getvalue().rstrip().endswith("INFO tradestream.x started port=8000")


def test_help_describes_the_tool_its_command_groups_and_where_to_read_more(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "Kafka-native" in text and "README.md" in text
    for command in ("stack", "worker", "backtest", "strategy", "verify bars", "LOG_FORMAT", "exit status"):
        assert command in text


def _bad_strategy(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data["exit_rules"] = ["price(SPY) > > 1"]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_a_bad_strategy_file_is_one_message_naming_the_field_and_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _bad_strategy(tmp_path)
    assert main(["strategy", "validate", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tradestream strategy validate: ScannerConfigError: ")
    assert "exit_rules[0]" in err and f"in {path}" in err and "Traceback" not in err


def test_a_bad_row_names_the_line_the_column_and_the_file(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    bars = tmp_path / "bars.csv"
    bars.write_text("symbol,start,open,high,low,close,volume\n")
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("ts,symbol,price,size\n2026-11-24T14:31:00Z,SPY,abc,1\n")
    assert main(["backtest", "--config", str(ROOT / "examples/strategies/correlation.yaml"), "--bars", str(bars),
                 "--ticks", str(ticks), "--account", str(ROOT / "examples/accounts/paper.yaml"),
                 "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "CsvFormatError" in err and "line 2, column price" in err and f"in {ticks}" in err


def test_a_file_that_is_not_text_is_a_format_error_not_a_traceback(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    bars = tmp_path / "bars.csv"
    bars.write_bytes(b"symbol,start\n\xff\xfe\x00\x01")
    assert main(["indicators", "--bars", str(bars), "--out", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "not UTF-8" in err and "Traceback" not in err


def test_a_missing_input_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bars", "--ticks", str(tmp_path / "nowhere.csv"), "--timeframe", "5m", "--out", str(tmp_path / "o")])
    assert exit_info.value.code == 2
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["bars", "--ticks", "{ticks}", "--timeframe", "7x", "--out", "{out}"],
    ["verify", "bars", "--from", "2026-11-23", "--to", "2026-11-24", "--timeframes", "1d"],
    ["strategy", "replay", "--config", "{config}", "--from", "yesterday", "--to", "0", "--out", "{out}"],
])
def test_bad_argument_values_are_usage_errors(argv: list[str], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ticks = tmp_path / "ticks.csv"
    ticks.write_text("ts,symbol,price,size\n")
    values = {"ticks": ticks, "out": tmp_path / "out", "config": ROOT / "examples/strategies/correlation.yaml"}
    with pytest.raises(SystemExit) as exit_info:
        main([a.format(**values) for a in argv])
    assert exit_info.value.code == 2
    assert "error: argument" in capsys.readouterr().err

"""Progress bars: drawn on a terminal only, never into logs, pipes or tests."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from tradestream.cli import main
from tradestream.commands.progress import NoProgress, ProgressBar, progress_bar

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_no_bar_when_the_stream_is_not_a_terminal() -> None:
    stream = io.StringIO()
    with progress_bar("work", 100, stream=stream) as progress:
        progress.update(50, "half")
    assert type(progress) is NoProgress and not progress.enabled
    assert stream.getvalue() == ""


def test_a_bar_is_drawn_on_a_terminal() -> None:
    stream = Terminal()
    with progress_bar("work", 100, stream=stream) as progress:
        progress.update(50, "half way")
    assert isinstance(progress, ProgressBar) and progress.enabled
    assert "work" in stream.getvalue()


def test_quiet_draws_no_bar_even_on_a_terminal() -> None:
    stream = Terminal()
    with progress_bar("work", 100, quiet=True, stream=stream) as progress:
        progress.update(50)
    assert not progress.enabled and stream.getvalue() == ""


def test_log_handlers_on_the_terminal_get_their_stream_back() -> None:
    stream = Terminal()
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with progress_bar("work", None, stream=stream):
            pass
        assert handler.stream is stream
    finally:
        root.removeHandler(handler)


def test_backtest_draws_no_bar_when_standard_error_is_not_a_terminal(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars = tmp_path / "bars.csv"
    lines = ["symbol,start,open,high,low,close,volume"]
    lines += [f"SPY,2026-11-23T{14 + m // 60}:{m % 60:02d}:00Z,600,601,599,600.5,100" for m in range(30, 90)]
    bars.write_text("\n".join(lines) + "\n")
    # no --quiet: standard error is pytest's capture, not a terminal
    assert main(["backtest", "--config", str(ROOT / "examples/strategies/correlation.yaml"), "--bars", str(bars),
                 "--account", str(ROOT / "examples/accounts/paper.yaml"), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert err == ""

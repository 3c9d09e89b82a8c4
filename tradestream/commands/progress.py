"""Progress bars of the long commands (`backtest`, `strategy replay`, `verify bars`), drawn by rich.

A bar is drawn only when standard error is a terminal and the user did not ask for quiet: logs,
pipes, CI and tests get no escape codes and no extra lines. Callers report progress every N items
(or per step of a slow query), never per item: an `update` takes a lock and samples the speed, and
rich redraws from its own thread ten times a second. While the bar is live, the log lines that
would have gone to the terminal are written above it (through rich's proxy of standard error)
instead of through it. Standard output is left alone: it may be a file or a pipe (`backtest` prints
its summary there), and rich's proxy would send its lines to the terminal.

    with progress_bar("backtest", total=len(events), quiet=args.quiet) as bar:
        for i, event in enumerate(events, 1):
            ...
            if i % 10_000 == 0:
                bar.update(i)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class NoProgress:
    """What a command reports to when no bar is drawn: every call does nothing."""

    enabled = False

    def update(self, completed: float, detail: str = "") -> None:
        pass


class ProgressBar(NoProgress):
    """One rich task: `update(completed, detail)` moves it to `completed` of its total and shows `detail`."""

    enabled = True

    def __init__(self, progress, task) -> None:  # noqa: ANN001 - rich.progress.Progress, TaskID
        self._progress, self._task = progress, task

    def update(self, completed: float, detail: str = "") -> None:
        self._progress.update(self._task, completed=completed, detail=detail)


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(description: str, total: float | None, *, quiet: bool = False,
                 stream: TextIO | None = None) -> Iterator[NoProgress]:
    """A bar on `stream` (default standard error) while the block runs, if it is a terminal and not
    `quiet`; otherwise a `NoProgress`. `total=None` draws a bar that pulses (the amount is unknown)."""
    stream = sys.stderr if stream is None else stream
    if quiet or not is_terminal(stream):
        yield NoProgress()
        return
    from rich.console import Console
    from rich.progress import (BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    progress = Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                        TextColumn("{task.fields[detail]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                        console=Console(file=stream), redirect_stdout=False)
    task = progress.add_task(description, total=total, detail="")
    with progress:
        # Handlers set up before the bar hold the real stream; rich's proxy (now sys.stderr when the
        # stream is standard error) prints their lines above the bar instead of across it.
        moved = [handler for handler in logging.getLogger().handlers
                 if type(handler) is logging.StreamHandler and handler.stream is stream and sys.stderr is not stream]
        for handler in moved:
            handler.setStream(sys.stderr)
        try:
            yield ProgressBar(progress, task)
            if total is not None:
                progress.update(task, completed=total)
        finally:
            for handler in moved:
                handler.setStream(stream)

"""`tradestream worker` keeps the log level it was given (Faust's spinner would set DEBUG)."""

from __future__ import annotations

import logging

import pytest

from tradestream.commands.worker import make_worker


@pytest.mark.parametrize("level", [logging.WARNING, logging.ERROR])
def test_the_worker_keeps_the_requested_log_level(level: int) -> None:
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    root.setLevel(level)
    try:
        worker = make_worker("log-level-test")
        worker._setup_logging()  # what execute_from_commandline does first
        assert root.level == level
        assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)


def test_quiet_gc_freezes_what_exists_and_widens_the_young_generation() -> None:
    import gc

    from tradestream.commands.worker import GC_THRESHOLDS, quiet_gc

    saved = gc.get_threshold()
    try:
        quiet_gc()
        assert gc.get_freeze_count() > 10_000  # the interpreter, pytest and the imported modules at least
        assert gc.get_threshold() == GC_THRESHOLDS
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)


def test_the_worker_logs_through_the_clis_handlers(capsys: pytest.CaptureFixture[str]) -> None:
    """Faust's worker replaces the root handlers with its own coloured text; the CLI's (JSON lines with
    LOG_FORMAT=json) must stay."""
    import io
    import json

    from tradestream.cli import JsonFormatter

    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    try:
        worker = make_worker("json-log-test")
        worker._setup_logging()
        logging.getLogger("streams.test").info("after the worker's logging set-up")
        assert root.handlers == [handler]
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert (line["logger"], line["message"]) == ("streams.test", "after the worker's logging set-up")

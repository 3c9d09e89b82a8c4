"""`tradestream worker`: run the Faust worker with every stage (several workers may run at once)."""

from __future__ import annotations

import argparse
import gc
import logging

from tradestream.config import Settings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run the Faust stream processors")
    parser.add_argument("--app-id", default=None, help="Faust app id / consumer group (default tradestream-worker)")
    parser.set_defaults(func=run)


def make_worker(app_id: str | None):  # noqa: ANN201 - faust.worker.Worker (imported late)
    from faust.worker import Worker

    from streams.app import WORKER_GROUP
    from streams.stages import build_worker

    settings = Settings.from_env()
    app = build_worker(settings.worker(), app_id or WORKER_GROUP)
    root = logging.getLogger()
    level = logging.getLevelName(root.level)
    # Faust's worker replaces the root logger's handlers with its own coloured text on standard output;
    # given an empty configuration and ours, it keeps the CLI's (text, or JSON lines with LOG_FORMAT=json).
    app.conf.loghandlers = list(root.handlers)
    worker = Worker(app, loglevel=level.lower(), quiet=True,
                    logging_config={"version": 1, "disable_existing_loggers": False,
                                    "root": {"level": level, "handlers": []}})
    # Faust's terminal spinner, kept at WARNING and above, sets the root logger to DEBUG for the life of
    # the process, so every debug call of Faust and aiokafka builds a log record (about 28,000 per
    # 150,000 ticks in the benchmark). The worker runs under supervisors and in logs: no spinner.
    worker.spinner = None
    return worker


# Young-generation collections every 50,000 allocations (CPython: 700), and a full one after 20 of
# the middle generation (10); see `quiet_gc`.
GC_THRESHOLDS = (50_000, 20, 20)


def quiet_gc() -> None:
    """Fewer and shorter garbage-collector pauses, which stop every stage of the worker at once.

    With CPython's defaults the benchmark's worker (50,000 ticks/s) ran a full collection about every
    1.5 s, each 55-125 ms, in bursts of several a second: the objects of a batch's short life (events,
    decoded records) outlived two young collections and piled up in the oldest generation. Freezing
    what exists at start-up (modules, Faust, the calendar: about 250,000 objects) keeps it out of every
    collection, and a larger young generation lets a batch's objects die young. Measured over 1,000,000
    ticks: full collections 13 -> 5, longest 125 -> 66 ms.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run(args: argparse.Namespace) -> int:
    worker = make_worker(args.app_id)
    quiet_gc()
    worker.execute_from_commandline()
    return 0

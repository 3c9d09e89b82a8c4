"""`tradestream worker`: run the Faust worker with every stage (several workers may run at once)."""

from __future__ import annotations

import argparse
import logging

from tradestream.config import Settings

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("worker", help="run the Faust stream processors")
    parser.add_argument("--app-id", default=None, help="Faust app id / consumer group (default tradestream-worker)")
    parser.set_defaults(func=run)


def make_worker(app_id: str | None):  # noqa: ANN201 - faust.worker.Worker (imported late)
    from faust.worker import Worker

    from streams.app import WORKER_GROUP, build_worker

    settings = Settings.from_env()
    app = build_worker(settings, app_id or WORKER_GROUP)
    worker = Worker(app, loglevel=logging.getLevelName(logging.getLogger().level).lower(), quiet=True)
    # Faust's terminal spinner, kept at WARNING and above, sets the root logger to DEBUG for the life of
    # the process, so every debug call of Faust and aiokafka builds a log record (about 28,000 per
    # 150,000 ticks in the benchmark). The worker runs under supervisors and in logs: no spinner.
    worker.spinner = None
    return worker


def run(args: argparse.Namespace) -> int:
    make_worker(args.app_id).execute_from_commandline()
    return 0

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


def run(args: argparse.Namespace) -> int:
    from faust.worker import Worker

    from streams.app import WORKER_GROUP, build_worker

    settings = Settings.from_env()
    app = build_worker(settings, args.app_id or WORKER_GROUP)
    worker = Worker(app, loglevel=logging.getLevelName(logging.getLogger().level).lower(), quiet=True)
    worker.execute_from_commandline()
    return 0

"""`tradestream stack up|down|status`: the local Kafka, schema registry, PostgreSQL and S3 server."""

from __future__ import annotations

import argparse
import json

from tradestream import stack
from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stack", help="start, stop or inspect the local services")
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--no-setup", action="store_true",
                        help="with up: do not create topics, apply migrations or create the archive bucket")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.action == "up":
        stack.up(settings)
        if not args.no_setup:
            from tradestream.setup import setup_all

            setup_all(settings)
        print("stack up: " + ", ".join(f"{name}=ready" for name in stack.status(settings)))
        return 0
    if args.action == "down":
        stack.down(settings)
        print("stack down")
        return 0
    report = stack.status(settings)
    print(json.dumps(report, indent=2, default=str))
    return 0 if all(entry.get("ready") for entry in report.values()) else 1

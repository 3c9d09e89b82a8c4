"""`tradestream setup`: topics, schemas, migrations, calendar tables and the archive bucket, against
services someone else runs (docker-compose, managed Kafka/PostgreSQL/S3); idempotent."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("setup", help="create topics, register schemas, migrate, create the bucket")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tradestream.config import Settings
    from tradestream.setup import setup_all

    setup_all(Settings.from_env())
    print("setup done")
    return 0

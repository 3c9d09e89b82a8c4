"""`tradestream topics create|list`: the topic catalogue on the broker."""

from __future__ import annotations

import argparse

from schemas.topics import CATALOGUE
from tradestream.config import Settings
from tradestream.topics import ensure_topics


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("topics", help="create the catalogue's topics or list them")
    parser.add_argument("action", choices=("create", "list"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.action == "create":
        created = ensure_topics(settings)
        print("created: " + (", ".join(created) if created else "nothing (all exist)"))
        return 0
    print(f"{'topic':28} {'schema':20} {'key':14} {'partitions':>10} {'retention':>12}")
    for spec in CATALOGUE:
        retention = "forever" if spec.retention_ms < 0 else f"{spec.retention_ms // 86_400_000} days"
        partitions = spec.partitions or settings.kafka_partitions
        print(f"{spec.full_name(settings.topic_prefix):28} {spec.schema:20} {spec.key:14} {partitions:>10} {retention:>12}")
    return 0

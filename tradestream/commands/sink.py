"""`tradestream sink`: write every event topic to PostgreSQL/TimescaleDB, idempotently."""

from __future__ import annotations

import argparse
import signal
import threading

from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("sink", help="store ticks, bars, indicators, status and dead letters")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--group", default="tradestream-sink", help="consumer group (default tradestream-sink)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from connectors.kafka.codec import AvroCodec
    from streams.sinks.postgres import PostgresSink

    settings = Settings.from_env()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sink = PostgresSink(settings.sink(), AvroCodec(settings.kafka().registry_config()), batch_size=args.batch_size,
                        group_id=args.group)
    sink.run(stop)
    return 0

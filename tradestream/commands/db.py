"""`tradestream db migrate|info|prune|switch-to-timescale`.

switch-to-timescale moves a database set up plain to the TimescaleDB variant once the extension is installed
(the variant is otherwise kept as chosen at the first migration; see tradestream/db.py)."""

from __future__ import annotations

import argparse
import json

from tradestream import db
from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("db", help="apply migrations or show which database path is active")
    parser.add_argument("action", choices=("migrate", "info", "prune", "switch-to-timescale"))
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.action == "migrate":
        applied = db.migrate(settings)
        print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    elif args.action == "switch-to-timescale":
        applied = db.switch_to_timescale(settings)
        print("switched to TimescaleDB: " + (", ".join(applied) if applied else "nothing to do (already TimescaleDB)"))
    elif args.action == "info":
        print(json.dumps(db.info(settings), indent=2))
    else:
        print(json.dumps(db.prune(settings), indent=2))
    return 0

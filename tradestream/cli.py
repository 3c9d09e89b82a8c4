"""The `tradestream` console command.

Each subcommand lives in its own module under `tradestream.commands` and exposes
`register(subparsers)`, which adds its parser and sets `func` to a callable taking the parsed
arguments and returning the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from schemas.errors import ConfigError, StackError, TradestreamError

COMMAND_MODULES = (
    "tradestream.commands.stack",
    "tradestream.commands.db",
    "tradestream.commands.topics",
    "tradestream.commands.bars",
    "tradestream.commands.indicators",
    "tradestream.commands.backtest",
    "tradestream.commands.strategy",
    "tradestream.commands.calendar",
    "tradestream.commands.feed",
    "tradestream.commands.worker",
    "tradestream.commands.api",
    "tradestream.commands.run",
    "tradestream.commands.registry",
    "tradestream.commands.sink",
    "tradestream.commands.verify",
    "tradestream.commands.setup",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradestream", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the command is not written yet on this branch
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    for chatty in ("httpx", "httpx2", "botocore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except (ConfigError, StackError) as exc:
        print(f"tradestream: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except TradestreamError as exc:
        print(f"tradestream: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

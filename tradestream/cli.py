"""The `tradestream` console command.

Each subcommand lives in its own module under `tradestream.commands` and exposes
`register(subparsers)`, which adds its parser and sets `func` to a callable taking the parsed
arguments and returning the process exit code.

Errors: a command raises; `main` reports. Anything of ours is a `TradestreamError` (`schemas.errors`)
and is printed as one message (class, text, and the notes a command added, such as the input file)
without a traceback. Bad input and settings exit with 2: `ConfigError`, `StackError`, and the domain
errors about what the user wrote (rules, strategy files, CSV rows, order intents), which are also
`ValueError`s. Any other `TradestreamError` (a failed run) exits with 1. Anything else is a bug and
keeps its traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import importlib.metadata
import json
import logging
import os
import sys
from typing import TextIO

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
    "tradestream.commands.deals",
    "tradestream.commands.account",
    "tradestream.commands.settings",
    "tradestream.commands.setup",
    "tradestream.commands.users",
    "tradestream.commands.archive",
    "tradestream.commands.audit",
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

DESCRIPTION = """\
tradestream: a Kafka-native algorithmic trading platform for U.S. markets. Market data flows as Avro
events through Kafka; stream processors turn ticks into bars, indicators and strategy decisions; a
sink stores them in PostgreSQL; an API serves a dashboard. The same code runs live, in backtests and
in audit replays.

command groups:
  local stack      setup, stack up|down|status, db, topics, registry
  services         run (everything below, as `make run` does), worker, sink, feed, api,
                   strategy run
  offline tools    bars, indicators, calendar (CSV in, CSV out; no services needed)
  strategies       strategy validate|replay, backtest
  checks           verify bars|aggregates
  compliance       archive once|run|keygen (the WORM archive of the topics), audit verify
  reports          deals (the deals report from the database)
  accounts         account validate|change|reset-kill-switch (changes applied by the runner trading it)
  settings         settings validate|show|change (the universal settings, versioned on the settings topic)
  users            users add|list|token|revoke|grant|role|password|disable (who may use the API and dashboard)
"""

EPILOG = """\
`tradestream COMMAND --help` describes a command. README.md (at the project root) walks through
the stack, the feeds, the strategies and their files; tradestream/config.py lists every setting.

settings come from environment variables (and an optional .env file); LOG_FORMAT=json writes one
JSON object per log line (time, level, logger, message, exception) for services in containers.
long commands (backtest, strategy replay, verify bars) draw a progress bar when standard error is
a terminal.

exit status: 0 done; 1 the run failed or found differences; 2 bad arguments, settings or input
files (the message names them); 130 interrupted.
"""


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time` (ISO-8601 UTC, milliseconds), `level`, `logger`, `message`,
    and `exception` (the traceback text) when the record carries one. json.dumps escapes newlines,
    so a multi-line message or traceback stays on its line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_format_from_env(environ: dict[str, str] | None = None) -> str:
    """LOG_FORMAT, read and checked exactly as `Settings.from_env()` reads it (the process environment
    over `.env`; a bad value raises ConfigError naming LOG_FORMAT), without building the other settings:
    an offline command (bars, calendar, backtest) must neither need them nor generate the local
    database password."""
    from tradestream.config import PROJECT_ROOT
    from tradestream.environment import load_dotenv_file, log_format

    env = {**load_dotenv_file(PROJECT_ROOT / ".env"), **os.environ} if environ is None else environ
    return log_format(env)


def configure_logging(level: str, log_format: str, stream: TextIO | None = None) -> None:
    """Root logging at `level`, as text or JSON lines on `stream` (default standard error). Like
    `logging.basicConfig`, it adds no handler when the root logger has one already (a test runner's)."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_LOG_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    for chatty in ("httpx", "httpx2", "botocore", "urllib3"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


def _version() -> str:
    try:
        return importlib.metadata.version("tradestream")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed; `pip install -e .` from the project root)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradestream", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS, metavar="LEVEL",
                        help=f"logging level: {', '.join(LOG_LEVELS)} (any case; default INFO)")
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


def _command(args: argparse.Namespace) -> str:
    words = [args.command] + [value for key, value in vars(args).items()
                              if key.endswith("_command") and isinstance(value, str)]
    return " ".join(["tradestream", *words])


def report(command: str, exc: TradestreamError) -> None:
    """The error as the user reads it: `<command>: <class>: <message>`, then each note on its line."""
    print(f"{command}: {type(exc).__name__}: {exc}", file=sys.stderr)
    for note in getattr(exc, "__notes__", ()):
        print(f"  {note}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = _command(args)
    try:
        configure_logging(args.log_level, log_format_from_env())
    except ConfigError as exc:
        report(command, exc)
        return 2
    try:
        return int(args.func(args) or 0)
    except TradestreamError as exc:
        report(command, exc)
        return 2 if isinstance(exc, (ConfigError, StackError, ValueError)) else 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

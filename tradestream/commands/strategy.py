"""`tradestream strategy validate|run|replay`: check a strategy file, run it live on the trades topic,
or replay a time range for an audit (every decision reproduced, nothing published, no order sent)."""

from __future__ import annotations

import argparse
import csv
import signal
import sys
import threading
from pathlib import Path

from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("strategy", help="validate, run or replay a strategy (scanner)")
    commands = parser.add_subparsers(dest="strategy_command", required=True, metavar="COMMAND")
    validate = commands.add_parser("validate", help="check a strategy file and print its normalised settings")
    validate.add_argument("--config", required=True)
    validate.set_defaults(func=run_validate)
    live = commands.add_parser("run", help="run on the trades topic, publishing signals and order intents")
    source = live.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", help="strategy file (YAML or JSON)")
    source.add_argument("--scanner", help="name of a scanner stored through the API (table scanners)")
    live.add_argument("--from", dest="start", help="rebuild state from this time (ISO-8601; default: the "
                                                   "oldest retained trade)")
    live.add_argument("--lateness-ms", type=int, default=0, help="allowed lateness of ticks for its bars")
    live.set_defaults(func=run_live)
    replay = commands.add_parser("replay", help="audit: reproduce the decisions of a time range, publish nothing")
    replay.add_argument("--config", required=True)
    replay.add_argument("--from", dest="start", required=True, help="ISO-8601 start (state is rebuilt from here)")
    replay.add_argument("--to", dest="end", required=True, help="ISO-8601 end (exclusive)")
    replay.add_argument("--lateness-ms", type=int, default=0)
    replay.add_argument("--out", required=True, help="directory for signals.csv, intents.csv, suppressed.csv")
    replay.add_argument("--compare", action="store_true",
                        help="compare with the signals stored in PostgreSQL for the range; exit 1 on a difference")
    replay.set_defaults(func=run_replay)


def _config(path: str):  # noqa: ANN202
    from tradestream.commands.backtest import load_config

    return load_config(path)


def stored_scanner(settings: Settings, name: str):  # noqa: ANN201 - ScannerConfig
    """A scanner saved through the API, validated again (the model may have become stricter)."""
    import psycopg

    from processors.scanner import ScannerConfig

    with psycopg.connect(settings.database_url, connect_timeout=5) as connection:
        row = connection.execute("select config from scanners where name = %s", (name,)).fetchone()
    if row is None:
        raise SystemExit(f"tradestream strategy run: no scanner named {name!r} (POST /api/scanners creates one)")
    return ScannerConfig.from_mapping(row[0])


def _time(text: str | None, name: str) -> int:
    from processors.csvio import CsvFormatError, parse_time

    if text is None:
        return 0
    try:
        return parse_time(text, 0, name)
    except CsvFormatError:
        raise SystemExit(f"tradestream strategy: {name} must be ISO-8601 with an offset or epoch nanoseconds, "
                         f"not {text!r}") from None


def run_validate(args: argparse.Namespace) -> int:
    import yaml

    from processors.rules import RuleError
    from processors.scanner import ScannerConfigError

    try:
        config = _config(args.config)
    except (OSError, ValueError, ScannerConfigError, RuleError) as exc:
        print(f"{args.config}: invalid\n{exc}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(config.to_mapping(), sort_keys=False), end="")
    return 0


def run_live(args: argparse.Namespace) -> int:
    from connectors.kafka.publisher import EventPublisher
    from connectors.kafka.codec import AvroCodec
    from streams.strategy_runner import StrategyRunner, resume_after_ns

    settings = Settings.from_env()
    config = stored_scanner(settings, args.scanner) if args.scanner else _config(args.config)
    codec = AvroCodec(settings.schema_registry_url)
    publisher = EventPublisher(settings, codec, client_id=f"tradestream-strategy-{config.name}")
    resume = resume_after_ns(settings, codec, config.name)
    runner = StrategyRunner(settings, codec, config, _time(args.start, "--from"), publisher=publisher,
                            lateness_ms=args.lateness_ms, resume_after=resume)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    report = runner.run(stop)
    print(f"strategy {config.name}: {report}")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from processors.csvio import format_time
    from connectors.kafka.codec import AvroCodec
    from streams.strategy_runner import StrategyRunner

    config = _config(args.config)
    settings = Settings.from_env()
    runner = StrategyRunner(settings, AvroCodec(settings.schema_registry_url), config, _time(args.start, "--from"),
                            end_ns=_time(args.end, "--to"), publisher=None, lateness_ms=args.lateness_ms)
    report = runner.run(threading.Event(), until_caught_up=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    decisions = runner.decisions
    with open(out / "signals.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "strategy", "symbol", "side", "price", "reason", "signal_id"])
        for s in decisions.signals:
            writer.writerow([format_time(s.ts_event), s.strategy, s.symbol, s.side, s.price, f"{s.action}: {s.reason}",
                             s.signal_id])
    with open(out / "intents.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "client_order_id", "contract", "side", "order_type", "limit_price", "stop_price",
                         "quantity"])
        for o in decisions.intents:
            writer.writerow([format_time(o.ts_event), o.client_order_id, o.contract, o.side, o.order_type,
                             o.limit_price or "", o.stop_price or "", o.quantity])
    with open(out / "suppressed.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ts", "symbol", "side", "suppression", "signal_id"])
        for s in decisions.suppressed:
            writer.writerow([format_time(s.ts_event), s.symbol, s.side, s.suppression, s.signal_id])
    print(f"replayed {report.trades} trades: {len(decisions.signals)} signals, {len(decisions.intents)} intents, "
          f"{len(decisions.suppressed)} suppressed; no order sent")
    if not args.compare:
        return 0
    differences = compare_with_database(settings, config.name, decisions.signals, _time(args.start, "--from"),
                                        _time(args.end, "--to"))
    for line in differences:
        print(line)
    print(f"compared with PostgreSQL: {len(differences)} difference(s)")
    return 1 if differences else 0


def compare_with_database(settings: Settings, strategy: str, signals, start_ns: int, end_ns: int) -> list[str]:  # noqa: ANN001
    import psycopg

    with psycopg.connect(settings.database_url) as connection:
        rows = connection.execute(
            "select signal_id, symbol, side, action, price from signals "
            "where strategy = %s and ts_event_ns >= %s and ts_event_ns < %s", (strategy, start_ns, end_ns)).fetchall()
    stored = {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}
    replayed = {s.signal_id: (s.symbol, s.side, s.action, s.price) for s in signals}
    differences = [f"missing in replay: {sid} {stored[sid]}" for sid in sorted(stored.keys() - replayed.keys())]
    differences += [f"not stored: {sid} {replayed[sid]}" for sid in sorted(replayed.keys() - stored.keys())]
    differences += [f"differs: {sid} stored {stored[sid]} replayed {replayed[sid]}"
                    for sid in sorted(stored.keys() & replayed.keys()) if stored[sid] != replayed[sid]]
    return differences

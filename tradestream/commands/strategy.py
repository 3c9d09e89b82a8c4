"""`tradestream strategy validate|run|replay`: check a strategy file, run it live on the trades topic,
or replay a time range for an audit (every decision reproduced, nothing published, no order sent).

The replay writes signals.csv, suppressed.csv and intents.csv with the backtest's writer
(`tradestream.commands.decisions`), so the files of a replay and of a backtest over the same trades
are identical; a progress bar over the range's event time when standard error is a terminal.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from tradestream.commands.inputs import load_account, load_strategy, readable_file
from tradestream.config import Settings

PROGRESS_EVERY = 4_096  # trades between two updates of the progress bar


def instant(text: str) -> int:
    """argparse type: an instant as ISO-8601 with an offset, or integer epoch nanoseconds."""
    from processors.csvio import CsvFormatError, parse_time

    try:
        return parse_time(text, 0, "")
    except CsvFormatError:
        raise argparse.ArgumentTypeError(f"{text!r} is not ISO-8601 with an offset (2026-11-23T14:30:00Z) "
                                         "nor epoch nanoseconds") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("strategy", help="validate, run or replay a strategy (scanner)")
    commands = parser.add_subparsers(dest="strategy_command", required=True, metavar="COMMAND")
    validate = commands.add_parser("validate", help="check a strategy file and print its normalised settings")
    validate.add_argument("--config", required=True, type=readable_file)
    validate.set_defaults(func=run_validate)
    live = commands.add_parser(
        "run", help="run strategies on the trades topic, publishing signals and order intents",
        description="Run one or more strategies. Instances of this command (on this or other machines) with "
                    "the same --group split the strategies between them and take over those of an instance "
                    "that stops or dies (see streams/strategy_host.py).")
    live.add_argument("--config", action="append", default=[], type=readable_file,
                      help="strategy file (YAML or JSON); repeat for several")
    live.add_argument("--scanner", action="append", default=[],
                      help="name of a scanner stored through the API (table scanners); repeat for several")
    live.add_argument("--account", action="append", default=[], type=readable_file,
                      help="account file (YAML or JSON, see examples/accounts/paper.yaml) of the strategies with a "
                           "risk: section; repeat for several. Those strategies trade on the paper broker")
    live.add_argument("--group", default="tradestream-strategy-runners",
                      help="consumer group the instances share the strategies through")
    live.add_argument("--from", dest="start", type=instant, default=0,
                      help="rebuild state from this time (ISO-8601; default: the oldest retained trade)")
    live.add_argument("--lateness-ms", type=int, default=0, help="allowed lateness of ticks for its bars")
    live.set_defaults(func=run_live)
    replay = commands.add_parser("replay", help="audit: reproduce the decisions of a time range, publish nothing")
    replay.add_argument("--config", required=True, type=readable_file)
    replay.add_argument("--from", dest="start", type=instant, required=True,
                        help="ISO-8601 start (state is rebuilt from here)")
    replay.add_argument("--to", dest="end", type=instant, required=True, help="ISO-8601 end (exclusive)")
    replay.add_argument("--lateness-ms", type=int, default=0)
    replay.add_argument("--account", type=readable_file,
                        help="the account file of a strategy with a risk: section: its risk decisions, orders, fills, "
                             "trades and deals are reproduced too (the backtest's files), on the paper broker; no "
                             "order is sent")
    replay.add_argument("--out", required=True, help="directory for signals.csv, intents.csv, suppressed.csv")
    replay.add_argument("--compare", action="store_true",
                        help="compare with the signals stored in PostgreSQL for the range; exit 1 on a difference")
    replay.add_argument("--quiet", action="store_true",
                        help="no progress bar (one is drawn only when standard error is a terminal)")
    replay.set_defaults(func=run_replay)


def stored_scanner(settings: Settings, name: str):  # noqa: ANN201 - ScannerConfig
    """A scanner saved through the API, validated again (the model may have become stricter)."""
    import psycopg

    from processors.scanner import ScannerConfig

    with psycopg.connect(settings.database_url, connect_timeout=5) as connection:
        row = connection.execute("select config, enabled from scanners where name = %s", (name,)).fetchone()
    if row is None:
        raise SystemExit(f"tradestream strategy run: no scanner named {name!r} (POST /api/scanners creates one)")
    if not row[1]:
        raise SystemExit(f"tradestream strategy run: the scanner {name!r} is disabled; enable it on the dashboard "
                         f"(PUT /api/scanners/{name}/enabled)")
    return ScannerConfig.from_mapping(row[0])


def run_validate(args: argparse.Namespace) -> int:
    import yaml

    config = load_strategy(args.config)
    print(yaml.safe_dump(config.to_mapping(), sort_keys=False), end="")
    return 0


def run_live(args: argparse.Namespace) -> int:
    from connectors.kafka.codec import AvroCodec
    from connectors.kafka.publisher import EventPublisher
    from streams.strategy_host import StrategyHost

    if not args.config and not args.scanner:
        raise SystemExit("tradestream strategy run: name at least one --config FILE or --scanner NAME")
    settings = Settings.from_env()
    configs = [load_strategy(path) for path in args.config]
    configs += [stored_scanner(settings, name) for name in args.scanner]
    kafka = settings.kafka()
    codec = AvroCodec(kafka.registry_config())
    publisher = EventPublisher(kafka, codec, client_id=f"tradestream-strategy-{args.group}")
    accounts = [load_account(path) for path in args.account]
    host = StrategyHost(kafka, codec, configs, args.start, publisher, lateness_ms=args.lateness_ms,
                        group_id=args.group, event_time=settings.event_time(), accounts=accounts,
                        live_brokers=_live_brokers(settings) if any(a.broker != "paper" for a in accounts) else None)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    host.start()
    try:
        while not stop.wait(1.0):
            if not host.alive():
                failed = ", ".join(f"{name}: {exc!r}" for name, exc in host.failed.items()) or repr(host.leases.failure)
                print(f"tradestream strategy run: stopped by an error ({failed})", file=sys.stderr)
                return 1
    finally:
        host.stop()
        publisher.flush()
    print(f"strategies {', '.join(sorted(c.name for c in configs))}: stopped")
    return 0


def _live_brokers(settings: Settings):  # noqa: ANN202 - Callable[[Account], LiveBroker]
    """The connection of an account trading through IBKR: its settings read now (an unreadable one stops
    start-up naming it), its order journal under the data folder (kept across restarts: ids never reused,
    executions reported once)."""
    import os

    from connectors.ibkr.order_journal import FileJournalStore
    from connectors.ibkr.order_settings import order_config_from_env
    from connectors.ibkr.orders import IbkrBroker
    from streams.live_broker import LiveBroker

    config = order_config_from_env(os.environ)

    def make(account):  # noqa: ANN001, ANN202 - Account -> LiveBroker
        if account.broker != "ibkr":
            raise SystemExit(f"tradestream strategy run: account {account.account_id!r}: broker "
                             f"{account.broker!r} has no connector")
        journal = FileJournalStore(settings.home / "ibkr" / f"{account.account_id}-orders.json")
        journal.path.parent.mkdir(parents=True, exist_ok=True)
        return LiveBroker(lambda sink: IbkrBroker(config, sink, journal), account.broker)
    return make


def run_replay(args: argparse.Namespace) -> int:
    from connectors.kafka.codec import AvroCodec
    from streams.strategy_runner import StrategyRunner
    from tradestream.commands.backtest_trading import write_trading_files
    from tradestream.commands.decisions import write_decisions
    from tradestream.commands.progress import progress_bar

    config = load_strategy(args.config)
    account = load_account(args.account) if args.account else None
    if account is not None and (config.risk is None or config.risk.account != account.account_id):
        raise SystemExit(f"tradestream strategy replay: strategy {config.name!r} does not trade in account "
                         f"{account.account_id!r} (its risk: section names "
                         f"{config.risk.account if config.risk else 'no account'!r})")
    settings = Settings.from_env()
    runner = StrategyRunner(settings.kafka(), AvroCodec(settings.kafka().registry_config()), config, args.start,
                            end_ns=args.end, publisher=None, lateness_ms=args.lateness_ms,
                            event_time=settings.event_time(),
                            **({"account": account} if account is not None else {}))
    with progress_bar(f"replay {config.name}", args.end - args.start, quiet=args.quiet) as progress:
        if progress.enabled:
            _report_event_time(runner, progress, args.start)
        report = runner.run(threading.Event(), until_caught_up=True)
        progress.update(args.end - args.start, f"{report.trades:,} trades")
    decisions = runner.decisions
    write_decisions(Path(args.out), decisions.signals, decisions.suppressed, decisions.intents)
    trading = runner.trading if account is not None else []
    if account is not None:
        write_trading_files(Path(args.out), trading, runner.session.desk)
    print(f"replayed {report.trades} trades: {len(decisions.signals)} signals, {len(decisions.intents)} intents, "
          f"{len(decisions.suppressed)} suppressed" + (f", {len(trading)} trading events" if account else "")
          + "; no order sent")
    if not args.compare:
        return 0
    differences = compare_with_database(settings, config.name, decisions.signals, args.start, args.end)
    for line in differences:
        print(line)
    print(f"compared with PostgreSQL: {len(differences)} difference(s)")
    return 1 if differences else 0


def _report_event_time(runner, progress, start_ns: int) -> None:  # noqa: ANN001 - StrategyRunner, ProgressBar
    """Every PROGRESS_EVERY trades, move the bar to the trade's event time within the range. The runner
    has no progress hook, so this wraps its pipeline's `on_trade`: measured 0.14 µs a trade, against
    15 µs for the pipeline's own work (correlation example, 65,000 simulated trades). Installed only
    when a bar is drawn."""
    from processors.csvio import format_time

    on_trade = runner.pipeline.on_trade
    trades = 0

    def counted(tick):  # noqa: ANN001, ANN202 - TradeTick -> Decisions
        nonlocal trades
        trades += 1
        if trades % PROGRESS_EVERY == 0:
            progress.update(tick.ts_event - start_ns, f"{trades:,} trades, at {format_time(tick.ts_event)}")
        return on_trade(tick)

    runner.pipeline.on_trade = counted


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

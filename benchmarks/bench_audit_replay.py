"""Audit replay speed: a full simulated regular session replayed from Kafka and from the compliance archive and
compared with its record.

Needs the stack (`make stack-up`). Run: .venv/bin/python benchmarks/bench_audit_replay.py [--symbols 10]
[--trades-per-minute 40] [--repeats 1]

The day (2026-11-23, 09:30-16:00 New York) is simulated for `--symbols` symbols unique to the run
(processors.simulation; about 218,000 prints at the defaults), the first two traded by the example
correlation strategy in the example paper account. Its record is written to topics of the run's own as a
live day leaves it: the prints, the bars the stage closes (the batch aggregator with the stage's settings),
their indicator snapshots, and the strategy's and desk's outputs (the in-process trading session). Then
`AuditReplay` re-runs the chain over the day and compares. The figures: its wall time, prints replayed per
second (each print is read twice: by the bars stage's replay and by the strategy runner), the time of the
bars and indicators stages' replay and of the strategy's and desk's, and the day's replay time against its
real duration (6.5 h). The replay must find no difference. Then the day's topics are archived to the stack's
S3 bucket (`Archiver.run_once`, under `benchmarks/replay-<token>/`, locked for one year) and the same day is
replayed from the archive (`--source archive`: every object read and checked against its manifest's SHA-256,
no Kafka client, the writer schemas from the objects): the same figures, which must match the Kafka replay's
counts, and the archive's time against Kafka's. `--repeats N` replays from each source N times, alternately,
and prints each run and the spread. The topics are deleted at the end; the archive's objects stay (locked).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
import uuid
from pathlib import Path

import yaml

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from connectors.s3archive.archiver import Archiver, ArchiverSettings
from connectors.s3archive.bucket import ensure_archive_bucket
from connectors.s3archive.reader import ArchiveReader
from connectors.s3archive.store import ArchiveStore
from processors.archive.retention import ArchiveRetention
from processors.audit.report import summary_lines
from processors.bars import TickArrays, aggregate_batch
from processors.calendar import build_nyse_calendar, parse_sessions
from processors.indicators import IndicatorSet
from processors.risk import Account
from processors.scanner import ScannerConfig, SignalLimiter, in_schedule
from processors.simulation import MarketSimulator, SimulationConfig
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from streams.audit_archive import ArchiveRecords
from streams.audit_replay import AuditOutcome, AuditReplay
from streams.strategy_resume import TRADING_TOPICS
from tradestream.commands.inputs import load_account
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics, topic_names

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 23)
BENCH_SIGNING_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="   # the benchmarks' own archive key


def figures(source: str, outcome: AuditOutcome, real_s: float) -> str:
    return (f"{source:<8} {outcome.replay_s:6.1f} s: {outcome.prints / outcome.replay_s:>8,.0f} prints/s "
            f"({(outcome.prints + outcome.trades_evaluated) / outcome.replay_s:,.0f} prints read/s), "
            f"bars and indicators {outcome.bars_s:.1f} s, strategy and desk {outcome.strategies_s:.1f} s; "
            f"{real_s / outcome.replay_s:,.0f}x faster than the day's {real_s / 3600:.1f} h")


def spread(times: list[float]) -> str:
    return (f"median {statistics.median(times):.1f} s, min {min(times):.1f}, max {max(times):.1f} over {len(times)}"
            if len(times) > 1 else f"{times[0]:.1f} s")


def record_day(publisher: EventPublisher, kafka, ticks: list, config: ScannerConfig, account: Account,  # noqa: ANN001
               calendar, stage) -> int:  # noqa: ANN001
    """The day's record on the topics; returns the number of outputs recorded."""
    feed = KafkaFeedSink(publisher)
    for tick in ticks:
        feed.on_trade(tick)
    closed = [b for tf in stage.timeframes for b in aggregate_batch(
        TickArrays.from_ticks(ticks), tf, parse_sessions(stage.sessions), calendar, stage.lateness_ns).bars]
    watermark = {}
    for tick in ticks:
        watermark[tick.symbol] = max(watermark.get(tick.symbol, 0), tick.ts_event)
    outputs = 0
    indicators: dict[tuple[str, str], IndicatorSet] = {}
    for bar in sorted(closed, key=lambda b: (b.symbol, b.timeframe, b.start)):
        if bar.end + stage.lateness_ns <= watermark[bar.symbol]:
            publisher.publish(kafka.topic("bars"), bar.symbol, bar)
            indicator = indicators.setdefault((bar.symbol, bar.timeframe), IndicatorSet(bar.symbol, bar.timeframe))
            publisher.publish(kafka.topic("indicators"), bar.symbol, indicator.handle_bar(bar))
            outputs += 2
    session = TradingSession({config.name: StrategyPipeline(config, calendar, SignalLimiter.from_config(config),
                                                            lambda ts: in_schedule(config, ts))},
                             TradingDesk(desk_config([config], account, calendar)))
    for tick in ticks:
        if tick.symbol not in config.symbols:
            continue
        step = session.on_trade(tick, tick.ts_event)
        for name, events in (("signals", step.decisions.signals), ("signals.suppressed", step.decisions.suppressed),
                             ("orders.intents", step.decisions.intents)):
            for event in events:
                publisher.publish(kafka.topic(name), event.strategy, event)
                outputs += 1
        for event in step.trading:
            publisher.publish(kafka.topic(TRADING_TOPICS[type(event).__name__]), event.account_id, event)
            outputs += 1
    assert publisher.flush() == 0 and publisher.failed == 0
    return outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--trades-per-minute", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=1, help="replays from each source, alternately")
    args = parser.parse_args()
    settings = Settings.from_env()
    token = uuid.uuid4().hex[:8]
    prefix = f"bench{token}."
    ensure_topics(settings, prefix=prefix)
    try:
        register_all(settings.schema_registry_url, prefix=prefix)
        kafka = settings.kafka(prefix)
        codec = AvroCodec(kafka.registry_config())
        symbols = tuple(f"S{i}{token[:4]}".upper() for i in range(args.symbols))
        data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
        data |= {"name": f"bench-{token}", "symbols": list(symbols[:2]), "primary": symbols[0],
                 "correlated": symbols[1],
                 "exit_rules": [f"price({symbols[0]}) < donchian_lower({symbols[0]}, 5m, 10)"],
                 "max_signals_per_day": 100, "max_signals_per_symbol": 100}
        config = ScannerConfig.from_mapping(data)
        account = load_account(str(ROOT / "examples/accounts/paper.yaml"))
        calendar = build_nyse_calendar(DAY - dt.timedelta(days=10), DAY + dt.timedelta(days=30))
        window = next(w for w in calendar.windows(parse_sessions("regular"))
                      if dt.datetime.fromtimestamp(w.start_ns / 1e9, dt.timezone.utc).date() == DAY)
        correlation = tuple(tuple(1.0 if i == j else (-0.5 if {i, j} == {0, 1} else 0.0) for j in range(args.symbols))
                            for i in range(args.symbols))
        simulation = SimulationConfig(symbols=symbols, seed=7, start_prices=tuple(100.0 + 50 * i for i in range(
            args.symbols)), annual_volatility=(0.6,) * args.symbols, correlation=correlation,
            trades_per_minute=args.trades_per_minute, bad_print_probability=0.0)
        ticks = list(MarketSimulator(simulation, [window]).ticks())
        publisher = EventPublisher(kafka, codec, client_id=f"bench-{token}")
        outputs = record_day(publisher, kafka, ticks, config, account, calendar, settings.bars_stage())
        def from_kafka() -> AuditOutcome:
            return AuditReplay(kafka, codec, window.start_ns, window.end_ns, [config], [account],
                               bars=settings.bars_stage(), event_time=settings.event_time()).run()

        ensure_archive_bucket(settings.archive())
        store = ArchiveStore(settings.archive())
        key_prefix = f"benchmarks/replay-{token}/"
        began = time.perf_counter()
        archived = Archiver(ArchiverSettings(
            kafka=kafka, archive=settings.archive(), key_prefix=key_prefix,
            signing_key=os.environ.get("ARCHIVE_SIGNING_KEY") or BENCH_SIGNING_KEY,
            retention=ArchiveRetention(trade_record_years=1, order_years=1, other_years=1)), store=store).run_once()
        archive_s = time.perf_counter() - began
        reader_objects = []

        def from_archive() -> AuditOutcome:
            source = ArchiveRecords(ArchiveReader(store, key_prefix))
            outcome = AuditReplay(kafka, AvroCodec(source.reader.schemas), window.start_ns, window.end_ns, [config],
                                  [account], bars=settings.bars_stage(), event_time=settings.event_time(),
                                  source=source).run()
            assert not outcome.source_stops, outcome.source_stops
            reader_objects.append(source.reader.objects_read)
            return outcome

        real_s = (window.end_ns - window.start_ns) / 1e9
        runs: dict[str, list[AuditOutcome]] = {"kafka": [], "archive": []}
        for _ in range(args.repeats):
            runs["kafka"].append(from_kafka())
            runs["archive"].append(from_archive())
        kafka_outcome, archive_outcome = runs["kafka"][0], runs["archive"][0]
        for line in summary_lines(kafka_outcome.stages):
            print(f"  {line}")
        for outcome in (*runs["kafka"], *runs["archive"]):
            assert outcome.differences == 0, "the replay of the recorded day differs from its record"
        assert summary_lines(archive_outcome.stages) == summary_lines(kafka_outcome.stages)
        assert (archive_outcome.prints, archive_outcome.trades_evaluated) == (kafka_outcome.prints,
                                                                             kafka_outcome.trades_evaluated)
        print(f"audit replay: a simulated day of {len(ticks):,} prints ({args.symbols} symbols, {outputs:,} outputs "
              f"recorded), replayed and compared from each source (each print is read twice: by the bars stage's "
              f"replay and by the strategy runner); archived first in {archive_s:.1f} s ({archived.records:,} records, "
              f"{archived.objects} objects)")
        for source, outcomes in runs.items():
            for outcome in outcomes:
                print(f"  {figures(source, outcome, real_s)}")
        kafka_s = [o.replay_s for o in runs["kafka"]]
        archive_times = [o.replay_s for o in runs["archive"]]
        print(f"  from Kafka {spread(kafka_s)}; from the archive {spread(archive_times)} ({reader_objects[0]} "
              f"objects read and hashed a run); archive/Kafka {statistics.median(archive_times) / statistics.median(kafka_s):.2f}x; "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        delete_topics(settings, sorted(t for t in topic_names(settings) if t.startswith(prefix)))


if __name__ == "__main__":
    main()

"""Audit replay speed: a full simulated regular session replayed from Kafka and compared with its record.

Needs the stack (`make stack-up`). Run: .venv/bin/python benchmarks/bench_audit_replay.py [--symbols 10]
[--trades-per-minute 40]

The day (2026-11-23, 09:30-16:00 New York) is simulated for `--symbols` symbols unique to the run
(processors.simulation; about 218,000 prints at the defaults), the first two traded by the example
correlation strategy in the example paper account. Its record is written to topics of the run's own as a
live day leaves it: the prints, the bars the stage closes (the batch aggregator with the stage's settings),
their indicator snapshots, and the strategy's and desk's outputs (the in-process trading session). Then
`AuditReplay` re-runs the chain over the day and compares. The figures: its wall time, prints replayed per
second (each print is read twice: by the bars stage's replay and by the strategy runner), the time of the
bars and indicators stages' replay and of the strategy's and desk's, and the day's replay time against its
real duration (6.5 h). The replay must find no difference. The topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import uuid
from pathlib import Path

import yaml

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
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
from streams.audit_replay import AuditReplay
from streams.strategy_resume import TRADING_TOPICS
from tradestream.commands.inputs import load_account
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics, topic_names

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 11, 23)


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
        replay = AuditReplay(kafka, codec, window.start_ns, window.end_ns, [config], [account],
                             bars=settings.bars_stage(), event_time=settings.event_time())
        outcome = replay.run()
        for line in summary_lines(outcome.stages):
            print(f"  {line}")
        assert outcome.differences == 0, "the replay of the recorded day differs from its record"
        real_s = (window.end_ns - window.start_ns) / 1e9
        print(f"audit replay: a simulated day of {len(ticks):,} prints ({args.symbols} symbols, {outputs:,} outputs "
              f"recorded) replayed and compared in {outcome.replay_s:.1f} s: {outcome.prints / outcome.replay_s:,.0f} "
              f"prints/s ({(outcome.prints + outcome.trades_evaluated) / outcome.replay_s:,.0f} prints read/s), "
              f"bars and indicators {outcome.bars_s:.1f} s ({outcome.prints / outcome.bars_s:,.0f} prints/s), "
              f"strategy and desk {outcome.strategies_s:.1f} s "
              f"({outcome.trades_evaluated / outcome.strategies_s:,.0f} prints/s); the day's {real_s / 3600:.1f} h "
              f"replayed {real_s / outcome.replay_s:,.0f}x faster than real time; "
              f"load average {os.getloadavg()[0]:.1f}")
    finally:
        delete_topics(settings, sorted(t for t in topic_names(settings) if t.startswith(prefix)))


if __name__ == "__main__":
    main()

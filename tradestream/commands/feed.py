"""`tradestream feed simulated [options]`: run a market-data feed publishing Avro ticks to Kafka."""

from __future__ import annotations

import argparse
import datetime as dt
import signal
import threading
import time

from tradestream.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("feed", help="run a market-data feed")
    feeds = parser.add_subparsers(dest="feed", required=True, metavar="FEED")
    simulated = feeds.add_parser("simulated", help="seeded simulated trading on recent NYSE session days")
    simulated.add_argument("--symbols", help="comma-separated symbols (default SIM_SYMBOLS)")
    simulated.add_argument("--speed", type=float, help="simulated seconds per wall second (default SIM_SPEED)")
    simulated.add_argument("--seed", type=int, help="generator seed (default SIM_SEED)")
    simulated.add_argument("--days", type=int, default=30, help="trading days to play (default 30)")
    simulated.add_argument("--sessions", choices=("regular", "extended"), default="regular")
    simulated.set_defaults(func=run_simulated)
    replay = feeds.add_parser("replay", help="replay a ticks CSV or Parquet file")
    replay.add_argument("--file", required=True, help="ticks file: ts,symbol,price,size[,trade_id,conditions]")
    replay.add_argument("--speed", default="1", help="1 = real time, N = N times faster, max = as fast as possible")
    replay.set_defaults(func=run_replay)
    polygon = feeds.add_parser("polygon", help="Polygon.io websocket trades (POLYGON_API_KEY from the environment)")
    polygon.add_argument("--symbols", help="comma-separated symbols (default SIM_SYMBOLS)")
    polygon.add_argument("--quotes", action="store_true", help="also publish top-of-book quotes")
    polygon.set_defaults(func=run_polygon)
    ibkr = feeds.add_parser("ibkr", help="Interactive Brokers TWS / IB Gateway (IBKR_HOST, IBKR_PORT, IBKR_CLIENT_ID)")
    ibkr.add_argument("--symbols", help="comma-separated symbols (default SIM_SYMBOLS)")
    ibkr.add_argument("--failover", choices=("polygon",),
                      help="pair with a secondary feed that takes over when IBKR is down or silent")
    ibkr.add_argument("--silence", type=float, default=5.0,
                      help="seconds without ticks in market hours before failing over (default 5)")
    ibkr.add_argument("--recovery", type=float, default=10.0,
                      help="seconds the primary must be healthy before handing back (default 10)")
    ibkr.set_defaults(func=run_ibkr)


def run_ibkr(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from connectors.base import feed_sink
    from connectors.kafka.publisher import EventPublisher
    from connectors.ibkr.feed import IbkrFeed, IbkrFeedConfig
    from connectors.kafka.codec import AvroCodec

    settings = Settings.from_env()
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",")) if args.symbols else settings.sim_symbols
    config = IbkrFeedConfig.from_env(os.environ, symbols)
    publisher = EventPublisher(settings.kafka(), AvroCodec(settings.kafka().registry_config()), client_id="tradestream-feed-ibkr")
    sink = feed_sink(publisher, settings.feed_batching())

    async def main() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if args.failover is None:
            return await IbkrFeed(config, sink).run(stop)
        return await _failover(args, symbols, config, sink).run(stop)

    published = asyncio.run(main())
    sink.flush()
    publisher.flush()
    print(f"published {published} ticks")
    return 0


def _failover(args: argparse.Namespace, symbols: tuple[str, ...], config, sink):  # noqa: ANN001, ANN202
    """IBKR primary, Polygon secondary; the market-hours test uses the NYSE calendar's extended sessions."""
    import os

    from connectors.failover import FailoverFeed
    from connectors.ibkr.feed import IbkrFeed
    from connectors.polygon.feed import PolygonFeed
    from processors.calendar import Session, build_nyse_calendar
    from processors.failover import FailoverController
    from schemas.errors import ConfigError

    if args.silence <= 0 or args.recovery < 0:
        raise ConfigError("--silence must be positive and --recovery not negative")
    today = dt.datetime.now(dt.timezone.utc).date()
    calendar = build_nyse_calendar(today - dt.timedelta(days=7), today + dt.timedelta(days=60))
    host = os.environ.get("POLYGON_WS_HOST") or None
    api_key = os.environ.get("POLYGON_API_KEY", "")
    return FailoverFeed(
        lambda leg: IbkrFeed(config, leg),
        lambda leg: PolygonFeed(api_key, symbols, leg, host=host, secure=host is None),
        sink, FailoverController(silence_ns=int(args.silence * 1e9), recovery_ns=int(args.recovery * 1e9)),
        market_open=lambda now: calendar.session_at(now) is not Session.CLOSED)


def run_polygon(args: argparse.Namespace) -> int:
    import asyncio
    import os

    from connectors.base import feed_sink
    from connectors.kafka.publisher import EventPublisher
    from connectors.polygon.feed import PolygonFeed
    from connectors.kafka.codec import AvroCodec

    settings = Settings.from_env()
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",")) if args.symbols else settings.sim_symbols
    publisher = EventPublisher(settings.kafka(), AvroCodec(settings.kafka().registry_config()), client_id="tradestream-feed-polygon")
    host = os.environ.get("POLYGON_WS_HOST") or None
    sink = feed_sink(publisher, settings.feed_batching())
    feed = PolygonFeed(os.environ.get("POLYGON_API_KEY", ""), symbols, sink, host=host,
                       secure=host is None, quotes=args.quotes)
    received = asyncio.run(feed.run())
    sink.flush()
    publisher.flush()
    print(f"received {received} messages")
    return 0


def run_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from connectors.base import feed_sink
    from connectors.kafka.publisher import EventPublisher
    from connectors.replay.feed import ReplayFeed, load_ticks
    from connectors.kafka.codec import AvroCodec

    if args.speed == "max":
        speed = None
    else:
        try:
            speed = float(args.speed)
        except ValueError:
            print(f"tradestream feed replay: --speed must be a number or max, not {args.speed!r}")
            return 2
    settings = Settings.from_env()
    ticks = load_ticks(Path(args.file))
    publisher = EventPublisher(settings.kafka(), AvroCodec(settings.kafka().registry_config()), client_id="tradestream-feed-replay")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sink = feed_sink(publisher, settings.feed_batching())
    published = ReplayFeed(ticks, sink, speed).run(stop)
    sink.flush()
    publisher.flush()
    print(f"published {published} ticks")
    return 0


RESUME_TAIL_RECORDS = 20_000  # records read back per partition to find the simulated feed's own last print


def run_simulated(args: argparse.Namespace) -> int:
    from connectors.kafka.publisher import EventPublisher
    from connectors.kafka.codec import AvroCodec
    from connectors.kafka.consumer import newest_event_time
    from connectors.simulated.feed import SimulatedFeed, SimulatedFeedConfig, recent_session_windows

    settings = Settings.from_env()
    symbols = tuple(s.strip().upper() for s in args.symbols.split(",")) if args.symbols else settings.sim_symbols
    config = SimulatedFeedConfig(symbols=symbols, seed=settings.sim_seed if args.seed is None else args.seed,
                                 speed=args.speed or settings.sim_speed, days=args.days, sessions=args.sessions)
    windows = recent_session_windows(dt.datetime.now(dt.timezone.utc).date(), config.days, config.sessions)
    codec = AvroCodec(settings.kafka().registry_config())
    publisher = EventPublisher(settings.kafka(), codec, client_id="tradestream-feed-simulated")
    # Resume after its own last tick on the topic: event time never goes back, no tick is sent twice. Only
    # the simulated feed's prints of its symbols count (a replay or a test publishing beside it must not
    # hide them), and none dated ahead of now (a forged future print must not silence the feed).
    now_ns = time.time_ns()
    resume = newest_event_time(publisher.kafka, codec, publisher.kafka.topic("ticks.trades"), RESUME_TAIL_RECORDS,
                               "tradestream-sim-resume", where=lambda value: value.get("feed") == SimulatedFeed.name
                               and value.get("symbol") in symbols and int(value["ts_event"]) <= now_ns)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    feed = SimulatedFeed(publisher, config, windows)
    published = feed.run(stop, resume)
    print(f"published {published} ticks")
    return 0

"""An operator's manual trade actions reach the runner trading the account through Kafka (the trades.actions
topic), at their event time: a stop moved by hand and a manual close give the same risk decisions, orders, fills
and trades as the in-process session given the same actions at the same instants; the trade's versions say
STOP_MOVED and CLOSED with the comment "manual", and so does its deals row once the sink stored it; an action for
a trade the desk does not hold is a refused decision, and a record that does not decode is dead-lettered."""

from __future__ import annotations

import datetime as dt
import os
import signal
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from pathlib import Path

import psycopg
import pytest

from connectors.base import KafkaFeedSink
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.calendar import build_nyse_calendar
from processors.model import RiskDecisionMade, TradeActionRequested, TradeUpdated, trade_action_id
from processors.scanner import SignalLimiter, in_schedule
from processors.strategies.pipeline import StrategyPipeline
from processors.trades import TradeStatus
from processors.trading.desk import TradingDesk
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config
from tradestream.config import Settings
from tradestream.db import migrate
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn
from .test_strategy import TRADING_TOPICS, without_ts_init
from .trading_runs import correlation_on_paper, of_topic, run_until_published, simulated_prints

pytestmark = pytest.mark.integration
CENT = Decimal("0.01")  # the stop on the cent grid


def test_a_moved_stop_and_a_manual_close_published_on_kafka_are_applied_at_their_instants(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"m{unique}."
    env = {**os.environ, "TOPIC_PREFIX": prefix, "TRADESTREAM_HOME": str(settings.home)}
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    migrate(settings)

    config, config_file, account, account_file = correlation_on_paper(unique, tmp_path, f"ma-{unique}",
                                                                      "price({primary}) < 1")
    calendar = build_nyse_calendar(dt.date(2026, 11, 16), dt.date(2026, 11, 25))
    ticks = simulated_prints(config, calendar, (dt.date(2026, 11, 23),))

    pipeline = StrategyPipeline(config, calendar, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts))
    run = TradingSession({config.name: pipeline}, TradingDesk(desk_config([config], account, calendar)))

    def request(trade_id: str, kind: str, at: int, **figures) -> TradeActionRequested:
        return TradeActionRequested(action_id=trade_action_id(trade_id, kind, at), account_id=account.account_id,
                                    trade_id=trade_id, action=kind, ts_event=at, ts_init=at, operator="ana",
                                    reason="by hand", **figures)

    # The in-process session decides what the runner must publish: a stop moved halfway to the price a few prints
    # after the first trade opened, and a manual close a few prints later (each 1 ns after a print).
    expected: list = []
    actions: list[TradeActionRequested] = []
    trade_id, moved_stop, acted_at = None, None, -1
    for index, tick in enumerate(ticks):
        expected += run.on_trade(tick, tick.ts_event).trading
        if trade_id is None:
            opened = [e for e in expected if isinstance(e, TradeUpdated) and e.change == "OPENED"]
            trade_id, acted_at = (opened[0].trade_id, index) if opened else (None, -1)
            continue
        view = run.desk.trade_manager.trade(trade_id)
        if view.status is not TradeStatus.RUNNING or index < acted_at + 3 or len(actions) == 3:
            continue
        at = tick.ts_event + 1
        assert index + 1 == len(ticks) or ticks[index + 1].ts_event > at
        if moved_stop is None:
            last = run.desk.book(account.account_id).last_price(view.symbol)
            halfway = (view.stop_price + last) / 2
            moved_stop = halfway.quantize(CENT, rounding=ROUND_DOWN if view.direction.value == "long" else ROUND_UP)
            new = [request(trade_id, "MOVE_STOP", at, price=moved_stop),
                   request(f"{unique}-nothing", "CLOSE", at)]
        else:
            new = [request(trade_id, "CLOSE", at)]
        for action in new:
            expected += run.on_trade_action(action, action.ts_event).trading
        actions += new
        acted_at = index
    assert len(actions) == 3, "the data must keep the first trade running long enough for both actions"
    updates = [e for e in expected if isinstance(e, TradeUpdated) and e.trade_id == trade_id]
    assert [(u.change, u.stop_price) for u in updates if u.change == "STOP_MOVED"] == [("STOP_MOVED", moved_stop)]
    assert (updates[-1].change, updates[-1].comment) == ("CLOSED", "manual")
    refused = [e for e in expected if isinstance(e, RiskDecisionMade) and e.intent_id == actions[1].action_id]
    assert refused[0].outcome == "REJECT" and "is not running on this desk" in refused[0].reasons[0]

    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), client_id=f"m-{unique}")
    for action in actions:
        publisher.publish(f"{prefix}trades.actions", action.account_id, action)
    publisher.producer.produce(f"{prefix}trades.actions", key=account.account_id.encode(), value=b"not avro")
    feed = KafkaFeedSink(publisher)
    for tick in ticks:
        feed.on_trade(tick)
    assert publisher.flush() == 0 and publisher.failed == 0

    published = run_until_published(settings, prefix, env, config_file, account_file, tmp_path / "runner.log",
                                    len(expected), "the record that does not decode dead-lettered")
    for topic in TRADING_TOPICS:
        assert sorted(map(without_ts_init, published[topic]), key=repr) == sorted(
            map(without_ts_init, of_topic(expected, topic)), key=repr), topic

    sink = spawn(["sink", "--group", f"sink-{unique}"], env, tmp_path / "sink.log")
    try:
        def stored() -> tuple | None:
            with psycopg.connect(settings.database_url) as conn:
                return conn.execute("select change, status, comment from trades where trade_id = %s and "
                                    "change = 'CLOSED'", (trade_id,)).fetchone()
        eventually(lambda: sink.poll() is not None or stored() is not None, timeout_s=90, what="the deals row stored")
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=60)
    assert stored() == ("CLOSED", "Closed", "manual")


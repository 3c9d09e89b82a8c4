"""A live (IBKR) account run by the strategy runner against the real Kafka and a fake TWS driven through the
real ib_insync client: once caught up with the prints the runner sends the desk's orders; the fake fills them
at the paper broker's prices; the trades published equal those of the in-process desk given the same fills.
Then a restart rebuilds from the prints and the recorded broker events: no order is sent again, nothing is
published twice, and a position opened by hand in TWS is reported; and an audit replay of the range reproduces every trading event with no broker at all."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from connectors.base import KafkaFeedSink
from connectors.ibkr.order_journal import FileJournalStore
from connectors.ibkr.orders import IbkrBroker, IbkrBrokerConfig
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.charges import NO_REGULATORY_FEES, FillCharges
from processors.model import FillExecuted, OrderStatusChanged, TradeUpdated
from streams.live_broker import LiveBroker
from streams.strategy_resume import resume_points
from streams.strategy_runner import StrategyRunner
from tests.connectors.fake_tws_orders import FakeTradingTws, FakeTwsInThread
from tests.processors.trading.test_live_desk import LIVE, PRINTS, fills_as_paper, session, strategy
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually
from .test_strategy import TRADING_RECORDS, TRADING_TOPICS, topic_events, without_ts_init

pytestmark = pytest.mark.integration

PHASES = (PRINTS[:2], PRINTS[2:5])   # the entry is decided at the 2nd print, the stop-loss exit at the 5th


def on_tws_thread(fake: FakeTwsInThread, call):  # noqa: ANN001, ANN201
    async def run():  # noqa: ANN202
        return call()
    return asyncio.run_coroutine_threadsafe(run(), fake.loop).result(10)


def test_a_live_account_trades_restarts_without_resending_and_replays_without_a_broker(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"l{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    kafka = settings.kafka(prefix)
    codec = AvroCodec(settings.schema_registry_url)
    publisher = EventPublisher(kafka, codec, client_id=f"l-{unique}")
    feed = KafkaFeedSink(publisher)
    config = strategy()
    start = PRINTS[0].ts_event - 60 * 10**9

    # The in-process desk given the fills at the same instants and prices: what the runner must publish.
    expected_session, expected = session(LIVE), []
    for phase in PHASES:
        for print_ in phase:
            expected += expected_session.on_trade(print_, print_.ts_event).trading
        last = phase[-1]
        for order in expected_session.desk.take_outbox():
            perm_id = 1 + sum(isinstance(e, FillExecuted) for e in expected)
            billed = FillCharges(Decimal("1.00"), NO_REGULATORY_FEES)   # the fake TWS's commission report
            expected += expected_session.on_broker_events(
                fills_as_paper(order, last.price, last.ts_event, perm_id, billed), last.ts_event).trading

    fake = FakeTwsInThread(FakeTradingTws(clock_s=1_700_000_000))
    with fake as tws:
        broker_config = IbkrBrokerConfig(port=tws.port, reconnect_initial_s=0.05, reconnect_max_s=0.2,
                                         connect_timeout_s=5)
        journal = FileJournalStore(tmp_path / "ibkr.json")

        def run_live(resume: dict) -> tuple[threading.Event, threading.Thread, StrategyRunner]:
            live = LiveBroker(lambda sink: IbkrBroker(broker_config, sink, journal,
                                                      wall_ns=lambda: tws.clock_s * 10**9), "ibkr")
            runner = StrategyRunner(kafka, codec, config, start, publisher=publisher, resume_after=resume,
                                    account=LIVE, live_broker=live)
            stop = threading.Event()
            thread = threading.Thread(target=runner.run, args=(stop,), daemon=True)
            thread.start()
            return stop, thread, runner

        def published(topic: str) -> list:
            return topic_events(settings, f"{prefix}{topic}", f"read-{unique}-{topic}-{len(tws.executions)}")

        stop, thread, runner = run_live({})
        try:
            for count, phase in enumerate(PHASES, start=1):   # each phase makes one order
                for print_ in phase:
                    feed.on_trade(print_)
                assert publisher.flush() == 0
                asyncio.run(fake.wait_for(lambda: len(tws.orders) >= count and tws.orders[-1].live, 30))
                order = tws.orders[-1]
                on_tws_thread(fake, lambda: tws.fill(order.perm_id, int(order.quantity), str(phase[-1].price)))
                fills = count
                eventually(lambda: len(published("fills")) >= fills, timeout_s=30, what="the fill published")
            eventually(lambda: any(t.status == "Closed" for t in published("trades")), timeout_s=30,
                       what="the trade closed")
        finally:
            stop.set()
            thread.join(30)
        assert len(tws.orders) == 2
        live_events = {topic: published(topic) for topic in TRADING_TOPICS}

        def comparable(event):  # noqa: ANN001, ANN202 - the broker's own ids differ from the emulation's
            if isinstance(event, FillExecuted):
                event = dataclasses.replace(event, exec_id="", broker_perm_id=None)
            elif isinstance(event, OrderStatusChanged):
                event = dataclasses.replace(event, broker_order_id=None, broker_perm_id=None, broker_status="")
            return without_ts_init(event)
        for topic in TRADING_TOPICS:
            wanted = [e for e in expected if TRADING_RECORDS[topic] == type(e).__name__]
            assert sorted(map(comparable, live_events[topic]), key=repr) == sorted(map(comparable, wanted),
                                                                                  key=repr), topic
        closed = [t for t in live_events["trades"] if isinstance(t, TradeUpdated) and t.status == "Closed"]
        assert [(t.comment, t.entry_price, t.exit_price) for t in closed] == [("stop-loss", PRINTS[1].price,
                                                                              PRINTS[4].price)]
        assert {f.broker for f in live_events["fills"]} == {"ibkr"}
        assert all(f.broker_perm_id in {o.perm_id for o in tws.orders} for f in live_events["fills"])

        # A restart rebuilds from the prints and the recorded broker events: nothing sent, nothing published again.
        # Meanwhile 50 ABC were bought by hand in TWS: the reconciliation's positions show it, and it is reported.
        tws.positions_by_hand["ABC"] = (50, Decimal("12.34"))
        resume = resume_points(kafka, codec, [config.name], LIVE.account_id)
        stop, thread, runner = run_live(resume)
        try:
            eventually(lambda: runner.live_account.caught_up, timeout_s=60, what="the restarted runner caught up")
            eventually(lambda: runner.live_account.position_differences, timeout_s=30, what="the positions compared")
            assert runner.live_account.position_differences == ["ABC: ibkr holds 50, the desk 0"]
        finally:
            stop.set()
            thread.join(30)
        assert len(tws.orders) == 2, "a restart sent an order again"
        assert runner.report.published == 0 and runner.report.skipped_already_published > 0
        assert {topic: published(topic) for topic in TRADING_TOPICS} == live_events

    # The audit replay: no broker, no publisher; the recorded broker events make the same trading events.
    replay = StrategyRunner(kafka, codec, config, start, end_ns=PRINTS[-1].ts_event + 1, account=LIVE)
    report = replay.run(threading.Event(), until_caught_up=True)
    assert report.orders_not_sent == 2
    for topic in TRADING_TOPICS:
        record = {"orders.events": OrderStatusChanged, "fills": FillExecuted}.get(topic)
        replayed = [e for e in replay.trading if type(e).__name__ == type(live_events[topic][0]).__name__] \
            if live_events[topic] else []
        assert sorted(map(without_ts_init, replayed), key=repr) == sorted(
            map(without_ts_init, live_events[topic]), key=repr), (topic, record)

"""The same strategy in Virtual and in Live: the live account's desk sends its orders through the real
ib_insync client (IbkrBroker on its own thread, `streams.live_broker.LiveBroker`) to a fake TWS speaking the
socket protocol; the fake fills each order at the print after it was placed, as the paper broker would, and
the trades, fills and deals rows equal the paper account's. Every wait is on a report with a deadline."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from decimal import Decimal
from pathlib import Path

from connectors.ibkr.order_journal import FileJournalStore
from connectors.ibkr.orders import IbkrBroker, IbkrBrokerConfig
from processors.model import FillExecuted, OrderStatusChanged, RiskDecisionMade
from streams.live_broker import LiveBroker
from tests.connectors.fake_tws_orders import PLACE, FakeTradingTws, FakeTwsInThread
from tests.processors.trading.test_live_desk import ACCOUNT, LIVE, PRINTS, session


def on_tws_thread(fake: FakeTwsInThread, call):  # noqa: ANN001, ANN201
    async def run():  # noqa: ANN202
        return call()
    return asyncio.run_coroutine_threadsafe(run(), fake.loop).result(10)


def test_the_same_strategy_trades_alike_in_virtual_and_in_live_against_the_fake_tws(tmp_path: Path) -> None:
    fake = FakeTwsInThread(FakeTradingTws())
    with fake as tws:
        config = IbkrBrokerConfig(port=tws.port, reconnect_initial_s=0.05, reconnect_max_s=0.2, connect_timeout_s=5)
        # The prints are of June 2026 and the fake's clock earlier: each report is given the desk at the print
        # it follows (LiveBroker: never before the last event time), as live, where both clocks are the same.
        live_broker = LiveBroker(lambda sink: IbkrBroker(config, sink, FileJournalStore(tmp_path / "ibkr.json"),
                                                         wall_ns=lambda: tws.clock_s * 1_000_000_000), "ibkr")
        live_broker.start()
        try:
            paper, live = session(ACCOUNT), session(LIVE)
            paper_events, live_events, sent = [], [], []
            for print_ in PRINTS:
                paper_events += paper.on_trade(print_, print_.ts_event).trading
                live_events += live.on_trade(print_, print_.ts_event).trading
                orders = live.desk.take_outbox()
                assert live_broker.send(orders, print_.ts_event) == []
                for order in orders:   # the exchange fills it whole at this print, as the paper broker would
                    sent.append(order.client_order_id)
                    ref = order.client_order_id
                    asyncio.run(fake.wait_for(lambda: any(o.live for o in tws.order_by_ref(ref))))
                    [placed] = tws.order_by_ref(ref)
                    on_tws_thread(fake, lambda: tws.fill(placed.perm_id, order.quantity, str(print_.price)))
                    filled, deadline = False, time.monotonic() + 10
                    while not filled:
                        assert time.monotonic() < deadline, f"no fill of {ref} reported within 10 s"
                        events = live_broker.wait_events(print_.ts_event, timeout_s=1)
                        live_events += live.on_broker_events(events, print_.ts_event).trading
                        filled = any(e.event.client_order_id == ref and e.broker_status == "Filled" for e in events)
        finally:
            live_broker.close()

    assert len(sent) == 2 and live_broker.sent == 2
    # The same trades; the charges are IBKR's own (the fake bills $1.00 an execution), not the desk's model.
    def trade(row):  # noqa: ANN001, ANN202
        return dataclasses.replace(row, charges=None, net_pnl=None, net_pnl_pct=None)
    assert [trade(r) for r in live.desk.deal_rows()] == [trade(r) for r in paper.desk.deal_rows()] != []
    [row] = live.desk.deal_rows()
    assert row.charges == sum(e.commission for e in tws.executions) == Decimal("2.00")
    assert row.net_pnl == row.pnl - row.charges
    live_fills = [e for e in live_events if isinstance(e, FillExecuted)]
    paper_fills = [e for e in paper_events if isinstance(e, FillExecuted)]
    assert [(f.commission, f.regulatory_fees) for f in live_fills] == [(e.commission, 0) for e in tws.executions]
    assert [dataclasses.replace(e, exec_id="", broker="paper", broker_perm_id=None, commission=0, regulatory_fees=0)
            for e in live_fills] == [dataclasses.replace(e, exec_id="", commission=0, regulatory_fees=0)
                                     for e in paper_fills]
    assert [f.broker_perm_id for f in live_fills] == [o.perm_id for ref in sent for o in tws.order_by_ref(ref)]
    assert all(f.exec_id.startswith("0000e0d5.") for f in live_fills)       # the fake TWS's execution ids
    assert [e for e in live_events if isinstance(e, RiskDecisionMade)] == [
        e for e in paper_events if isinstance(e, RiskDecisionMade)]
    accepted = [(e.client_order_id, e.broker, e.broker_status) for e in live_events
                if isinstance(e, OrderStatusChanged) and e.event == "ACCEPTED"]
    assert [ref for ref, *_ in accepted] == sent and {b for _, b, _ in accepted} == {"ibkr"}
    assert [o.quantity for ref in sent for o in tws.order_by_ref(ref)] == [Decimal(f.quantity) for f in live_fills]


def test_an_account_asking_for_it_gets_ibkrs_margin_impact_before_each_order(tmp_path: Path,
                                                                             caplog) -> None:  # noqa: ANN001
    fake = FakeTwsInThread(FakeTradingTws(what_if_initial_margin_change=Decimal("14000")))
    with fake as tws:
        config = IbkrBrokerConfig(port=tws.port, reconnect_initial_s=0.05, reconnect_max_s=0.2, connect_timeout_s=5)
        live_broker = LiveBroker(lambda sink: IbkrBroker(config, sink, FileJournalStore(tmp_path / "ibkr.json")),
                                 "ibkr")
        live_broker.start()
        try:
            live = session(dataclasses.replace(LIVE, what_if_margin=True))
            for print_ in PRINTS[:2]:
                live.on_trade(print_, print_.ts_event)
            [order] = live.desk.take_outbox()
            # Our Reg-T figure: 198 x 101.00 x 50 % = 9,999.00; IBKR says 14,000: a large difference, reported.
            with caplog.at_level("INFO", logger="streams.live_broker"):
                assert live_broker.send([order], PRINTS[1].ts_event, lambda o: Decimal("9999.00")) == []
                asyncio.run(fake.wait_for(lambda: any(o.live for o in tws.order_by_ref(order.client_order_id))))
                deadline = time.monotonic() + 10
                while not any("margin of" in r.getMessage() for r in caplog.records):
                    assert time.monotonic() < deadline, "no margin report within 10 s"
                    live_broker.wait_events(0, timeout_s=1)
        finally:
            live_broker.close()
    what_if = [i for i, m in enumerate(tws.placed(include_what_if=True)) if m[PLACE["what_if"]] == "1"]
    placed = [i for i, m in enumerate(tws.placed(include_what_if=True)) if m[PLACE["what_if"]] != "1"]
    assert len(what_if) == 1 and len(placed) == 1 and what_if[0] < placed[0]
    [report] = [r for r in caplog.records if "margin of" in r.getMessage()]
    assert report.levelname == "WARNING" and "14000" in report.getMessage() and "9999.00" in report.getMessage()

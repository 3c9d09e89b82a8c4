"""An account whose broker is live (ibkr): the desk decides as for a paper account, puts its orders in the
outbox instead of filling them on prints, and takes the broker's reports back. When the broker fills as the
paper broker would (each order at the first print after it was placed), the trades, fills and deals rows are
the paper account's, with the broker's identity kept on the events."""

from __future__ import annotations

import dataclasses

import pytest

from processors.model import FillExecuted, OrderStatusChanged, RiskDecisionMade
from processors.paper import OrderAccepted, OrderFilled, OrderStatus, OrderType, Side
from processors.scanner import SignalLimiter, in_schedule
from processors.strategies.pipeline import StrategyPipeline
from processors.trading.desk import TradingDesk
from processors.trading.errors import TradingDeskError
from processors.trading.orders import BrokerEvent, DeskOrder
from processors.trading.session import TradingSession
from processors.trading.setup import desk_config

from .conftest import CALENDAR, et
from .test_session import ACCOUNT, strategy, tick

LIVE = dataclasses.replace(ACCOUNT, broker="ibkr")
PRINTS = [tick("101.00", et(2026, 6, 10, 9, 31, 10)), tick("101.50", et(2026, 6, 10, 9, 32, 1)),
          tick("99.00", et(2026, 6, 10, 9, 40, 2)), tick("98.50", et(2026, 6, 10, 9, 40, 3)),
          tick("98.40", et(2026, 6, 10, 9, 40, 6)), tick("98.30", et(2026, 6, 10, 9, 40, 7))]


def session(account) -> TradingSession:  # noqa: ANN001
    config = strategy()
    pipeline = StrategyPipeline(config, CALENDAR, SignalLimiter.from_config(config), lambda ts: in_schedule(config, ts))
    return TradingSession({config.name: pipeline}, TradingDesk(desk_config([config], account, CALENDAR)))


def fills_as_paper(order: DeskOrder, price, ts: int, perm_id: int, charges=None) -> list[BrokerEvent]:  # noqa: ANN001
    """What a broker reports for a market order filled whole at `price`: accepted, then one execution (billed
    `charges`, or priced by the desk's model)."""
    accepted = OrderAccepted(client_order_id=order.client_order_id, ts_event=ts, symbol=order.symbol,
                             side=Side(order.side), order_type=OrderType(order.order_type), quantity=order.quantity,
                             limit_price=order.limit_price, stop_price=order.stop_price, status=OrderStatus.PLACED)
    filled = OrderFilled(client_order_id=order.client_order_id, exec_id=f"0001f4e8.{perm_id}.01.01", ts_event=ts,
                         symbol=order.symbol, side=Side(order.side), quantity=order.quantity, price=price,
                         filled_quantity=order.quantity, leaves_quantity=0, status=OrderStatus.SUCCESS)
    identity = {"broker": "ibkr", "broker_order_id": perm_id - 1000, "broker_perm_id": perm_id}
    return [BrokerEvent(event=accepted, broker_status="Submitted", **identity),
            BrokerEvent(event=filled, broker_status="Filled", charges=charges, **identity)]


def test_a_live_account_trades_as_the_paper_account_when_the_broker_fills_as_the_paper_broker() -> None:
    paper, live = session(ACCOUNT), session(LIVE)
    paper_events, live_events, sent = [], [], []
    for print_ in PRINTS:
        paper_events += paper.on_trade(print_, print_.ts_event).trading
        live_events += live.on_trade(print_, print_.ts_event).trading
        for order in live.desk.take_outbox():        # the broker fills each order at the print after it
            sent.append(order.client_order_id)
            live_events += live.on_broker_events(fills_as_paper(order, print_.price, print_.ts_event,
                                                                5000 + len(sent)), print_.ts_event).trading
    assert len(sent) == 2                            # the entry, then the stop-loss exit
    assert live.desk.deal_rows() == paper.desk.deal_rows()
    [row] = live.desk.deal_rows()
    assert (row.entry_price, row.exit_price, row.comment) == (paper.desk.deal_rows()[0].entry_price,
                                                              paper.desk.deal_rows()[0].exit_price, "stop-loss")

    def fills(events, **changes):  # noqa: ANN001, ANN003
        return [dataclasses.replace(e, **changes) for e in events if isinstance(e, FillExecuted)]
    assert fills(live_events, broker="paper", broker_perm_id=None, exec_id="") == fills(paper_events, exec_id="")
    assert [f.broker_perm_id for f in fills(live_events)] == [5001, 5002]
    decisions = [e for e in live_events if isinstance(e, RiskDecisionMade)]
    assert decisions == [e for e in paper_events if isinstance(e, RiskDecisionMade)]
    statuses = [(e.client_order_id, e.event, e.broker, e.broker_status, e.broker_perm_id)
                for e in live_events if isinstance(e, OrderStatusChanged)]
    assert statuses == [(sent[0], "ACCEPTED", "ibkr", "Submitted", 5001),
                        (sent[1], "ACCEPTED", "ibkr", "Submitted", 5002)]


def test_an_execution_reported_twice_is_applied_once_and_a_stranger_is_refused() -> None:
    live = session(LIVE)
    for print_ in PRINTS[:2]:
        live.on_trade(print_, print_.ts_event)
    [order] = live.desk.take_outbox()
    assert live.desk.take_outbox() == []
    events = fills_as_paper(order, PRINTS[1].price, PRINTS[1].ts_event, 7001)
    first = live.on_broker_events(events, 0).trading
    assert sum(isinstance(e, FillExecuted) for e in first) == 1
    again = live.on_broker_events(events[1:], 0).trading         # the reconnection replays the execution
    assert again == []
    stranger = dataclasses.replace(events[1], event=dataclasses.replace(events[1].event, client_order_id="manual-1"))
    with pytest.raises(TradingDeskError, match="manual-1"):
        live.on_broker_events([stranger], 0)


def test_a_snapshot_keeps_the_outbox_and_the_executions_applied() -> None:
    live = session(LIVE)
    for print_ in PRINTS[:2]:
        live.on_trade(print_, print_.ts_event)
    restored = TradingDesk.restore(live.desk.config, live.desk.snapshot())
    [order] = restored.take_outbox()
    assert order.broker == "ibkr" and order.route == "SMART"

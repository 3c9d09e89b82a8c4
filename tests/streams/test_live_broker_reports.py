"""LiveBroker's report handling, without a connection: an execution waits for IBKR's commission report (and
the reports after it wait with it), then goes to the desk billed as IBKR billed it; past the wait, the desk's
charges model prices it; a report is never given the desk before the last event time it took."""

from __future__ import annotations

from decimal import Decimal

from connectors.broker import CommissionReported, FillReported, OrderStatusReported
from processors.paper import OrderStatus
from processors.trading.orders import DeskOrder
from streams.live_broker import LiveBroker

NOW = [0.0]


def live() -> LiveBroker:
    broker = LiveBroker(lambda sink: None, "ibkr", commission_wait_s=5.0, monotonic=lambda: NOW[0])
    order = DeskOrder(client_order_id="o1", role="entry", account_id="a", strategy="s", trade_id="o1",
                      symbol="XYZ", side="BUY", order_type="MARKET", quantity=100, tick_size=Decimal("0.01"),
                      multiplier=1, placed_ns=10, broker="ibkr")
    command, refused = broker.bridge.command(order)
    assert command is not None and refused == []
    return broker


def fill(exec_id: str, quantity: int, cumulative: int, ts: int = 20) -> FillReported:
    return FillReported(exec_id=exec_id, client_order_id="o1", symbol="XYZ", side="BUY", quantity=quantity,
                        price=Decimal("10.00"), cumulative_quantity=cumulative, ts_event=ts, ts_init=ts,
                        broker="ibkr", broker_perm_id=77)


def status(state: OrderStatus, filled: int, raw: str) -> OrderStatusReported:
    return OrderStatusReported(client_order_id="o1", status=state, broker_status=raw, filled_quantity=filled,
                               quantity=100, ts_event=15, ts_init=15, broker="ibkr", broker_perm_id=77)


def commission(exec_id: str, amount: str) -> CommissionReported:
    return CommissionReported(exec_id=exec_id, client_order_id="o1", commission=Decimal(amount), currency="USD",
                              ts_init=30, broker="ibkr")


def test_an_execution_waits_for_its_commission_and_the_reports_after_it_wait_too() -> None:
    broker, NOW[0] = live(), 0.0
    events = broker._translate([status(OrderStatus.PLACED, 0, "Submitted"), fill("e1", 40, 40),
                                status(OrderStatus.CANCELLED, 40, "Cancelled")], 1_000)
    assert [type(e.event).__name__ for e in events] == ["OrderAccepted"]
    assert events[0].event.ts_event == 1_000          # never before the last event time the desk took
    NOW[0] = 1.0
    events = broker._translate([commission("e1", "1.00")], 1_000)
    assert [type(e.event).__name__ for e in events] == ["OrderFilled", "OrderCancelled"]
    assert events[0].charges.total == Decimal("1.00") and events[0].broker_perm_id == 77
    assert (events[0].event.filled_quantity, events[0].event.leaves_quantity) == (40, 60)


def test_past_the_wait_the_desks_model_prices_an_execution() -> None:
    broker, NOW[0] = live(), 0.0
    assert broker._translate([fill("e2", 100, 100)], 0) == []
    NOW[0] = 4.9
    assert broker._translate([], 0) == []
    NOW[0] = 5.0
    accepted, filled = broker._translate([], 0)
    assert type(accepted.event).__name__ == "OrderAccepted"
    assert filled.charges is None and filled.event.leaves_quantity == 0 and filled.broker_status == "Filled"
    assert broker._translate([commission("e2", "1.00")], 0) == []   # too late: the fill is not given twice


def test_an_execution_correction_is_never_a_second_fill_and_one_that_changes_it_is_reported() -> None:
    broker, NOW[0] = live(), 0.0
    first = broker._translate([fill("0001f4e8.0000000b.01.01", 40, 40), commission("0001f4e8.0000000b.01.01", "1.00")],
                              0)
    assert [type(e.event).__name__ for e in first] == ["OrderAccepted", "OrderFilled"]
    same = fill("0001f4e8.0000000b.01.02", 40, 40)                     # a correction that changes nothing
    assert broker._translate([same, commission(same.exec_id, "1.00")], 0) == []
    changed = FillReported(**{**{f: getattr(same, f) for f in same.__dataclass_fields__},
                              "exec_id": "0001f4e8.0000000b.01.03", "price": Decimal("10.05")})
    assert broker._translate([changed, commission(changed.exec_id, "1.00")], 0) == []
    assert broker.corrections == ["execution 0001f4e8.0000000b.01.01 of o1 corrected by 0001f4e8.0000000b.01.03: "
                                  "40 at 10.00 -> 40 at 10.05; not applied, check the trade against TWS"]

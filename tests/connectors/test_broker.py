"""The broker interface: the paper broker behind it, IBKR's status mapping, the pacing bucket, the journal."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connectors.broker import (Broker, BrokerErrorReported, FillReported, ModifyOrder, OrderStatusReported,
                               PaperBrokerAdapter, PlaceBracket, PlaceOrder, Route)
from connectors.ibkr.order_journal import FileJournalStore, empty_state
from connectors.ibkr.orders import IbkrBrokerConfig, ibkr_status
from connectors.ibkr.pacing import TokenBucket
from processors.paper import OrderStatus, PaperBroker
from schemas.errors import ConfigError

TICK = Decimal("0.01")


def order(ref: str, **values: object) -> PlaceOrder:
    fields = dict(client_order_id=ref, symbol="SPY", side="BUY", order_type="LIMIT", quantity=100, tick_size=TICK,
                  limit_price=Decimal("187.50"))
    return PlaceOrder(**{**fields, **values})


async def test_the_paper_broker_behind_the_interface_reports_statuses_and_fills() -> None:
    reports: list[object] = []
    broker: Broker = PaperBrokerAdapter(PaperBroker(), reports.append)
    broker.place_bracket(PlaceBracket(entry=order("e1"), stop_price=Decimal("185.00"),
                                      target_price=Decimal("190.00")), 1)
    broker.modify(ModifyOrder(client_order_id="e1-target", limit_price=Decimal("191.00")), 2)
    broker.on_trade("SPY", Decimal("187.40"), 100, 3)
    broker.on_trade("SPY", Decimal("191.00"), 100, 4)
    broker.cancel("e1", 5)
    statuses = [(r.client_order_id, r.status) for r in reports if isinstance(r, OrderStatusReported)]
    assert statuses[:3] == [("e1", OrderStatus.PLACED), ("e1-stop", OrderStatus.INITIATED),
                            ("e1-target", OrderStatus.INITIATED)]
    assert ("e1-target", OrderStatus.SUCCESS) in statuses and ("e1-stop", OrderStatus.CANCELLED) in statuses
    fills = [(f.client_order_id, f.quantity, f.price) for f in reports if isinstance(f, FillReported)]
    assert fills == [("e1", 100, Decimal("187.40")), ("e1-target", 100, Decimal("191.00"))]
    (refused,) = [r for r in reports if isinstance(r, BrokerErrorReported)]
    assert (refused.client_order_id, refused.operation, refused.code) == ("e1", "cancel", None)
    assert await broker.open_orders() == []
    assert [f.exec_id for f in await broker.executions_since(4)] == ["e1-target-1"]


def test_place_order_checks_types_and_routes() -> None:
    assert order("r", route="NASDAQ").route is Route.NASDAQ
    with pytest.raises(TypeError, match="order.limit_price"):
        order("r", limit_price=187.5)
    with pytest.raises(ValueError):
        order("r", route="ARCA")


@pytest.mark.parametrize(("raw", "filled", "waiting", "ours"), [
    ("PendingSubmit", 0, False, OrderStatus.INITIATED), ("ApiPending", 0, False, OrderStatus.INITIATED),
    ("PreSubmitted", 0, True, OrderStatus.INITIATED), ("PreSubmitted", 0, False, OrderStatus.PLACED),
    ("Submitted", 0, False, OrderStatus.PLACED), ("Submitted", 40, False, OrderStatus.PENDING),
    ("PendingCancel", 40, False, OrderStatus.PENDING), ("Filled", 100, False, OrderStatus.SUCCESS),
    ("Cancelled", 40, False, OrderStatus.CANCELLED), ("ApiCancelled", 0, False, OrderStatus.CANCELLED),
    ("Inactive", 0, False, OrderStatus.FAILED),
])
def test_ibkr_states_map_onto_ours(raw: str, filled: int, waiting: bool, ours: OrderStatus) -> None:
    assert ibkr_status(raw, filled, waiting) is ours


def test_the_token_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(40, 5, now=0.0)
    assert [bucket.take(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.wait_s(0.0) == pytest.approx(0.025)
    assert bucket.take(0.025) and not bucket.take(0.025)
    assert sum(bucket.take(t / 1000) for t in range(26, 1030)) == 40      # one second (and a bit) at the rate


@pytest.mark.parametrize(("settings", "message"), [
    ({"pacing_per_second": 48, "pacing_burst": 5}, "at most 50"),
    ({"when_disconnected": "queue"}, "IBKR_WHEN_DISCONNECTED must be one of hold, refuse"),
    ({"oca_type": 4}, "IBKR_OCA_TYPE"),
])
def test_configuration_errors_name_the_setting(settings: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        IbkrBrokerConfig(**settings)


def test_the_journal_survives_a_reload_and_replaces_atomically(tmp_path: Path) -> None:
    store = FileJournalStore(tmp_path / "journal.json")
    assert store.load() == empty_state()
    state = {**empty_state(), "highest_order_id": 41}
    store.save(state)
    assert FileJournalStore(tmp_path / "journal.json").load()["highest_order_id"] == 41
    assert [p.name for p in tmp_path.iterdir()] == ["journal.json"]

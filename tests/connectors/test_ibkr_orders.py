"""IbkrBroker with the real ib_insync client against a fake TWS speaking the order side of the socket protocol.

Every wait is on a condition with a deadline (the reports, or the fake's book), never a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from connectors.broker import (BrokerConnectionChanged, BrokerErrorReported, BrokerPosition, CommissionReported,
                               ExternalOrderReported, FillReported, MarginChecked, ModifyOrder,
                               OrderIdentityConflict, OrderStatusReported, PlaceBracket, PlaceOrder,
                               PositionsReported)
from connectors.ibkr.order_journal import FileJournalStore
from connectors.ibkr.orders import IbkrBroker, IbkrBrokerConfig
from processors.paper import OrderStatus
from tests.connectors.fake_tws_orders import PLACE, FakeTradingTws, FakeTwsInThread

TICK = Decimal("0.01")
NS = 1_000_000_000


class Reports(list):
    """The broker's report stream as a list a test can await."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def __call__(self, report: Any) -> None:
        self.append(report)
        self.changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def of(self, kind: type, ref: str | None = None) -> list[Any]:
        return [r for r in self if isinstance(r, kind) and (ref is None or getattr(r, "client_order_id", None) == ref)]

    def status(self, ref: str) -> OrderStatusReported | None:
        statuses = [r for r in self.of(OrderStatusReported, ref) if "second broker order" not in r.reason]
        return statuses[-1] if statuses else None

    def connections(self, state: str) -> int:
        return sum(1 for r in self.of(BrokerConnectionChanged) if r.state == state)


class Running:
    """A fake TWS and an IbkrBroker running against it (its journal in `tmp_path`), stopped at exit."""

    def __init__(self, tmp_path: Path, tws: FakeTradingTws | None = None, start_tws: bool = True,
                 **config: Any) -> None:
        self.tws = tws or FakeTradingTws()
        self.journal = FileJournalStore(tmp_path / "ibkr-orders.json")
        self.config = config
        self.start_tws = start_tws
        self.reports = Reports()

    async def __aenter__(self) -> Running:
        if self.start_tws:
            await self.tws.start()
        self.start_broker()
        await self.reports.until(lambda: self.reports.connections("reconciled") == 1)
        return self

    def start_broker(self) -> None:
        self.reports = Reports() if self.reports.of(BrokerConnectionChanged) else self.reports
        config = IbkrBrokerConfig(port=self.tws.port, reconnect_initial_s=0.05, reconnect_max_s=0.2,
                                  connect_timeout_s=5, **self.config)
        self.broker = IbkrBroker(config, self.reports, self.journal, wall_ns=lambda: 1_764_000_000 * NS)
        self.stop = asyncio.Event()
        self.task = asyncio.ensure_future(self.broker.run(self.stop))

    async def kill_broker(self) -> None:
        """Our process dies: the broker object is dropped with its connection; only the journal remains."""
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)
        if self.start_tws:
            await self.tws.stop()

    async def reconciled(self, times: int) -> None:
        await self.reports.until(lambda: self.reports.connections("reconciled") >= times)

    def perm(self, ref: str) -> int:
        (order,) = self.tws.order_by_ref(ref)
        return order.perm_id


def limit(ref: str, side: str = "BUY", quantity: int = 100, price: str = "187.50", symbol: str = "SPY") -> PlaceOrder:
    return PlaceOrder(client_order_id=ref, symbol=symbol, side=side, order_type="LIMIT", quantity=quantity,
                      tick_size=TICK, limit_price=Decimal(price))


def bracket(ref: str) -> PlaceBracket:
    return PlaceBracket(entry=limit(ref), stop_price=Decimal("185.00"), target_price=Decimal("190.00"))


async def test_bracket_lifecycle_partial_entry_fill_resizes_children_target_fills_stop_cancelled(tmp_path: Path) -> None:
    tws = FakeTradingTws(commission_per_share=Decimal("0.035"))
    async with Running(tmp_path, tws) as run:
        reports = run.reports
        run.broker.place_bracket(bracket("b1"), 1)
        await reports.until(lambda: all(reports.status(r) for r in ("b1", "b1-stop", "b1-target")))
        entry, stop, target = run.tws.placed()
        assert [m[PLACE["transmit"]] for m in (entry, stop, target)] == ["0", "0", "1"]
        assert stop[PLACE["parent_id"]] == target[PLACE["parent_id"]] == entry[PLACE["order_id"]]
        assert stop[PLACE["oca_group"]] == target[PLACE["oca_group"]] == "b1" and entry[PLACE["oca_group"]] == ""
        assert (stop[PLACE["order_type"]], stop[PLACE["aux"]], target[PLACE["limit"]]) == ("STP", "185.0", "190.0")
        assert [reports.status(r).status for r in ("b1", "b1-stop", "b1-target")] == [
            OrderStatus.PLACED, OrderStatus.INITIATED, OrderStatus.INITIATED]

        run.tws.fill(run.perm("b1"), 40, "187.50")        # partial fill of the entry: children cover 40
        await reports.until(lambda: all(reports.status(r).quantity == 40 for r in ("b1-stop", "b1-target")))
        assert reports.status("b1").status == OrderStatus.PENDING and reports.status("b1").filled_quantity == 40
        assert reports.status("b1-stop").status == OrderStatus.PLACED
        assert [m[PLACE["quantity"]] for m in run.tws.placed()[3:]] == ["40", "40"]
        run.tws.fill(run.perm("b1"), 60, "187.49")        # the rest: children cover 100
        await reports.until(lambda: all(reports.status(r).quantity == 100 for r in ("b1-stop", "b1-target")))
        assert reports.status("b1").status == OrderStatus.SUCCESS

        run.tws.fill(run.perm("b1-target"), 30, "190.00")  # OCA: the stop is reduced to 70
        await reports.until(lambda: reports.status("b1-stop").quantity == 70)
        assert reports.status("b1-stop").status == OrderStatus.PLACED
        run.tws.fill(run.perm("b1-target"), 70, "190.00")  # the target done: the stop cancelled
        await reports.until(lambda: reports.status("b1-stop").status == OrderStatus.CANCELLED)
        await reports.until(lambda: len(reports.of(CommissionReported)) == 4)
        assert reports.status("b1-target").status == OrderStatus.SUCCESS
        assert reports.status("b1-stop").broker_status == "Cancelled"

    fills = reports.of(FillReported)
    assert [(f.client_order_id, f.side, f.quantity, f.price) for f in fills] == [
        ("b1", "BUY", 40, Decimal("187.5")), ("b1", "BUY", 60, Decimal("187.49")),
        ("b1-target", "SELL", 30, Decimal("190.0")), ("b1-target", "SELL", 70, Decimal("190.0"))]
    assert len({f.exec_id for f in fills}) == 4 and all(f.broker_perm_id for f in fills)
    commissions = {c.exec_id: (c.client_order_id, c.commission) for c in reports.of(CommissionReported)}
    assert commissions == {fills[0].exec_id: ("b1", Decimal("1.4")), fills[1].exec_id: ("b1", Decimal("2.1")),
                           fills[2].exec_id: ("b1-target", Decimal("1.05")),
                           fills[3].exec_id: ("b1-target", Decimal("2.45"))}
    assert not [f for _, f in run.tws.requests if f[0] == "4"]   # the stop was cancelled by IB's OCA, not by us


async def test_a_fill_during_a_disconnection_is_reported_once(tmp_path: Path) -> None:
    async with Running(tmp_path) as run:
        reports = run.reports
        run.broker.place(limit("a1"), 1)
        await reports.until(lambda: reports.status("a1") is not None)
        run.tws.fill(run.perm("a1"), 30, "187.50")     # on the wire as the connection drops
        run.tws.drop_clients()
        await reports.until(lambda: reports.connections("disconnected") == 1)
        run.tws.fill(run.perm("a1"), 20, "187.45")     # while we are away
        await run.reconciled(2)
        await reports.until(lambda: len(reports.of(CommissionReported)) == 2)
        run.tws.drop_clients()                         # and once more: the replay changes nothing
        await run.reconciled(3)
        assert sorted(f.quantity for f in reports.of(FillReported)) == [20, 30]
        assert len({f.exec_id for f in reports.of(FillReported)}) == 2 and len(reports.of(CommissionReported)) == 2
        assert reports.status("a1").filled_quantity == 50 and reports.status("a1").status == OrderStatus.PENDING
        (open_order,) = await run.broker.open_orders()
        assert (open_order.client_order_id, open_order.filled_quantity, open_order.quantity) == ("a1", 50, 100)
        assert len(run.tws.placed()) == 1


async def test_a_bracket_childs_partial_fill_replayed_on_reconnect_counts_once_and_keeps_the_sibling(
        tmp_path: Path) -> None:
    async with Running(tmp_path) as run:
        reports = run.reports
        run.broker.place_bracket(bracket("b2"), 1)
        await reports.until(lambda: reports.status("b2-target") is not None)
        run.tws.fill(run.perm("b2"), 100, "187.50")
        await reports.until(lambda: reports.status("b2-stop").status == OrderStatus.PLACED)
        run.tws.fill(run.perm("b2-target"), 40, "190.00")
        run.tws.drop_clients()
        await run.reconciled(2)
        await reports.until(lambda: len(reports.of(CommissionReported)) == 2)
        sent = len(run.tws.requests)
        assert [f.quantity for f in reports.of(FillReported, "b2-target")] == [40]
        (stop,) = run.tws.order_by_ref("b2-stop")
        assert (stop.status, stop.quantity) == ("Submitted", 60)
        assert reports.status("b2-stop").status == OrderStatus.PLACED
        assert not [f for _, f in run.tws.requests if f[0] == "4"]
        assert len(run.tws.placed()) == 3              # no resize, no resend: the replay was recognised
        run.tws.fill(run.perm("b2-target"), 60, "190.00")
        await reports.until(lambda: reports.status("b2-stop").status == OrderStatus.CANCELLED)
        assert len(run.tws.requests) == sent


async def test_a_gateway_restart_rolling_next_valid_id_back_reuses_no_id(tmp_path: Path) -> None:
    async with Running(tmp_path, FakeTradingTws(next_valid_id=1)) as run:
        reports = run.reports
        run.broker.place(limit("r1"), 1)
        run.broker.place(limit("r2", price="187.40"), 2)
        await reports.until(lambda: reports.status("r2") is not None)
        await run.tws.restart(next_valid_id=1)         # the nightly reset forgot our ids
        await run.reconciled(2)
        run.broker.place(limit("r3", price="187.30"), 3)
        await reports.until(lambda: reports.status("r3") is not None)
        ids = [int(m[PLACE["order_id"]]) for m in run.tws.placed()]
        assert ids == [1, 2, 3]
        assert [o.order_ref for o in run.tws.orders] == ["r1", "r2", "r3"]
        assert run.tws.order_by_ref("r1")[0].limit_price == "187.5"      # r3 did not modify r1
        run.tws.fill(run.perm("r1"), 100, "187.50")
        run.tws.fill(run.perm("r3"), 10, "187.30")
        await reports.until(lambda: len(reports.of(FillReported)) == 2)
        assert [(f.client_order_id, f.broker_perm_id) for f in reports.of(FillReported)] == [
            ("r1", run.perm("r1")), ("r3", run.perm("r3"))]
        assert reports.status("r1").status == OrderStatus.SUCCESS and reports.status("r2").status == OrderStatus.PLACED
    assert run.journal.load()["highest_order_id"] == 3


async def test_killed_between_sending_and_the_acknowledgement_the_order_exists_once(tmp_path: Path) -> None:
    async with Running(tmp_path, FakeTradingTws(hold_acknowledgements=True)) as run:
        run.broker.place(limit("k1"), 1)
        await run.tws.wait_for(lambda: run.tws.order_by_ref("k1"))
        assert run.reports.status("k1") is None                  # never acknowledged to us
        await run.kill_broker()
        run.tws.hold_acknowledgements = False
        run.start_broker()                                      # a new process from the journal
        await run.reconciled(1)
        reports = run.reports
        assert reports.status("k1").status == OrderStatus.PLACED and reports.status("k1").broker_perm_id == run.perm("k1")
        run.broker.place(limit("k1"), 2)                        # the desk asks again after its own restart
        run.broker.place(limit("k2", price="187.40"), 3)
        await reports.until(lambda: reports.status("k2") is not None)
        (refused,) = reports.of(BrokerErrorReported, "k1")
        assert refused.code is None and "already sent" in refused.text and "not sent again" in refused.text
        assert len(run.tws.order_by_ref("k1")) == 1
        assert [m[PLACE["order_ref"]] for m in run.tws.placed()] == ["k1", "k2"]
        assert int(run.tws.placed()[1][PLACE["order_id"]]) > int(run.tws.placed()[0][PLACE["order_id"]])


async def test_orders_asked_for_while_disconnected_are_held_and_sent_after_reconciling(tmp_path: Path) -> None:
    async with Running(tmp_path) as run:
        reports = run.reports
        run.broker.place(limit("h0"), 1)
        await reports.until(lambda: reports.status("h0") is not None)
        port = run.tws.port
        await run.tws.stop()                                    # the gateway's restart window
        await reports.until(lambda: reports.connections("disconnected") == 1)
        run.broker.place(limit("h1", price="187.40"), 2)
        run.broker.modify(ModifyOrder(client_order_id="h0", limit_price=Decimal("187.20")), 3)
        assert not reports.of(BrokerErrorReported)
        requests = len(run.tws.requests)
        run.tws.port = port
        await run.tws.start()
        await run.reconciled(2)
        await reports.until(lambda: reports.status("h1") is not None)
        kinds = [f[0] for _, f in run.tws.requests[requests:] if f[0] in ("3", "7", "16")]
        assert kinds.index("16") < kinds.index("3") and max(i for i, k in enumerate(kinds) if k == "7") < kinds.index("3")
        await run.tws.wait_for(lambda: run.tws.order_by_ref("h0")[0].limit_price == "187.2")
        assert [m[PLACE["order_ref"]] for m in run.tws.placed()] == ["h0", "h1", "h0"]


async def test_orders_asked_for_while_disconnected_can_be_refused_with_the_reason(tmp_path: Path) -> None:
    async with Running(tmp_path, when_disconnected="refuse") as run:
        port = run.tws.port
        await run.tws.stop()
        await run.reports.until(lambda: run.reports.connections("disconnected") == 1)
        run.broker.place(limit("x1"), 1)
        (refused,) = run.reports.of(BrokerErrorReported, "x1")
        assert "not connected" in refused.text and "refuse" in refused.text and refused.operation == "place"
        run.tws.port = port
        await run.tws.start()
        await run.reconciled(2)
        assert run.tws.placed() == []


async def test_one_order_ref_with_two_perm_ids_is_reported_not_merged(tmp_path: Path) -> None:
    async with Running(tmp_path, FakeTradingTws(clock_s=1_764_000_000)) as run:
        reports = run.reports
        run.broker.place(limit("d1"), 1)
        await reports.until(lambda: reports.status("d1") is not None)
        first = run.perm("d1")
        other = run.tws.manual_order("SPY", "BUY", 100, "LMT", "187.50", order_ref="d1")   # the same ref elsewhere
        await reports.until(lambda: reports.of(OrderIdentityConflict))
        (conflict,) = reports.of(OrderIdentityConflict)
        assert conflict.client_order_id == "d1" and conflict.broker_perm_ids == (first, other.perm_id)
        run.tws.fill(other.perm_id, 100, "187.50")
        await reports.until(lambda: reports.of(FillReported))
        (fill,) = reports.of(FillReported)
        assert (fill.client_order_id, fill.broker_perm_id) == ("d1", other.perm_id)
        assert reports.status("d1").status == OrderStatus.PLACED and reports.status("d1").broker_perm_id == first
        (open_order,) = await run.broker.open_orders()
        assert (open_order.broker_perm_id, open_order.filled_quantity) == (first, 0)


async def test_a_manual_tws_order_is_reported_once(tmp_path: Path) -> None:
    async with Running(tmp_path) as run:
        manual = run.tws.manual_order("AAPL", "SELL", 10, "LMT", "230.00")
        await run.reports.until(lambda: run.reports.of(ExternalOrderReported))
        run.tws.drop_clients()
        await run.reconciled(2)                 # reqAllOpenOrders returns it again
        (external,) = run.reports.of(ExternalOrderReported)
        assert (external.broker_perm_id, external.symbol, external.side, external.quantity,
                external.broker_client_id, external.broker_status) == (manual.perm_id, "AAPL", "SELL", 10, 0,
                                                                       "Submitted")


async def test_a_cancel_after_a_fill_and_a_modify_of_a_filled_order_are_clear_reports(tmp_path: Path) -> None:
    async with Running(tmp_path) as run:
        reports = run.reports
        run.broker.place(limit("c1"), 1)
        run.broker.place(limit("c2", price="187.40"), 2)
        await reports.until(lambda: reports.status("c2") is not None)
        run.tws.fill(run.perm("c1"), 100, "187.50")
        run.broker.cancel("c1", 3)                    # sent before we heard of the fill
        run.tws.fill(run.perm("c2"), 100, "187.40")
        run.broker.modify(ModifyOrder(client_order_id="c2", quantity=200), 4)
        await reports.until(lambda: len(reports.of(BrokerErrorReported)) == 2)
        cancel_error, modify_error = reports.of(BrokerErrorReported)
        assert (cancel_error.client_order_id, cancel_error.code, cancel_error.operation) == ("c1", 10148, "cancel")
        assert "state: Filled" in cancel_error.text
        assert (modify_error.client_order_id, modify_error.code, modify_error.operation) == ("c2", 104, "modify")
        assert reports.status("c1").status == reports.status("c2").status == OrderStatus.SUCCESS
        sent = len(run.tws.requests)
        run.broker.modify(ModifyOrder(client_order_id="c1", limit_price=Decimal("187.00")), 5)   # known filled
        run.broker.cancel("c2", 6)
        local = reports.of(BrokerErrorReported)[2:]
        assert [(e.client_order_id, e.code, e.operation) for e in local] == [("c1", None, "modify"),
                                                                             ("c2", None, "cancel")]
        assert all("Success" in e.text and "100 filled" in e.text for e in local)
        assert len(run.tws.requests) == sent
        assert len(reports.of(FillReported)) == 2


async def test_prices_go_onto_the_tick_grid_and_an_ibkr_increment_rejection_is_a_clear_failure(tmp_path: Path) -> None:
    tws = FakeTradingTws(tick_sizes={"PENNYX": Decimal("0.05")})
    async with Running(tmp_path, tws) as run:
        reports = run.reports
        run.broker.place(limit("t1", price="187.509"), 1)                 # a buy limit goes down
        run.broker.place(limit("t2", side="SELL", price="187.501"), 2)    # a sell limit goes up
        run.broker.place(limit("t3", price="12.34", symbol="PENNYX"), 3)  # on our grid, not on IBKR's
        await reports.until(lambda: all(reports.status(r) for r in ("t1", "t2", "t3")))
        assert [m[PLACE["limit"]] for m in run.tws.placed()] == ["187.5", "187.51", "12.34"]
        failed = reports.status("t3")
        assert (failed.status, failed.broker_status) == (OrderStatus.FAILED, "Inactive")
        (error,) = reports.of(BrokerErrorReported, "t3")
        assert error.code == 110 and error.operation == "place"
        assert error.text.startswith("limit 12.34 is off IBKR's price grid for PENNYX (our tick 0.01)")
        assert [o.order_ref for o in run.tws.orders] == ["t1", "t2"]


async def test_the_margin_check_compares_what_if_with_our_reg_t_figure(tmp_path: Path) -> None:
    async with Running(tmp_path, FakeTradingTws(what_if_initial_margin_change=Decimal("9400.5"))) as run:
        close = await run.broker.check_margin(limit("m1"), Decimal("9375.00"))
        far = await run.broker.check_margin(limit("m2"), Decimal("4687.50"))
        assert (close.broker_initial_margin_change, close.difference, close.large_difference) == (
            Decimal("9400.5"), Decimal("25.5"), False)
        assert far.large_difference and far.difference == Decimal("4713.0")
        assert run.reports.of(MarginChecked) == [close, far]
        assert run.tws.orders == []                                    # whatIf places nothing


async def test_pacing_never_exceeds_50_messages_per_second_orders_and_market_data_together(tmp_path: Path) -> None:
    """Timed where TWS would see them: the fake runs on its own thread, so the burst written while our loop
    is busy placing 70 orders (each written to the journal first) is timed as it arrives."""
    fake = FakeTwsInThread(FakeTradingTws())
    with fake as tws:
        async with Running(tmp_path, tws, start_tws=False) as run:
            requests = len(tws.requests)
            for i in range(70):
                run.broker.place(limit(f"p{i}", price="100.00"), i)
                if i % 3 == 0:        # market data on the same connection is paced by the same bucket
                    run.broker.ib.reqMktData(run.broker.lib.Stock(f"S{i}", "SMART", "USD"), "233", False, False)
            await fake.wait_for(lambda: len(tws.requests) - requests == 70 + 24, timeout=15)
            received = [t for t, f in tws.requests[requests:]]
    assert len(tws.orders) == 70
    busiest = max(sum(1 for u in received if t <= u < t + 1.0) for t in received)
    assert 40 <= busiest <= 50
    assert received[-1] - received[0] >= 1.5


async def test_positions_are_reported_at_each_reconciliation_with_one_opened_by_hand(tmp_path: Path) -> None:
    tws = FakeTradingTws(positions_by_hand={"ABC": (50, Decimal("12.34"))})
    async with Running(tmp_path, tws) as run:
        [first] = run.reports.of(PositionsReported)
        assert first.positions == (BrokerPosition("ABC", 50, Decimal("12.34")),)
        run.broker.place(limit("p1", quantity=100, price="187.50"), 1)
        await run.reports.until(lambda: run.reports.status("p1") is not None)
        run.tws.fill(run.perm("p1"), 100, "187.50")
        await run.reports.until(lambda: run.reports.status("p1").status == OrderStatus.SUCCESS)
        await run.tws.restart()                            # the nightly restart: reconciled again, positions again
        await run.reconciled(2)
        second = run.reports.of(PositionsReported)[-1]
        assert second.positions == (BrokerPosition("ABC", 50, Decimal("12.34")),
                                    BrokerPosition("SPY", 100, Decimal("187.5")))

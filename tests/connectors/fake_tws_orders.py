"""The order side of a fake TWS / IB Gateway, speaking the TWS socket protocol to the real ib_insync client.

`FakeTradingTws` extends the market-data `FakeTws` with what an order client says and hears (server version
176 field layouts, as ib_insync's client.py writes them and decoder.py reads them):

    heard    placeOrder (3; new, modify, whatIf), cancelOrder (4), reqOpenOrders (5), reqAllOpenOrders (16),
             reqExecutions (7, with its time filter), reqCompletedOrders (99), startApi (71: the client id)
    said     nextValidId (9), openOrder (5), orderStatus (3), execDetails (11), commissionReport (59),
             openOrderEnd (53), execDetailsEnd (55), completedOrdersEnd (102), error (4)

Like IB: an order sent with transmit=0 is staged and goes live with the order that transmits its group (the
parent and every child of that parent); a bracket's children are PreSubmitted until the parent fills; orders of
one OCA group with ocaType 3 reduce each other on a fill and the rest is cancelled when one fills in full;
a price off the symbol's grid is refused with error 110; modifying a filled order answers 104 and cancelling
one 10148; an order id the client already used for an open order modifies that order (the collision that a
nextValidId rolled back by a gateway restart causes). Orders and executions survive `restart`.

The test is the market: `fill(perm_id, quantity, price)` executes (and reports to every connected client; a
fill while no client is connected is only recorded, as at IB), `manual_order(...)` enters an order by hand in
TWS (client id 0, order id 0). `hold_acknowledgements` keeps orders live but answers nothing (a client killed
between sending and hearing the acknowledgement). Every request is recorded with its receipt time.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from decimal import Decimal

from tests.connectors.fake_tws import ACCOUNT, FakeTws, frame

DONE = ("Filled", "Cancelled", "ApiCancelled", "Inactive")
CONTRACT_FIELDS = 12   # conId, symbol, secType, expiry, strike, right, multiplier, exchange, primaryExchange,
#                        currency, localSymbol, tradingClass (as client.send writes a Contract)
# placeOrder fields after the contract (non-combo, no delta-neutral, no scale, no hedge, no algo): index in
# the message of each field we read
PLACE = dict(order_id=1, symbol=3, exchange=9, action=16, quantity=17, order_type=18, limit=19, aux=20, tif=21,
             oca_group=22, order_ref=26, transmit=27, parent_id=28, oca_type=47, what_if=85)


@dataclass
class FakeOrder:
    perm_id: int
    order_id: int
    client_id: int
    symbol: str
    action: str
    quantity: Decimal
    order_type: str
    limit_price: str
    aux_price: str
    tif: str = "DAY"
    exchange: str = "SMART"
    oca_group: str = ""
    oca_type: int = 0
    order_ref: str = ""
    parent_id: int = 0
    status: str = "Submitted"
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    live: bool = False

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled

    @property
    def average_price(self) -> Decimal:
        return self.notional / self.filled if self.filled else Decimal(0)

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclass
class FakeExecution:
    exec_id: str
    order: FakeOrder
    quantity: Decimal
    price: Decimal
    cumulative: Decimal
    time_s: int
    commission: Decimal


@dataclass
class FakeTradingTws(FakeTws):
    next_valid_id: int = 1
    tick_sizes: dict[str, Decimal] = field(default_factory=dict)
    hold_acknowledgements: bool = False
    what_if_initial_margin_change: Decimal = Decimal("0")
    commission_per_share: Decimal = Decimal("0.005")
    minimum_commission: Decimal = Decimal("1.00")
    orders: list[FakeOrder] = field(default_factory=list)
    executions: list[FakeExecution] = field(default_factory=list)
    clock_s: int = 1_764_000_000
    positions_by_hand: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    """Positions opened outside the API (in TWS by hand): symbol -> (signed shares, average cost)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self._client_ids: dict[asyncio.StreamWriter, int] = {}
        self._next_perm_id = 900_000_001

    # -- the test's controls ------------------------------------------------------------------------------
    async def restart(self, next_valid_id: int | None = None) -> None:
        """The nightly gateway restart: every client dropped, the same port again, nextValidId maybe rolled back."""
        port = self.port
        await self.stop()
        if next_valid_id is not None:
            self.next_valid_id = next_valid_id
        self.port = port
        await self.start()

    def order_by_ref(self, order_ref: str) -> list[FakeOrder]:
        return [o for o in self.orders if o.order_ref == order_ref]

    def placed(self, include_what_if: bool = False) -> list[list[str]]:
        """Every placeOrder message received (new orders and modifications; whatIf ones only if asked)."""
        return [f for _, f in self.requests if f[0] == "3" and (include_what_if or f[PLACE["what_if"]] != "1")]

    def fill(self, perm_id: int, quantity: int, price: str) -> FakeExecution:
        order = next(o for o in self.orders if o.perm_id == perm_id)
        assert order.live and not order.done and quantity <= order.remaining, (order, quantity)
        self.clock_s += 1
        shares, fill_price = Decimal(quantity), Decimal(price)
        order.filled += shares
        order.notional += shares * fill_price
        order.status = "Filled" if order.remaining == 0 else "Submitted"
        commission = max(self.minimum_commission, self.commission_per_share * shares)
        execution = FakeExecution(f"0000e0d5.{len(self.executions) + 1:08x}.01.01", order, shares, fill_price,
                                  order.filled, self.clock_s, commission)
        self.executions.append(execution)
        self._broadcast(self._exec_details(-1, execution) + self._order_status(order)
                        + self._commission(execution), order)
        if order.parent_id == 0:
            for child in self._children(order):
                if child.status == "PreSubmitted":
                    child.status = "Submitted"
                    self._broadcast(self._order_status(child), child)
        self._settle_oca(order, shares)
        return execution

    def positions(self) -> dict[str, tuple[int, Decimal]]:
        """The account's positions: the API's executions netted by symbol, and those opened by hand."""
        held: dict[str, tuple[int, Decimal]] = dict(self.positions_by_hand)
        for execution in self.executions:
            shares, cost = held.get(execution.order.symbol, (0, Decimal(0)))
            signed = int(execution.quantity) * (1 if execution.order.action == "BUY" else -1)
            total = shares + signed
            cost = (cost * shares + execution.price * signed) / total if total and (shares >= 0) == (signed >= 0) \
                else (cost if total else Decimal(0))
            held[execution.order.symbol] = (total, cost)
        return {symbol: value for symbol, value in held.items() if value[0]}

    def manual_order(self, symbol: str, action: str, quantity: int, order_type: str = "LMT",
                     limit_price: str = "", order_ref: str = "") -> FakeOrder:
        """An order entered by hand in TWS (client id 0, order id 0), pushed to every client."""
        order = self._new_order(order_id=0, client_id=0, symbol=symbol, action=action, quantity=Decimal(quantity),
                                order_type=order_type, limit_price=limit_price, aux_price="", order_ref=order_ref)
        order.live = True
        self._broadcast(self._open_order(order) + self._order_status(order), order)
        return order

    def cancel_by_tws(self, perm_id: int) -> None:
        order = next(o for o in self.orders if o.perm_id == perm_id)
        order.status = "Cancelled"
        self._broadcast(self._order_status(order), order)

    # -- what the client says -----------------------------------------------------------------------------
    def _answer(self, fields: list[str], writer: asyncio.StreamWriter) -> None:
        message = int(fields[0])
        client_id = self._client_ids.get(writer, -1)
        if message == 71:                                   # startApi: version, client id, capabilities
            self._client_ids[writer] = int(fields[2])
            writer.write(frame(9, 1, self.next_valid_id) + frame(15, 1, ACCOUNT))
        elif message == 3:
            self._place(fields, writer, client_id)
        elif message == 4:                                  # cancelOrder: version, order id, manual time
            self._cancel(int(fields[2]), writer, client_id)
        elif message in (5, 16):                            # reqOpenOrders (this client's), reqAllOpenOrders
            for order in self.orders:
                if order.live and not order.done and (message == 16 or order.client_id == client_id):
                    writer.write(self._open_order(order) + self._order_status(order))
            writer.write(frame(53, 1))
        elif message == 99:                                 # reqCompletedOrders
            writer.write(frame(102))
        elif message == 7:                                  # reqExecutions: version, req id, filter
            req_id, filter_client, since = int(fields[2]), int(fields[3] or 0), fields[5]
            for execution in self.executions:
                if filter_client and execution.order.client_id != filter_client:
                    continue
                if since and _time_text(execution.time_s) < since.replace("-", " ")[:17]:
                    continue
                writer.write(self._exec_details(req_id, execution) + self._commission(execution))
            writer.write(frame(55, 1, req_id))
        elif message == 15:                                 # reqAutoOpenOrders
            pass
        elif message == 61:                                 # reqPositions: every position, then positionEnd
            for symbol, (shares, cost) in sorted(self.positions().items()):
                writer.write(frame(61, 3, ACCOUNT, 0, symbol, "STK", "", 0.0, "", "", "SMART", "USD", symbol, symbol,
                                   shares, _number(cost)))
            writer.write(frame(62, 1))
        else:
            super()._answer(fields, writer)

    def _place(self, fields: list[str], writer: asyncio.StreamWriter, client_id: int) -> None:
        get = {name: fields[index] for name, index in PLACE.items()}
        order_id = int(get["order_id"])
        if get["what_if"] == "1":
            order = FakeOrder(perm_id=0, order_id=order_id, client_id=client_id, symbol=get["symbol"],
                              action=get["action"], quantity=Decimal(get["quantity"]), order_type=get["order_type"],
                              limit_price=get["limit"], aux_price=get["aux"])
            writer.write(self._open_order(order, what_if=True))
            return
        tick = self.tick_sizes.get(get["symbol"], Decimal("0.01"))
        for price in (get["limit"], get["aux"]):
            if price and Decimal(price) % tick != 0:
                writer.write(frame(4, 2, order_id, 110, "The price does not conform to the minimum price variation "
                                                         "for this contract.", ""))
                return
        existing = next((o for o in self.orders if o.client_id == client_id and o.order_id == order_id
                         and o.order_id != 0), None)
        if existing is not None and not existing.done:       # a modification (or an id collision)
            existing.quantity, existing.limit_price, existing.aux_price = (
                Decimal(get["quantity"]), get["limit"], get["aux"])
            if not self.hold_acknowledgements:
                writer.write(self._open_order(existing) + self._order_status(existing))
            return
        if existing is not None and existing.status == "Filled":
            writer.write(frame(4, 2, order_id, 104, "Cannot modify a filled order.", ""))
            return
        order = self._new_order(order_id=order_id, client_id=client_id, symbol=get["symbol"], action=get["action"],
                                quantity=Decimal(get["quantity"]), order_type=get["order_type"],
                                limit_price=get["limit"], aux_price=get["aux"], tif=get["tif"],
                                exchange=get["exchange"], oca_group=get["oca_group"],
                                oca_type=int(get["oca_type"] or 0), order_ref=get["order_ref"],
                                parent_id=int(get["parent_id"] or 0))
        if get["transmit"] == "0":
            return                                            # staged until its group is transmitted
        group = [order]
        if order.parent_id:
            group = [o for o in self.orders if not o.live and o.client_id == client_id
                     and (o.order_id == order.parent_id or o.parent_id == order.parent_id)]
        for member in group:
            member.live = True
            member.status = "PreSubmitted" if member.parent_id else "Submitted"
            if not self.hold_acknowledgements:
                writer.write(self._open_order(member) + self._order_status(member))

    def _cancel(self, order_id: int, writer: asyncio.StreamWriter, client_id: int) -> None:
        order = next((o for o in reversed(self.orders) if o.client_id == client_id and o.order_id == order_id), None)
        if order is None:
            writer.write(frame(4, 2, order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found.", ""))
            return
        if order.done:
            writer.write(frame(4, 2, order_id, 10148, f"OrderId {order_id} that needs to be cancelled cannot be "
                                                      f"cancelled, state: {order.status}.", ""))
            return
        cancelled = [order]
        if order.parent_id == 0 and order.filled == 0:
            cancelled += [c for c in self._children(order) if not c.done]
        for each in cancelled:
            each.status = "Cancelled"
            writer.write(self._order_status(each) + frame(4, 2, each.order_id, 202, "Order Canceled - reason:", ""))

    # -- the book -----------------------------------------------------------------------------------------
    def _new_order(self, **values: object) -> FakeOrder:
        order = FakeOrder(perm_id=self._next_perm_id, **values)  # type: ignore[arg-type]
        self._next_perm_id += 1
        self.orders.append(order)
        return order

    def _children(self, parent: FakeOrder) -> list[FakeOrder]:
        return [o for o in self.orders if o.parent_id == parent.order_id and o.client_id == parent.client_id
                and o.parent_id != 0]

    def _settle_oca(self, filled: FakeOrder, shares: Decimal) -> None:
        if not filled.oca_group:
            return
        for other in self.orders:
            if other is filled or other.oca_group != filled.oca_group or other.done or not other.live:
                continue
            if filled.status == "Filled" or filled.oca_type == 1:
                other.status = "Cancelled"
            elif filled.oca_type in (2, 3):
                other.quantity -= shares
                if other.remaining <= 0:
                    other.status = "Cancelled"
            self._broadcast(self._open_order(other) + self._order_status(other), other)

    def _broadcast(self, data: bytes, order: FakeOrder) -> None:
        for writer in list(self._writers):
            client_id = self._client_ids.get(writer)
            if client_id == order.client_id or order.client_id == 0 or client_id == 0:
                writer.write(data)

    # -- messages -----------------------------------------------------------------------------------------
    @staticmethod
    def _order_status(order: FakeOrder) -> bytes:
        return frame(3, order.order_id, order.status, _number(order.filled), _number(order.remaining),
                     _number(order.average_price), order.perm_id, order.parent_id, "", order.client_id, "", "")

    def _exec_details(self, req_id: int, execution: FakeExecution) -> bytes:
        order = execution.order
        side = "BOT" if order.action == "BUY" else "SLD"
        return frame(11, req_id, order.order_id, 0, order.symbol, "STK", "", "0", "", "", "SMART", "USD",
                     order.symbol, order.symbol, execution.exec_id, _time_text(execution.time_s) + " UTC", ACCOUNT,
                     "ISLAND", side, _number(execution.quantity), _number(execution.price), order.perm_id,
                     order.client_id, 0, _number(execution.cumulative), _number(order.average_price),
                     order.order_ref, "", "", "", 1)

    @staticmethod
    def _commission(execution: FakeExecution) -> bytes:
        return frame(59, 1, execution.exec_id, _number(execution.commission), "USD", "", "", "")

    def _open_order(self, order: FakeOrder, what_if: bool = False) -> bytes:
        margin = str(self.what_if_initial_margin_change) if what_if else ""
        fields: list[object] = [
            5, order.order_id, 0, order.symbol, "STK", "", "0", "", "", order.exchange, "USD", order.symbol,
            order.symbol, order.action, _number(order.quantity), order.order_type, order.limit_price,
            order.aux_price, order.tif, order.oca_group, ACCOUNT, "O", 0, order.order_ref, order.client_id,
            order.perm_id, 0, 0, "", "", "", "", "", "", "", "", "", "", "", "", 0, "", 0, 0, "", "", "", "", "",
            0, 0, 0, 0, "", order.oca_type, 0, 0, "", order.parent_id, 0, "", 0, "", "",
            # continuousUpdate, referencePriceType, trailStopPrice, trailingPercent, basisPoints, basisPointsType,
            # comboLegsDescrip, combo legs, order combo legs, smart combo params
            0, 0, "", "", "", "", "", 0, 0, 0,
            "", "", "",           # scale init level size, subs level size, price increment
            "",                   # hedge type
            0, "", "", 0, 0,      # opt out smart routing, clearing account, intent, not held, no delta-neutral
            "",                   # algo strategy
            0, 1 if what_if else 0, "PreSubmitted" if what_if else order.status,
            "", "", "", margin, margin, "", "", "", "", "", "", "", "USD", "", 0, 0,
            0,                    # conditions
            "", "", "", "", "", "", "", 0, "", "", "", "", 0, 0, "", 0,
            "", "", "",           # duration, postToAts, autoCancelParent
            "", "", "", "", ""]   # minTradeQty, minCompeteSize, competeAgainstBestOffset, midOffsetAtWhole/AtHalf
        return frame(*fields)


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _time_text(time_s: int) -> str:
    import time
    return time.strftime("%Y%m%d %H:%M:%S", time.gmtime(time_s))


class FakeTwsInThread:
    """A fake TWS on its own event loop in its own thread, so that its receipt times are those of the wire even
    while the client's event loop is busy (on one loop, messages written during a busy stretch would all be
    read, and timed, together when it ends). Used as `with FakeTwsInThread(FakeTradingTws()) as tws:`."""

    def __init__(self, tws: FakeTradingTws) -> None:
        self.tws = tws
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fake-tws", daemon=True)

    def __enter__(self) -> FakeTradingTws:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.tws.start(), self.loop).result(10)
        return self.tws

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self.tws.wait_for(predicate, timeout), self.loop))

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.tws.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

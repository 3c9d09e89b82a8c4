"""`PaperBroker`: the simulated broker (SS-Mode Virtual) as a pure state machine fed by explicit event times.

    broker = PaperBroker(FillModel(slippage_ticks=1, partial_fills=True))
    broker.place(order, ts_event)                  -> [OrderAccepted] or [OrderRejected]
    broker.place_bracket(bracket, ts_event)        -> three of either
    broker.modify(order_id, ts_event, stop_price=Decimal("99.50"))
    broker.cancel(order_id, ts_event)
    broker.on_trade(symbol, price, size, ts_event) -> fills, triggers, bracket updates, in order
    broker.on_bar(bar)                             -> the same, in bars-only mode
    state = broker.snapshot(); PaperBroker.restore(state, fill_model)   # restore + continue = one run

Time: a print reaches the orders working since its `ts_event` or before; a bar reaches the orders working
since its `start` or before, and its fills carry its `end` (the instant the bar is known). So a market order
fills at the next print's price, or, given bars, at the next bar's open. Events are handled in the order
they are given; the caller merges commands and market data by event time.

Priority: the orders a print or bar reaches are handled in time priority, the order in which they started
working (a bracket child starts at its entry's first fill, the stop before the target). With partial fills
on, the printed size (a bar's volume) is shared in that order by all the orders reached, buys and sells
alike; a stop is triggered even when no size is left, and fills from the next print (a stop-limit then
rests at its limit, like a limit that arrived marketable and found no size).

Brackets (one OCA group): the stop and target wait for the entry's first fill, then each covers the open
position; their bookkeeping, and the bars-only rules for the bar in which the entry fills, are in
`processors.paper.brackets`. The fill rules of each order type are in `processors.paper.matching`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from decimal import Decimal
from typing import Any

from processors.model import Bar, TradeTick
from processors.paper.brackets import bracket_children, order_modified, rest_of_bar, settle
from processors.paper.config import FillModel
from processors.paper.errors import PaperBrokerError
from processors.paper.events import (Operation, OrderAccepted, OrderCancelled, OrderFilled, OrderRejected,
                                     OrderTriggered, PaperEvent)
from processors.paper.matching import PriceRange, fill_price, match
from processors.paper.orders import (TERMINAL, BracketOrder, BracketRole, OrderState, OrderStatus, PaperOrder,
                                     check_type)
from processors.paper.snapshot import decode_state, encode_state
from processors.paper.validation import (NEEDS_LIMIT, NEEDS_STOP, bracket_prices_problem, bracket_problem,
                                         order_problem, price_problem)


class PaperBroker:
    """The paper broker's orders and the fill model that fills them. Every method returns the events it caused."""

    def __init__(self, fill_model: FillModel | None = None) -> None:
        fill_model = FillModel() if fill_model is None else fill_model
        check_type(fill_model, FillModel, "fill_model")
        self.fill_model = fill_model
        self._orders: dict[str, OrderState] = {}
        self._next_sequence = 1
        self._open_ids: dict[str, list[str]] = {}  # per symbol, the orders not finished yet (pruned as they finish)

    # -- state ---------------------------------------------------------------------------------------
    def order(self, client_order_id: str) -> OrderState | None:
        return self._orders.get(client_order_id)

    def orders(self) -> tuple[OrderState, ...]:
        return tuple(self._orders.values())

    def has_working_orders(self) -> bool:
        """Whether an order may still fill: `any(order.is_working for order in self.orders())`, looking only at the
        orders not finished yet."""
        return any(self._orders[order_id].is_working for ids in self._open_ids.values() for order_id in ids)

    def snapshot(self) -> dict[str, Any]:
        """The whole state as a plain dict (see `processors.paper.snapshot`)."""
        return encode_state(self._next_sequence, list(self._orders.values()))

    @classmethod
    def restore(cls, snapshot: dict[str, Any], fill_model: FillModel | None = None) -> PaperBroker:
        """A broker in the state of `snapshot`; fed what followed, it answers as the broker that wrote it."""
        broker = cls(fill_model)
        broker._next_sequence, orders = decode_state(snapshot)
        broker._orders = {order.client_order_id: order for order in orders}
        for order in orders:
            if order.status not in TERMINAL:
                broker._open_ids.setdefault(order.symbol, []).append(order.client_order_id)
        return broker

    # -- commands ------------------------------------------------------------------------------------
    def place(self, order: PaperOrder, ts_event: int) -> list[PaperEvent]:
        check_type(order, PaperOrder, "order")
        _check_ts(ts_event)
        problem = order_problem(order) or self._taken(order.client_order_id)
        if problem:
            return [_rejected(order.client_order_id, ts_event, Operation.PLACE, problem, OrderStatus.FAILED)]
        state = self._store(_state_of(order, sequence=self._take_sequence(), active_since_ns=ts_event))
        return [_accepted(state, ts_event)]

    def place_bracket(self, bracket: BracketOrder, ts_event: int) -> list[PaperEvent]:
        check_type(bracket, BracketOrder, "bracket")
        _check_ts(ts_event)
        entry = bracket.entry
        ids = (entry.client_order_id, bracket.stop_order_id, bracket.target_order_id)
        problem = bracket_problem(bracket) or next((p for i in ids if (p := self._taken(i))), None)
        if problem:
            return [_rejected(i, ts_event, Operation.PLACE, problem, OrderStatus.FAILED) for i in ids]
        parent = self._store(_state_of(entry, sequence=self._take_sequence(), active_since_ns=ts_event,
                                       role=BracketRole.ENTRY, children=ids[1:]))
        stop, target = bracket_children(bracket)
        stop, target = self._store(stop), self._store(target)
        return [_accepted(parent, ts_event), _accepted(stop, ts_event), _accepted(target, ts_event)]

    def modify(self, client_order_id: str, ts_event: int, *, quantity: int | None = None,
               limit_price: Decimal | None = None, stop_price: Decimal | None = None) -> list[PaperEvent]:
        """Change a working order's quantity, limit price (a limit, a stop-limit, a bracket's target) or stop
        price (a stop before it triggers, a stop-limit, a bracket's stop). A new limit price makes the order
        arrive anew: if the next print is at or through it, it fills at that print's price."""
        check_type(client_order_id, str, "client_order_id")
        _check_ts(ts_event)
        check_type(quantity, int, "quantity", optional=True)
        check_type(limit_price, Decimal, "limit_price", optional=True)
        check_type(stop_price, Decimal, "stop_price", optional=True)
        state = self._orders.get(client_order_id)
        problem = self._modify_problem(client_order_id, state, quantity, limit_price, stop_price)
        if problem or state is None:
            return [_rejected(client_order_id, ts_event, Operation.MODIFY, problem or "",
                              state.status if state else None)]
        changes: dict[str, Any] = {}
        if quantity is not None:
            changes["quantity"] = quantity
        if limit_price is not None:
            changes.update(limit_price=limit_price, resting=False)
        if stop_price is not None:
            changes["stop_price"] = stop_price
        state = self._store(replace(state, **changes))
        return [order_modified(state, ts_event, "modified on request")]

    def cancel(self, client_order_id: str, ts_event: int) -> list[PaperEvent]:
        """Cancel what is left of an order (a bracket's entry: see processors.paper.brackets)."""
        check_type(client_order_id, str, "client_order_id")
        _check_ts(ts_event)
        state = self._orders.get(client_order_id)
        if state is None or not state.is_open:
            reason = (f"unknown order id {client_order_id!r}" if state is None
                      else f"the order is {state.status} and can no longer be cancelled")
            return [_rejected(client_order_id, ts_event, Operation.CANCEL, reason, state.status if state else None)]
        state = self._store(replace(state, status=OrderStatus.CANCELLED))
        events: list[PaperEvent] = [OrderCancelled(client_order_id=client_order_id, ts_event=ts_event,
                                                   filled_quantity=state.filled_quantity,
                                                   reason="cancelled on request")]
        if state.role is BracketRole.ENTRY:
            events += self._settle(client_order_id, ts_event, f"the entry {client_order_id} was cancelled")
        return events

    # -- market data ---------------------------------------------------------------------------------
    def on_trade(self, symbol: str, price: Decimal, size: int, ts_event: int) -> list[PaperEvent]:
        """A print of `size` shares of `symbol` at `price`, at `ts_event`."""
        check_type(symbol, str, "trade.symbol")
        check_type(price, Decimal, "trade.price")
        check_type(size, int, "trade.size")
        _check_ts(ts_event, "trade.ts_event")
        if not price.is_finite() or price <= 0:
            raise PaperBrokerError("trade.price", f"must be a positive price, got {price}")
        if size < 0:
            raise PaperBrokerError("trade.size", f"must not be negative, got {size}")
        return self._match(symbol, PriceRange.of_print(price), size, ts_event, ts_event, intrabar=False)

    def on_trade_tick(self, tick: TradeTick) -> list[PaperEvent]:
        check_type(tick, TradeTick, "tick")
        return self.on_trade(tick.symbol, tick.price, tick.size, tick.ts_event)

    def on_bar(self, bar: Bar) -> list[PaperEvent]:
        """A closed OHLCV bar (bars-only mode): it reaches the orders working since its start or before."""
        if not _sound(bar):
            _check_bar(bar)
        return self._match(bar.symbol, PriceRange(bar.open, bar.high, bar.low), bar.volume, bar.start, bar.end,
                           intrabar=True)

    # -- matching ------------------------------------------------------------------------------------
    def _match(self, symbol: str, prices: PriceRange, size: int, reach_ns: int, ts_event: int,
               intrabar: bool) -> list[PaperEvent]:
        events: list[PaperEvent] = []
        available = size if self.fill_model.partial_fills else None
        live = [order_id for order_id in self._open_ids.get(symbol, ())
                if self._orders[order_id].status not in TERMINAL]
        self._open_ids[symbol] = live
        if not live:
            return events
        reached = sorted((o for o in map(self._orders.__getitem__, live)
                          if o.is_working and o.active_since_ns is not None and o.active_since_ns <= reach_ns),
                         key=lambda o: o.sequence)
        queue = deque((o.client_order_id, prices) for o in reached)
        queued = {o.client_order_id for o in reached}
        while queue:
            order_id, order_prices = queue.popleft()
            order = self._orders[order_id]
            if not order.is_working or order.leaves_quantity <= 0:
                continue
            result = match(order, order_prices)
            if result.trigger_price is not None:
                order = self._store(replace(order, triggered=True))
                events.append(OrderTriggered(client_order_id=order_id, ts_event=ts_event, symbol=symbol,
                                             price=result.trigger_price, status=order.status))
            if order.limit_like and not order.resting:
                order = self._store(replace(order, resting=True))
            if result.price is None or available == 0:
                continue
            quantity = order.leaves_quantity if available is None else min(order.leaves_quantity, available)
            if available is not None:
                available -= quantity
            price = fill_price(order, result.price, self.fill_model.slippage_ticks)
            events += self._fill(order, quantity, price, ts_event)
            if intrabar and order.role is BracketRole.ENTRY:
                for child_id, child_prices in rest_of_bar(order, result.price, prices):
                    if child_id not in queued and self._orders[child_id].is_working:
                        queue.append((child_id, child_prices))
                        queued.add(child_id)
        return events

    def _fill(self, order: OrderState, quantity: int, price: Decimal, ts_event: int) -> list[PaperEvent]:
        filled = order.filled_quantity + quantity
        if order.role in (BracketRole.STOP, BracketRole.TARGET):
            status = OrderStatus.PENDING            # the bracket settles it below
        else:
            status = OrderStatus.SUCCESS if filled == order.quantity else OrderStatus.PENDING
        order = self._store(replace(order, filled_quantity=filled, fill_count=order.fill_count + 1,
                                    filled_notional=order.filled_notional + quantity * price, status=status))
        settled: list[PaperEvent] = []
        if order.role is BracketRole.ENTRY:
            settled = self._settle(order.client_order_id, ts_event, f"the entry filled {filled}")
        elif order.parent_id is not None:
            settled = self._settle(order.parent_id, ts_event, f"OCA: {order.client_order_id} filled {quantity}",
                                   skip=order.client_order_id)
            order = self._orders[order.client_order_id]
        fill = OrderFilled(client_order_id=order.client_order_id, exec_id=f"{order.client_order_id}-{order.fill_count}",
                           ts_event=ts_event, symbol=order.symbol, side=order.side, quantity=quantity, price=price,
                           filled_quantity=order.filled_quantity, leaves_quantity=order.leaves_quantity,
                           status=order.status)
        return [fill, *settled]

    def _settle(self, entry_id: str, ts_event: int, cause: str, skip: str | None = None) -> list[PaperEvent]:
        """Bring a bracket's children in line with its entry and each other (`brackets.settle`)."""
        changed, events = settle(self._orders, entry_id, ts_event, cause, skip, self._take_sequence)
        for state in changed:
            self._store(state)
        return events

    # -- helpers -------------------------------------------------------------------------------------
    def _modify_problem(self, client_order_id: str, state: OrderState | None, quantity: int | None,
                        limit_price: Decimal | None, stop_price: Decimal | None) -> str | None:
        if state is None:
            return f"unknown order id {client_order_id!r}"
        if quantity is None and limit_price is None and stop_price is None:
            return "nothing to modify: give a quantity, a limit_price or a stop_price"
        if not state.is_open:
            return f"the order is {state.status} and can no longer be modified"
        if quantity is not None:
            if state.role in (BracketRole.STOP, BracketRole.TARGET):
                return "a bracket child's quantity follows its entry's fills; modify the entry's quantity"
            if quantity <= 0:
                return f"quantity must be a positive number of shares, got {quantity}"
            if quantity <= state.filled_quantity:
                return (f"quantity {quantity} must be above the filled quantity {state.filled_quantity}; "
                        "cancel the rest instead")
        if limit_price is not None:
            if state.order_type not in NEEDS_LIMIT:
                return f"a {state.order_type} order has no limit_price"
            if problem := price_problem(limit_price, state.tick_size, "limit_price"):
                return problem
        if stop_price is not None:
            if state.order_type not in NEEDS_STOP:
                return f"a {state.order_type} order has no stop_price"
            if state.triggered:
                return "the stop has been triggered; its stop_price can no longer change"
            if problem := price_problem(stop_price, state.tick_size, "stop_price"):
                return problem
        if state.role is None:
            return None
        entry = state if state.role is BracketRole.ENTRY else self._orders[state.parent_id or ""]
        stop, target = (self._orders[child_id] for child_id in entry.children)

        def price(order: OrderState, name: str, new: Decimal | None) -> Decimal | None:
            if not order.is_open:
                return None
            return new if order is state and new is not None else getattr(order, name)

        entry_prices = (price(entry, "limit_price", limit_price), price(entry, "stop_price", stop_price))
        return bracket_prices_problem(entry.side, entry_prices, price(stop, "stop_price", stop_price),
                                      price(target, "limit_price", limit_price))

    def _taken(self, client_order_id: str) -> str | None:
        if client_order_id in self._orders:
            return f"client order id {client_order_id!r} is already in use"
        return None

    def _take_sequence(self) -> int:
        sequence = self._next_sequence
        self._next_sequence += 1
        return sequence

    def _store(self, state: OrderState) -> OrderState:
        if state.client_order_id not in self._orders:
            self._open_ids.setdefault(state.symbol, []).append(state.client_order_id)
        self._orders[state.client_order_id] = state
        return state


def _sound(bar: object) -> bool:
    """Whether `_check_bar` passes `bar`, in one expression for the usual bar (False: let it say what is wrong)."""
    if type(bar) is not Bar:
        return False
    open_, high, low, close = bar.open, bar.high, bar.low, bar.close
    return (type(open_) is Decimal and type(high) is Decimal and type(low) is Decimal and type(close) is Decimal
            and open_.is_finite() and high.is_finite() and low.is_finite() and close.is_finite()
            and 0 < low <= open_ <= high and low <= close <= high and type(bar.volume) is int and bar.volume >= 0
            and type(bar.start) is int and type(bar.end) is int and bar.start <= bar.end)


def _check_bar(bar: Bar) -> None:
    """A bar the broker can take: positive finite Decimal prices, the range holding the open and the close, a
    volume that is not negative, int times, the end not before the start; else the error naming the field."""
    check_type(bar, Bar, "bar")
    for name, value in (("open", bar.open), ("high", bar.high), ("low", bar.low), ("close", bar.close)):
        check_type(value, Decimal, f"bar.{name}")
        if not value.is_finite() or value <= 0:
            raise PaperBrokerError(f"bar.{name}", f"must be a positive price, got {value}")
    if not bar.low <= min(bar.open, bar.close) or not max(bar.open, bar.close) <= bar.high:
        raise PaperBrokerError("bar.high", f"the bar's range {bar.low}..{bar.high} must hold its open "
                                           f"{bar.open} and close {bar.close}")
    check_type(bar.volume, int, "bar.volume")
    if bar.volume < 0:
        raise PaperBrokerError("bar.volume", f"must not be negative, got {bar.volume}")
    _check_ts(bar.start, "bar.start")
    _check_ts(bar.end, "bar.end")
    if bar.end < bar.start:
        raise PaperBrokerError("bar.end", f"must not be before bar.start ({bar.end} < {bar.start})")


def _check_ts(ts_event: object, name: str = "ts_event") -> None:
    check_type(ts_event, int, name)


def _state_of(order: PaperOrder, **extra: Any) -> OrderState:
    return OrderState(client_order_id=order.client_order_id, symbol=order.symbol, side=order.side,
                      order_type=order.order_type, quantity=order.quantity, tick_size=order.tick_size,
                      limit_price=order.limit_price, stop_price=order.stop_price, status=OrderStatus.PLACED, **extra)


def _accepted(state: OrderState, ts_event: int) -> OrderAccepted:
    return OrderAccepted(client_order_id=state.client_order_id, ts_event=ts_event, symbol=state.symbol,
                         side=state.side, order_type=state.order_type, quantity=state.quantity,
                         limit_price=state.limit_price, stop_price=state.stop_price, status=state.status,
                         parent_order_id=state.parent_id, oca_group=state.parent_id)


def _rejected(client_order_id: str, ts_event: int, operation: Operation, reason: str,
              status: OrderStatus | None) -> OrderRejected:
    return OrderRejected(client_order_id=client_order_id, ts_event=ts_event, operation=operation, reason=reason,
                         status=status)

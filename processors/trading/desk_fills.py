"""The trading desk's fills and what they finish (`TradingDesk` mixes it in): a fill charged, booked and given to the
trade manager (an entry's first fill sets its trade's stop and target), a closed trade's working entry cancelled,
an add-on filling after its trade closed adopted as a trade of its own, an exit order done short of its request
released (module docstring of desk.py).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from processors.charges import charge_fill
from processors.paper import OrderFilled
from processors.pnl import Direction
from processors.trades import EntryFilled, ExitCancelled, ExitFilled, TradeStatus
from processors.trading.config import target_price
from processors.trading.orders import BROKER, ENTRY, EXIT, BrokerEvent, DeskOrder, fill_event

DeskEvent = Any


class FillsMixin:
    """`_filled`, `_adopt_if_closed`, `_cancel_add_on`, `_cancel` and `_release` of `TradingDesk`."""

    def _filled(self, order: DeskOrder, event: OrderFilled, ts_init: int,
                identity: BrokerEvent | None = None) -> list[DeskEvent]:
        opens = order.filled == 0                   # the first fill of an entry opens its trade
        if order.adds_on:
            opens = self._adopt_if_closed(order)    # an add-on opens no trade, unless its own (`_adopt_if_closed`)
        charges, order.commission = charge_fill(self.config.charges, order.commission, event.side.value,
                                                event.quantity, event.price, event.ts_event)
        if identity is not None and identity.charges is not None:   # the broker's own (live)
            charges = identity.charges
        out: list[DeskEvent] = [fill_event(order, event, charges, ts_init, identity)]
        order.filled += event.quantity
        self._track_working(order)
        self._books[order.account_id].on_fill(
            symbol=order.symbol, side=event.side.value, quantity=event.quantity, price=event.price,
            ts_event=event.ts_event, charges=charges.total, multiplier=order.multiplier,
            opens_trade=opens and order.role == ENTRY)
        if order.role == ENTRY:
            stop, target = order.trade_stop, order.trade_target
            if opens:
                _set_trade_prices(order, event.price, self.config.strategies[order.strategy].target)
                stop, target = order.trade_stop, order.trade_target
            elif order.adds_on:                     # the trade's own, as they stand (an operator may move them)
                view = self._manager.trade(order.trade_id)
                stop, target = view.initial_stop, view.target_price
            requests = self._manager.on_entry_fill(EntryFilled(
                trade_id=order.trade_id, account_id=order.account_id, strategy=order.strategy, symbol=order.symbol,
                direction=Direction.LONG if order.side == "BUY" else Direction.SHORT, quantity=event.quantity,
                price=event.price, stop_price=stop, target_price=target,
                ts_event=event.ts_event, charges=charges.total, intraday=order.intraday, lot_size=order.lot_size,
                signal_type=order.signal_type, multiplier=order.multiplier))
        else:
            requests = self._manager.on_exit_fill(ExitFilled(
                trade_id=order.trade_id, quantity=event.quantity, price=event.price, ts_event=event.ts_event,
                request_id=order.client_order_id, charges=charges.total))
            if order.trade_id in self._working and self._manager.trade(order.trade_id).status is TradeStatus.CLOSED:
                out += self._cancel(order.trade_id, event.ts_event, ts_init)    # a partly filled entry's rest
        return out + self._exits(requests, ts_init)

    def _adopt_if_closed(self, order: DeskOrder) -> bool:
        """An add-on filling after its trade closed becomes the entry of a trade of its own (id = its order id),
        rather than reopening the closed one: a position is never held without a trade that manages it. (The paper
        broker fills in time priority, so an exit placed after a working add-on fills after it: this is a live
        broker's fill, which the desk cannot cancel, reported after the trade's last exit.) Its stop
        is the closed trade's last stop (one tick beyond the fill if the fill is at or through it, as for any first
        fill), its target measured from its fill. True when this fill opens that trade."""
        view = self._manager.trade(order.trade_id)
        if view.status is not TradeStatus.CLOSED:
            return False
        if self._add_ons.get(order.trade_id) == order.client_order_id:
            del self._add_ons[order.trade_id]
        self._partly_filled.get(order.account_id, {}).pop(order.client_order_id, None)
        order.trade_id, order.decision_stop = order.client_order_id, view.stop_price
        return True

    def _cancel_add_on(self, trade_id: str, ts: int, ts_init: int) -> list[DeskEvent]:
        """The trade's add-on still working, cancelled (an operator closes or reduces the trade: the latest request
        says what it should hold)."""
        order_id = self._add_ons.get(trade_id)
        return [] if order_id is None else self._cancel(order_id, ts, ts_init)

    def _cancel(self, order_id: str, ts: int, ts_init: int) -> list[DeskEvent]:
        """What is left of a working entry order, cancelled at the paper broker (its trade closed, or an operator's
        request). A live broker's is not cancelled from here: a later fill of an add-on opens a trade of its own
        (`_adopt_if_closed`). The paper broker fills in time priority, so no fill of an entry placed before an
        exit comes after that exit's fill in the same print."""
        if self._orders[order_id].broker != BROKER:
            return []
        return self._paper(self._broker.cancel(order_id, ts), ts_init)

    def _release(self, order: DeskOrder, ts: int, ts_init: int) -> list[DeskEvent]:
        """An exit order done with less than the trade manager asked for: the rest may be asked for again."""
        if order.role != EXIT or order.released or order.filled >= order.requested:
            return []
        order.released = True
        cancelled = ExitCancelled(trade_id=order.trade_id, request_id=order.client_order_id, ts_event=ts,
                                  reason=f"the exit order filled {order.filled} of {order.requested}")
        return self._exits(self._manager.on_exit_cancelled(cancelled), ts_init)



def _set_trade_prices(order: DeskOrder, fill_price: Decimal, target: Any) -> None:
    """The trade's stop and target at its first fill (module docstring, choices)."""
    stop = order.decision_stop or fill_price     # an accepted entry always has its decided stop
    tick = order.tick_size
    if order.side == "BUY":
        order.trade_stop = stop if stop < fill_price else fill_price - tick
    else:
        order.trade_stop = stop if stop > fill_price else fill_price + tick
    order.trade_target = target_price(target, order.side, fill_price, tick)

"""The trading desk's side of a live broker (`TradingDesk` mixes it in): the orders of an account whose broker is
not the paper broker wait in an outbox for the caller to send, and the broker's reports come back as
`BrokerEvent`s handled as the paper broker's events are (processors/trading/desk.py, step 3).
"""

from __future__ import annotations

from typing import Any

from processors.paper import OrderFilled
from processors.trading.errors import TradingDeskError
from processors.trading.orders import BrokerEvent, DeskOrder

DeskEvent = Any


class LiveOrdersMixin:
    """`take_outbox` and `on_broker_events` of `TradingDesk` (its `_orders`, `_outbox`, `_broker_execs`)."""

    def take_outbox(self) -> list[DeskOrder]:
        """The orders placed for accounts with a live broker since the last call, in the order placed: the
        caller sends them (a replay never does) and gives their reports back to `on_broker_events`."""
        orders, self._outbox = self._outbox, []
        return orders

    def on_broker_events(self, events: list[BrokerEvent], ts_init: int) -> list[DeskEvent]:
        """A live broker's reports of orders this desk placed, in the order reported, each at its event time (the
        caller keeps them in time order with the prints): handled as the paper broker's events are, with the
        broker's identity of the order kept. An execution applied before is skipped (a broker may report it
        again after a reconnection); an order this desk did not place raises TradingDeskError naming it."""
        out: list[DeskEvent] = []
        for item in events:
            if not isinstance(item, BrokerEvent):
                raise TradingDeskError("broker_event", f"must be a BrokerEvent, got {type(item).__name__}")
            event = item.event
            order = self._orders.get(event.client_order_id)
            if order is None or order.broker != item.broker:
                raise TradingDeskError("broker_event.client_order_id", f"{event.client_order_id!r} is not an order "
                                                                        f"this desk sent to {item.broker!r}")
            if isinstance(event, OrderFilled):
                if event.exec_id in self._broker_execs:
                    continue
                self._broker_execs.add(event.exec_id)
            out += self._begin(event.ts_event, ts_init, inclusive=False)
            out += self._paper([event], ts_init, item)
            self._sync_kill_switches(event.ts_event)
        return out

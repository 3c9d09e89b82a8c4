"""One order of ours as the IBKR broker knows it (`Tracked`), and its entry in the order journal.

`Tracked` holds the command as sent (prices on the tick grid), the order's part in a bracket, the order id
and permIds IB gave it, whether its message left our socket, and its status, quantity and fills as TWS last
reported them. `journal_entry` and `command_from_journal` write an order to the journal
(connectors.ibkr.order_journal) and read it back, so a restarted broker knows what an earlier process sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from connectors.broker import PlaceOrder, Route
from processors.paper import OrderStatus, OrderType, Side


@dataclass
class Tracked:
    """One of our orders as we know it. `perm_ids[0]` is its identity at IB; later ones are conflicts."""
    command: PlaceOrder
    role: str | None = None                 # entry, stop, target
    parent: str | None = None
    children: tuple[str, ...] = ()
    order_id: int | None = None
    perm_ids: list[int] = field(default_factory=list)
    written: bool = False
    lost: bool = False
    status: OrderStatus = OrderStatus.INITIATED
    broker_status: str = ""
    quantity: int = 0
    filled: int = 0                         # from executions, each counted once
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    last_report: tuple[Any, ...] | None = None

    @property
    def ref(self) -> str:
        return self.command.client_order_id

    @property
    def acknowledged(self) -> bool:
        return bool(self.perm_ids)


def journal_entry(tracked: Tracked) -> dict[str, Any]:
    command = tracked.command
    return {"order_id": tracked.order_id, "perm_ids": tracked.perm_ids, "written": tracked.written,
            "role": tracked.role, "parent": tracked.parent, "children": list(tracked.children),
            "symbol": command.symbol, "side": command.side.value, "order_type": command.order_type.value,
            "quantity": command.quantity, "tick_size": str(command.tick_size), "route": command.route.value,
            "limit_price": None if command.limit_price is None else str(command.limit_price),
            "stop_price": None if command.stop_price is None else str(command.stop_price)}


def command_from_journal(ref: str, entry: dict[str, Any]) -> PlaceOrder:
    def price(name: str) -> Decimal | None:
        return None if entry[name] is None else Decimal(entry[name])
    return PlaceOrder(client_order_id=ref, symbol=entry["symbol"], side=Side(entry["side"]),
                      order_type=OrderType(entry["order_type"]), quantity=entry["quantity"],
                      tick_size=Decimal(entry["tick_size"]), route=Route(entry["route"]),
                      limit_price=price("limit_price"), stop_price=price("stop_price"))

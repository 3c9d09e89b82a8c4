"""A bracket's OCA bookkeeping in the paper broker: its children, how they follow the entry and each other, and
which of them a bar may still reach after the entry filled in it. Pure functions of the orders' states.

Brackets (one OCA group): the stop and target are Initiated until the entry's first fill; from then each
covers the open position, the entry's filled quantity less what either child has filled, so a fill of one
reduces the other and the two never fill more than the entry did. When the entry is done (filled, or
cancelled) and the position is flat, a child that filled is Success and one that did not is Cancelled.
Cancelling the entry before any fill cancels the children; after a fill they keep protecting the position.
In bars-only mode, in the bar where the entry fills, the stop is checked on the rest of the bar (the range
from the entry's fill price: if the bar reaches the stop it is taken to have done so after the entry, the
conservative reading), the target only if the entry filled at the bar's open (otherwise the high may have
come before the fill); a bar that reaches both the stop and the target fills the stop first. With prints,
the children start with the print after the one that filled the entry.

    bracket_children(bracket)            -> the stop and the target, Initiated, before the entry's first fill
    settle(orders, entry_id, ...)        -> the children's new states and the events they cause
    rest_of_bar(entry, fill_price, bar)  -> the children to check on the rest of the bar, with their range
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from processors.paper.events import OrderCancelled, OrderModified, PaperEvent
from processors.paper.matching import PriceRange
from processors.paper.orders import BracketOrder, BracketRole, OrderState, OrderStatus, OrderType


def bracket_children(bracket: BracketOrder) -> tuple[OrderState, OrderState]:
    """The stop and the target of `bracket`: Initiated, of no quantity until the entry fills."""
    entry = bracket.entry
    child = dict(symbol=entry.symbol, side=entry.side.opposite, quantity=0, tick_size=entry.tick_size,
                 status=OrderStatus.INITIATED, parent_id=entry.client_order_id)
    stop = OrderState(client_order_id=bracket.stop_order_id, order_type=OrderType.STOP, limit_price=None,
                      stop_price=bracket.stop_price, role=BracketRole.STOP, sibling_id=bracket.target_order_id,
                      **child)
    target = OrderState(client_order_id=bracket.target_order_id, order_type=OrderType.LIMIT,
                        limit_price=bracket.target_price, stop_price=None, role=BracketRole.TARGET,
                        sibling_id=bracket.stop_order_id, **child)
    return stop, target


def settle(orders: Mapping[str, OrderState], entry_id: str, ts_event: int, cause: str, skip: str | None,
           take_sequence: Callable[[], int]) -> tuple[list[OrderState], list[PaperEvent]]:
    """Bring a bracket's children in line with its entry and each other: each covers the open position.

    The children's changed states, in the order they changed, and the events for all but `skip` (the child
    whose own fill caused this: its fill is its event). A child that starts working takes the next sequence
    number from `take_sequence` (time priority) and works from `ts_event` on."""
    entry = orders[entry_id]
    stop_id, target_id = entry.children
    current = {stop_id: orders[stop_id], target_id: orders[target_id]}
    changed: list[OrderState] = []
    events: list[PaperEvent] = []
    for child_id, sibling_id in ((stop_id, target_id), (target_id, stop_id)):
        child, sibling = current[child_id], current[sibling_id]
        if not child.is_open or (entry.filled_quantity == 0 and entry.is_open):
            continue
        quantity = entry.filled_quantity - sibling.filled_quantity
        flat = quantity == child.filled_quantity
        if entry.filled_quantity == 0 or (flat and not entry.is_open):
            status = OrderStatus.SUCCESS if child.filled_quantity else OrderStatus.CANCELLED
        else:
            status = OrderStatus.PENDING if child.filled_quantity else OrderStatus.PLACED
        changes: dict[str, Any] = {"quantity": quantity, "status": status}
        if child.active_since_ns is None and status in (OrderStatus.PLACED, OrderStatus.PENDING):
            changes.update(sequence=take_sequence(), active_since_ns=ts_event)
        updated = replace(child, **changes)
        if updated == child:
            continue
        current[child_id] = updated
        changed.append(updated)
        if child_id == skip:
            continue
        if status is OrderStatus.CANCELLED:
            reason = (f"the entry {entry_id} was cancelled before any fill" if entry.filled_quantity == 0
                      else f"OCA: the position was closed by {sibling_id}")
            events.append(OrderCancelled(client_order_id=child_id, ts_event=ts_event,
                                         filled_quantity=updated.filled_quantity, reason=reason))
        else:
            events.append(order_modified(updated, ts_event, cause))
    return changed, events


def rest_of_bar(entry: OrderState, fill_price: Decimal, bar: PriceRange) -> list[tuple[str, PriceRange]]:
    """The children of `entry` a bar may still reach after the entry filled in it at `fill_price` (before
    slippage), each with the range it is checked on: the stop always, the target only if the entry filled at
    the bar's open."""
    rest = PriceRange(fill_price, bar.high, bar.low)
    stop_id, target_id = entry.children
    return [(child_id, rest) for child_id, eligible in ((stop_id, True), (target_id, fill_price == bar.open))
            if eligible]


def order_modified(state: OrderState, ts_event: int, reason: str) -> OrderModified:
    """The OrderModified event of an order now in `state`."""
    return OrderModified(client_order_id=state.client_order_id, ts_event=ts_event, quantity=state.quantity,
                         limit_price=state.limit_price, stop_price=state.stop_price, status=state.status,
                         reason=reason)

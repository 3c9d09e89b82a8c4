"""The trades as events: a `TradeUpdated` each time a trade changes, versioned per trade.

    feed = TradeFeed()
    updates = feed.changes(desk.trade_manager, desk_events, ts_init)   # after each desk call

The trades a desk call touched are those its events name (a fill's or an order event's trade id); for each,
the trade manager's view is compared with the last one published: a first fill OPENED, another entry fill
ADDED, an exit fill that leaves units open REDUCED, the last exit fill CLOSED, a stop moved by risk
reduction STOP_MOVED (published with the order event of the risk-reduction sale; a step that only moves the
stop is published with the trade's next change). An operator's move of the stop or target (desk_manual.py) names
its trade through `moved`: STOP_MOVED or TARGET_MOVED at the move's event time. `version` counts a trade's events
from 0 and `ts_event` is the event time of the desk event that changed it, so a replay publishes the same versions
at the same times.
A trade is not an event before its first fill (its entry order's events say it is Waiting).

Money travels on the schemas' 8-decimal grid (processors.risk.event.event_decimal).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from processors.model import FillExecuted, OrderStatusChanged, TradeUpdated
from processors.risk.event import event_decimal
from processors.trades import TradeManager, TradeStatus


@dataclass(frozen=True, slots=True)
class _Published:
    version: int
    status: str
    entry_qty: int
    exit_qty: int
    stop: str
    target: str | None = None       # None: not known (a snapshot written before targets were followed)


class TradeFeed:
    def __init__(self) -> None:
        self._published: dict[str, _Published] = {}

    def changes(self, manager: TradeManager, events: Iterable[object], ts_init: int,
                moved: dict[str, int] | None = None) -> list[TradeUpdated]:
        """The TradeUpdated events of the trades `events` (a desk call's output) changed, in the order the
        events first name them; `moved`: trades whose stop or target an operator moved, and when."""
        touched: dict[str, int] = {}
        for event in events:
            if isinstance(event, (FillExecuted, OrderStatusChanged)) and event.trade_id:
                touched[event.trade_id] = event.ts_event  # the last change's time
        touched.update(moved or {})
        out = []
        for trade_id, ts_event in touched.items():
            update = self._update(manager, trade_id, ts_event, ts_init)
            if update is not None:
                out.append(update)
        return out

    def _update(self, manager: TradeManager, trade_id: str, ts_event: int, ts_init: int) -> TradeUpdated | None:
        try:
            view = manager.trade(trade_id)
        except ValueError:  # not opened yet (no fill): its order events say it is Waiting
            return None
        row = manager.deal_row_of(trade_id)
        if row is None:
            return None
        before = self._published.get(trade_id)
        now = _Published(0 if before is None else before.version + 1, view.status.value, view.entry_quantity,
                         view.exit_quantity, str(view.stop_price), str(view.target_price))
        change = _change(before, now)
        if change is None:
            return None
        self._published[trade_id] = now
        return TradeUpdated(
            trade_id=trade_id, version=now.version, change=change, account_id=view.account_id,
            strategy=view.strategy, ss_type=row.ss_type, signal_type=row.signal_type or view.direction.value,
            symbol=view.symbol, direction=view.direction.value, status=view.status.value, ts_event=ts_event,
            ts_init=ts_init, entry_qty=view.entry_quantity, exit_qty=view.exit_quantity,
            initial_stop=event_decimal(view.initial_stop), stop_price=event_decimal(view.stop_price),
            pnl=event_decimal(row.pnl), charges=event_decimal(row.charges), net_pnl=event_decimal(row.net_pnl),
            net_pnl_pct=event_decimal(row.net_pnl_pct), comment=view.comment,
            entry_price=event_decimal(view.average_entry_price), exit_price=event_decimal(row.exit_price),
            target_price=event_decimal(view.target_price), opened_ns=view.opened_ns, closed_ns=view.closed_ns)

    def snapshot(self) -> dict[str, Any]:
        return {trade_id: [p.version, p.status, p.entry_qty, p.exit_qty, p.stop, p.target]
                for trade_id, p in self._published.items()}

    @classmethod
    def restore(cls, data: dict[str, Any]) -> TradeFeed:
        feed = cls()
        feed._published = {trade_id: _Published(int(v), str(s), int(e), int(x), str(stop),
                                                None if len(rest) == 0 or rest[0] is None else str(rest[0]))
                           for trade_id, (v, s, e, x, stop, *rest) in data.items()}
        return feed


def _change(before: _Published | None, now: _Published) -> str | None:
    if now.status == TradeStatus.CLOSED.value and (before is None or before.status != now.status):
        return "CLOSED"
    if before is None:
        return "OPENED"
    if now.entry_qty > before.entry_qty:
        return "ADDED"
    if now.exit_qty > before.exit_qty:
        return "REDUCED"
    if now.stop != before.stop:
        return "STOP_MOVED"
    if before.target is not None and now.target != before.target:
        return "TARGET_MOVED"
    return None

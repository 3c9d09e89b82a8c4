"""An operator's hand on a running trade (`TradeManager` mixes it in): an exit asked for by hand, and the stop or
the target moved. The trading desk decides each first (processors/trading/desk_manual.py); these only apply it.

    manager.request_manual_exit(trade_id, quantity, ts_event, detail)   -> (catch-up requests, ExitRequested)
    manager.move_stop(trade_id, price, ts_event)                        -> catch-up requests
    manager.move_target(trade_id, price, ts_event)                      -> catch-up requests

Like every input, each first runs the sweeps due before its event time. A manual exit is an ordinary exit
request (reason MANUAL, id "<trade id>:exit:<n>" from the trade's request sequence, so a replay asks with the
same id): its fills close the trade with the comment "manual", and a refusal or a partial fill frees the
shares as for any request.

A moved stop or target applies to the prints after the move: the trade is looked at by the next sweep as a trade
opened at the move is, on the lowest and highest prices since the move only (a low before the move that
reached the new stop is not a stop-loss; the desk checks that the new stop is on the right side of the latest
price). The prices must be on the right sides of each other: a long's stop below its target, a short's above.
"""

from __future__ import annotations

from decimal import Decimal

from processors.risk.intent import ExitReason
from processors.trades.errors import TradeError
from processors.trades.events import ExitRequested, TradeStatus
from processors.trades.fields import int_field, price_field, text_field
from processors.trades.sweep import in_order
from processors.trades.trade import TradeState


class ManualMixin:
    """`request_manual_exit`, `move_stop` and `move_target` of `TradeManager`."""

    def request_manual_exit(self, trade_id: str, quantity: int, ts_event: int,
                            detail: str) -> tuple[list[ExitRequested], ExitRequested | None]:
        """Ask to close `quantity` of the trade's open units that no request covers yet (reason MANUAL). Returns
        the requests of the sweeps due before `ts_event` and the manual one (cut to what those sweeps left free;
        None if they asked for every unit); TradeError (nothing changed) for a trade that is not running or a
        quantity beyond what is free to close."""
        int_field(ts_event, "manual_exit.ts_event")
        int_field(quantity, "manual_exit.quantity", minimum=1)
        text_field(detail, "manual_exit.detail")
        trade = self._running(trade_id, "manual_exit.trade_id")
        if quantity > trade.available:
            raise TradeError("manual_exit.quantity", f"{quantity} exceeds the {trade.available} open units of trade "
                                                     f"{trade.trade_id!r} that no exit request covers")
        requests = self._catch_up(ts_event, inclusive=False)
        quantity = min(quantity, trade.available)    # a sweep due before may just have asked for some
        if quantity == 0:
            return requests, None
        made: list = []
        self._request(trade, quantity, ExitReason.MANUAL, self._latest(trade.symbol), ts_event, detail, made,
                      closes_all=quantity == trade.available)
        return requests, in_order(made)[0]

    def move_stop(self, trade_id: str, price: Decimal, ts_event: int) -> list[ExitRequested]:
        """The trade's stop becomes `price` (from the prints after `ts_event` on)."""
        return self._move(trade_id, price, ts_event, "stop")

    def move_target(self, trade_id: str, price: Decimal, ts_event: int) -> list[ExitRequested]:
        """The trade's profit target becomes `price` (from the prints after `ts_event` on)."""
        return self._move(trade_id, price, ts_event, "target")

    def _move(self, trade_id: str, price: Decimal, ts_event: int, which: str) -> list[ExitRequested]:
        int_field(ts_event, f"move_{which}.ts_event")
        price = price_field(price, f"move_{which}.price")
        trade = self._running(trade_id, f"move_{which}.trade_id")
        stop, target = (price, trade.target) if which == "stop" else (trade.stop, price)
        if target is not None and ((target <= stop) if trade.long else (target >= stop)):
            where = "above" if trade.long else "below"
            raise TradeError(f"move_{which}.price", f"a {trade.direction.value}'s target must be {where} its stop: "
                                                    f"stop {stop}, target {target}")
        requests = self._catch_up(ts_event, inclusive=False)
        trade.stop, trade.target = stop, target
        if not trade.fresh:              # the next sweep sees only the prints after the move
            trade.fresh, trade.fresh_low_e8, trade.fresh_high_e8 = True, None, None
            self._fresh.setdefault(trade.symbol, []).append(trade)
        trade.refresh_thresholds(self._levels(trade))
        self._changed(trade)
        self._touch(trade.symbol)
        return requests

    def _running(self, trade_id: object, name: str) -> TradeState:
        trade = self._known(trade_id, name)
        if trade.status is not TradeStatus.RUNNING:
            raise TradeError(name, f"trade {trade.trade_id!r} is {trade.status.value}: only a running trade changes "
                                   "by hand")
        return trade

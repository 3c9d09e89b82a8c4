"""One trade as the manager keeps it: its fills, stops, pending exit requests and the two trigger prices the
sweep compares against (mutable, owned by `TradeManager`; read it through `view()`).

The sweep must not do Decimal work for a trade whose prices did not cross anything, so each running trade
keeps two integer thresholds in counts of 1e-8 (`processors.model.price_e8`):

    long    lower = its stop                 upper = the nearest of its target and next risk-reduction level
    short   upper = its stop                 lower = the nearest of its target and next risk-reduction level

and needs attention only when the interval's low is at or below `lower` or its high at or above `upper`.
The thresholds round outwards exactly (floor for a level reached from above, ceiling from below), so for a
price on the 1e-8 grid the integer test is the Decimal test. A trade with nothing left to request (all of
its open quantity in pending exits) gets thresholds no price reaches.

Beside it, what the manager checks and derives per trade: `check_same_trade` (a later entry fill repeats the
trade), `trim_pending` and `issued_ids` (exit requests), `open_trade` (the risk stage's record, cached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from processors import deals
from processors.pnl import Direction, Fill, average_price, trade_pnl
from processors.risk.intent import ExitReason
from processors.risk.state import OpenTrade
from processors.trades.errors import TradeError
from processors.trades.events import EntryFilled, TradeStatus, TradeView
from processors.trades.fields import ceil_e8, floor_e8
from processors.trades.settings import BreakEven, RiskReductionLevel, StopOffset

NEVER_BELOW = -(10**30)
NEVER_ABOVE = 10**30
ZERO = Decimal(0)


class PendingExit(msgspec.Struct, gc=False):
    """An exit request not filled yet (a Struct: made per request, never part of a reference cycle)."""

    quantity: int           # still to fill
    reason: ExitReason


@dataclass(slots=True, eq=False)
class TradeState:
    trade_id: str
    ordinal: int                    # the order trades were first seen in (orders a sweep's requests)
    account_id: str
    strategy: str
    symbol: str
    direction: Direction
    intraday: bool
    lot_size: int
    signal_type: str
    initial_stop: Decimal
    stop: Decimal
    target: Decimal | None
    opened_ns: int
    status: TradeStatus = TradeStatus.WAITING
    multiplier: int = 1             # units per contract: P&L is quantity x price x multiplier
    closed_ns: int | None = None
    entries: list[Fill] = field(default_factory=list)
    exits: list[tuple[Fill, ExitReason]] = field(default_factory=list)
    pending: dict[str, PendingExit] = field(default_factory=dict)
    next_sequence: int = 1
    levels_done: int = 0
    fresh: bool = False             # opened since the last sweep: its first sweep sees only the prices since
    fresh_low_e8: int | None = None  # its open, the lowest and highest of them here (None: no print yet)
    fresh_high_e8: int | None = None
    entry_quantity: int = 0
    exit_quantity: int = 0
    average_entry: Decimal | None = None
    realised_pnl: Decimal = ZERO
    charges: Decimal = ZERO
    lower_e8: int = NEVER_BELOW
    upper_e8: int = NEVER_ABOVE
    open_trade: tuple | None = None  # (key, OpenTrade) of manager.open_trades, rebuilt when the key changes

    @property
    def long(self) -> bool:
        return self.direction is Direction.LONG

    @property
    def sign(self) -> int:
        return self.direction.sign

    @property
    def exit_side(self) -> str:
        return "SELL" if self.long else "BUY"

    @property
    def open_quantity(self) -> int:
        return self.entry_quantity - self.exit_quantity

    @property
    def pending_quantity(self) -> int:
        return sum(p.quantity for p in self.pending.values())

    @property
    def available(self) -> int:
        """Open shares no pending request covers: what a new exit request may ask for."""
        return self.open_quantity - self.pending_quantity if self.pending else self.open_quantity

    # -- fills -------------------------------------------------------------------------------------
    def add_entry(self, fill: Fill) -> None:
        self.entries.append(fill)
        self.entry_quantity += fill.quantity
        self.average_entry = average_price(self.entries)
        self.charges += fill.charges
        self.status = TradeStatus.RUNNING

    def add_exit(self, fill: Fill, reason: ExitReason) -> None:
        self.exits.append((fill, reason))
        self.exit_quantity += fill.quantity
        pnl = trade_pnl(self.direction, self.entries, [f for f, _ in self.exits], self.multiplier)
        self.realised_pnl = pnl.realised_pnl
        self.charges += fill.charges
        if self.open_quantity == 0:
            self.status = TradeStatus.CLOSED
            self.closed_ns = fill.ts_event
            self.pending.clear()

    # -- levels and thresholds ---------------------------------------------------------------------
    def level_price(self, level: RiskReductionLevel) -> Decimal:
        """The price at `level.trigger_r` R in the trade's favour, R = |average entry - initial stop|."""
        assert self.average_entry is not None
        risk = abs(self.average_entry - self.initial_stop)
        return self.average_entry + self.sign * level.trigger_r * risk

    def moved_stop(self, level: RiskReductionLevel) -> Decimal:
        """The stop after `level`'s move (never looser than the current stop)."""
        assert self.average_entry is not None
        if isinstance(level.move_stop, BreakEven):
            candidate = self.average_entry
        elif isinstance(level.move_stop, StopOffset):
            candidate = self.stop + self.sign * level.move_stop.amount
        else:
            return self.stop
        return max(self.stop, candidate) if self.long else min(self.stop, candidate)

    def refresh_thresholds(self, levels: tuple[RiskReductionLevel, ...]) -> None:
        if self.status is not TradeStatus.RUNNING or self.available <= 0:
            self.lower_e8, self.upper_e8 = NEVER_BELOW, NEVER_ABOVE
            return
        level = levels[self.levels_done] if self.levels_done < len(levels) else None
        if self.long:
            self.lower_e8 = floor_e8(self.stop)
            favour = [ceil_e8(self.target)] if self.target is not None else []
            if level is not None:
                favour.append(ceil_e8(self.level_price(level)))
            self.upper_e8 = min(favour, default=NEVER_ABOVE)
        else:
            self.upper_e8 = ceil_e8(self.stop)
            favour = [floor_e8(self.target)] if self.target is not None else []
            if level is not None:
                favour.append(floor_e8(self.level_price(level)))
            self.lower_e8 = max(favour, default=NEVER_BELOW)

    # -- views -------------------------------------------------------------------------------------
    def comment(self) -> str:
        return "; ".join(dict.fromkeys(deals.ExitReason[reason.name].value for _, reason in self.exits))

    def view(self) -> TradeView:
        return TradeView(
            trade_id=self.trade_id, account_id=self.account_id, strategy=self.strategy, symbol=self.symbol,
            direction=self.direction, status=self.status, intraday=self.intraday, entry_quantity=self.entry_quantity,
            exit_quantity=self.exit_quantity, open_quantity=self.open_quantity,
            pending_exit_quantity=self.pending_quantity, average_entry_price=self.average_entry,
            initial_stop=self.initial_stop, stop_price=self.stop, target_price=self.target,
            risk_reduction_levels_done=self.levels_done, realised_pnl=self.realised_pnl, charges=self.charges,
            opened_ns=self.opened_ns, closed_ns=self.closed_ns, comment=self.comment())

    def deal(self) -> deals.Trade:
        """The trade as the deals report takes it (a trade without fills is not a deal yet: PnlError)."""
        return deals.Trade(
            strategy=self.strategy, ss_type="intraday" if self.intraday else "positional",
            signal_type=self.signal_type, symbol=self.symbol, direction=self.direction, entries=tuple(self.entries),
            exits=tuple(deals.TradeExit(fill, deals.ExitReason[reason.name]) for fill, reason in self.exits),
            multiplier=self.multiplier)

    # -- snapshot ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "trade_id": self.trade_id, "ordinal": self.ordinal, "account_id": self.account_id,
            "strategy": self.strategy, "symbol": self.symbol, "direction": self.direction.value,
            "intraday": self.intraday, "lot_size": self.lot_size, "signal_type": self.signal_type,
            "multiplier": self.multiplier,
            "initial_stop": str(self.initial_stop), "stop": str(self.stop),
            "target": None if self.target is None else str(self.target), "opened_ns": self.opened_ns,
            "status": self.status.value, "closed_ns": self.closed_ns,
            "entries": [_fill_dict(fill) for fill in self.entries],
            "exits": [{**_fill_dict(fill), "reason": reason.value} for fill, reason in self.exits],
            "pending": [{"request_id": rid, "quantity": p.quantity, "reason": p.reason.value}
                        for rid, p in self.pending.items()],
            "next_sequence": self.next_sequence, "levels_done": self.levels_done, "fresh": self.fresh,
            "fresh_low_e8": self.fresh_low_e8, "fresh_high_e8": self.fresh_high_e8,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], levels: tuple[RiskReductionLevel, ...]) -> TradeState:
        trade = cls(
            trade_id=data["trade_id"], ordinal=data["ordinal"], account_id=data["account_id"],
            strategy=data["strategy"], symbol=data["symbol"], direction=Direction(data["direction"]),
            intraday=data["intraday"], lot_size=data["lot_size"], signal_type=data["signal_type"],
            initial_stop=Decimal(data["initial_stop"]), stop=Decimal(data["stop"]),
            target=None if data["target"] is None else Decimal(data["target"]), opened_ns=data["opened_ns"],
            multiplier=data.get("multiplier", 1))
        for entry in data["entries"]:
            trade.add_entry(_fill_of(entry))
        for exit_ in data["exits"]:
            trade.add_exit(_fill_of(exit_), ExitReason(exit_["reason"]))
        trade.status = TradeStatus(data["status"])
        trade.closed_ns = data["closed_ns"]
        trade.pending = {p["request_id"]: PendingExit(p["quantity"], ExitReason(p["reason"])) for p in data["pending"]}
        trade.next_sequence = data["next_sequence"]
        trade.levels_done = data["levels_done"]
        trade.fresh = data["fresh"]
        trade.fresh_low_e8, trade.fresh_high_e8 = data["fresh_low_e8"], data["fresh_high_e8"]
        trade.refresh_thresholds(levels)
        return trade


def _fill_dict(fill: Fill) -> dict[str, Any]:
    return {"ts_event": fill.ts_event, "quantity": fill.quantity, "price": str(fill.price),
            "charges": str(fill.charges)}


def _fill_of(data: dict[str, Any]) -> Fill:
    return Fill(data["ts_event"], data["quantity"], Decimal(data["price"]), Decimal(data["charges"]))


def check_same_trade(trade: TradeState, event: EntryFilled) -> None:
    if trade.status is TradeStatus.CLOSED:
        raise TradeError("entry.trade_id", f"trade {trade.trade_id!r} is closed: an entry fill cannot reopen it")
    for name, mine in (("account_id", trade.account_id), ("strategy", trade.strategy), ("symbol", trade.symbol),
                       ("direction", trade.direction), ("stop_price", trade.initial_stop),
                       ("target_price", trade.target), ("multiplier", trade.multiplier)):
        if getattr(event, name) != mine:
            raise TradeError(f"entry.{name}", f"trade {trade.trade_id!r} has {mine!r}, the fill says "
                                              f"{getattr(event, name)!r}")


def trim_pending(trade: TradeState) -> None:
    """After an exit fill outside the requests, pending requests never cover more than is open (newest first)."""
    excess = trade.pending_quantity - trade.open_quantity
    for request_id in reversed(list(trade.pending)):
        if excess <= 0:
            break
        pending = trade.pending[request_id]
        cut = min(excess, pending.quantity)
        pending.quantity -= cut
        excess -= cut
        if pending.quantity == 0:
            del trade.pending[request_id]


def issued_ids(trade: TradeState) -> set[str]:
    return {f"{trade.trade_id}:exit:{n}" for n in range(1, trade.next_sequence)}


def open_trade(trade: TradeState) -> OpenTrade:
    key = (trade.open_quantity, trade.average_entry, trade.stop)
    cached = trade.open_trade
    if cached is None or cached[0] != key:
        cached = (key, OpenTrade(trade_id=trade.trade_id, symbol=trade.symbol, side="BUY" if trade.long else "SELL",
                                 quantity=key[0], entry_price=key[1], stop_price=key[2], opened_ns=trade.opened_ns,
                                 multiplier=trade.multiplier))
        trade.open_trade = cached
    return cached[1]

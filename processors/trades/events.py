"""What the trade manager is told (facts, past tense) and what it asks for (`ExitRequested`), as typed
frozen records checked when built (a `TradeError` naming the field).

    EntrySubmitted   an entry order was sent: the trade is Waiting (optional; a first fill opens it too)
    EntryFilled      (part of) an entry order filled: the first opens the trade, the next add to it
    ExitFilled       (part of) an exit filled: by one of our requests (`request_id`) or not (a `reason`,
                     MANUAL by default: the operator closed it at the broker)
    ExitCancelled    an exit request will not fill (further): its remainder may be requested again
    ExitRequested    the manager asks to close `quantity` of a trade, for `reason`, at event time `ts_event`;
                     `request_id` is derived from the trade id and the trade's request sequence, so a replay
                     asks for the same exits with the same ids
    TradeSelector    which running trades an exit signal closes (every given field must match)

Prices are Decimal with at most 8 decimal places, quantities whole shares, times integer ns UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import msgspec

from processors.pnl import Direction
from processors.risk.intent import ExitReason
from processors.trades.errors import TradeError
from processors.trades.fields import bool_field, decimal_field, int_field, price_field, set_field, text_field

ZERO = Decimal(0)


class TradeStatus(StrEnum):
    WAITING = "Waiting"     # the entry order is out, nothing filled yet
    RUNNING = "Running"     # shares are open
    CLOSED = "Closed"       # the exits sum to the entries


def direction_field(value: object, name: str) -> Direction:
    try:
        return Direction(value)
    except ValueError:
        raise TradeError(name, f"must be long or short, got {value!r}") from None


def reason_field(value: object, name: str) -> ExitReason:
    try:
        return ExitReason(value)
    except ValueError:
        raise TradeError(name, f"must be one of {', '.join(r.value for r in ExitReason)}, got {value!r}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class EntrySubmitted:
    """An entry order of trade `trade_id` (its client order id) was sent; the trade waits for its fills."""

    trade_id: str
    account_id: str
    strategy: str
    symbol: str
    direction: Direction
    stop_price: Decimal
    ts_event: int
    target_price: Decimal | None = None
    intraday: bool = True
    lot_size: int = 1
    signal_type: str = ""
    multiplier: int = 1
    """Units per contract (100 for a U.S. equity option): P&L and risk are quantity x price x multiplier."""

    def __post_init__(self) -> None:
        _check_identity(self, "entry")
        int_field(self.multiplier, "entry.multiplier", minimum=1)
        _check_stop_target(self, "entry")


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryFilled:
    """`quantity` shares of trade `trade_id`'s entry filled at `price`. The first fill opens the trade with
    its initial stop (TM-Isp) and optional target (TM-IProfit), which must be on the right sides of the fill
    price; a later fill must repeat the trade's account, strategy, symbol, direction, stop and target."""

    trade_id: str
    account_id: str
    strategy: str
    symbol: str
    direction: Direction
    quantity: int
    price: Decimal
    stop_price: Decimal
    ts_event: int
    target_price: Decimal | None = None
    charges: Decimal = ZERO
    intraday: bool = True
    lot_size: int = 1
    signal_type: str = ""
    multiplier: int = 1
    """Units per contract (100 for a U.S. equity option): P&L and risk are quantity x price x multiplier."""

    def __post_init__(self) -> None:
        _check_identity(self, "entry")
        _check_stop_target(self, "entry")
        int_field(self.quantity, "entry.quantity", minimum=1)
        int_field(self.multiplier, "entry.multiplier", minimum=1)
        set_field(self, "price", price_field(self.price, "entry.price"))
        set_field(self, "charges", decimal_field(self.charges, "entry.charges", minimum=0))

    def side_problem(self) -> tuple[str, str] | None:
        """The field and the reason when the stop or target is on the wrong side of this fill's price."""
        long = self.direction is Direction.LONG
        if (self.stop_price >= self.price) if long else (self.stop_price <= self.price):
            where = "below" if long else "above"
            return ("entry.stop_price", f"a {self.direction.value}'s stop must be {where} its entry price "
                                        f"{self.price}, got {self.stop_price}")
        if self.target_price is not None and ((self.target_price <= self.price) if long
                                              else (self.target_price >= self.price)):
            where = "above" if long else "below"
            return ("entry.target_price", f"a {self.direction.value}'s target must be {where} its entry price "
                                          f"{self.price}, got {self.target_price}")
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitFilled:
    """`quantity` shares of trade `trade_id` were closed at `price`: by request `request_id`, or, without one,
    for `reason` (MANUAL when the operator closed them)."""

    trade_id: str
    quantity: int
    price: Decimal
    ts_event: int
    request_id: str | None = None
    reason: ExitReason | None = None
    charges: Decimal = ZERO

    def __post_init__(self) -> None:
        text_field(self.trade_id, "exit.trade_id")
        int_field(self.quantity, "exit.quantity", minimum=1)
        set_field(self, "price", price_field(self.price, "exit.price"))
        int_field(self.ts_event, "exit.ts_event")
        set_field(self, "charges", decimal_field(self.charges, "exit.charges", minimum=0))
        if self.request_id is not None:
            text_field(self.request_id, "exit.request_id")
        if self.reason is not None:
            set_field(self, "reason", reason_field(self.reason, "exit.reason"))


@dataclass(frozen=True, slots=True, kw_only=True)
class ExitCancelled:
    """Exit request `request_id` of trade `trade_id` was cancelled or rejected; what it did not fill is free."""

    trade_id: str
    request_id: str
    ts_event: int
    reason: str = ""

    def __post_init__(self) -> None:
        text_field(self.trade_id, "exit_cancelled.trade_id")
        text_field(self.request_id, "exit_cancelled.request_id")
        int_field(self.ts_event, "exit_cancelled.ts_event")


class ExitRequested(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The manager asks to close `quantity` shares of a trade (an order `side` SELL closes a long, BUY a
    short) for `reason`. `trigger_price` is the price that triggered it (the interval's low or high that
    crossed a stop, target or level; the latest price for a time close, kill switch or exit rule; None if no
    price is known yet), `detail` says so in words.

    A frozen msgspec Struct rather than a dataclass: a crash's sweep makes one per open trade (10,000 in the
    benchmark), and a Struct is built in a tenth of the time and holds nothing the cyclic garbage collector
    must track (its fields are strings, numbers and a Decimal)."""

    request_id: str
    trade_id: str
    account_id: str
    strategy: str
    symbol: str
    side: str
    quantity: int
    reason: ExitReason
    trigger_price: Decimal | None
    ts_event: int
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeSelector:
    """The running trades an exit signal closes: those matching every field given (None matches any)."""

    account_id: str | None = None
    strategy: str | None = None
    symbol: str | None = None
    trade_id: str | None = None

    def __post_init__(self) -> None:
        for name in ("account_id", "strategy", "symbol", "trade_id"):
            if getattr(self, name) is not None:
                text_field(getattr(self, name), f"selector.{name}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeView:
    """One trade as the manager holds it, read-only. `comment` says how it closed (the reasons of its exits
    in the order they happened, each once, in the deals report's words)."""

    trade_id: str
    account_id: str
    strategy: str
    symbol: str
    direction: Direction
    status: TradeStatus
    intraday: bool
    entry_quantity: int
    exit_quantity: int
    open_quantity: int
    pending_exit_quantity: int
    average_entry_price: Decimal | None
    initial_stop: Decimal
    stop_price: Decimal
    target_price: Decimal | None
    risk_reduction_levels_done: int
    realised_pnl: Decimal
    charges: Decimal
    opened_ns: int
    closed_ns: int | None
    comment: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountView:
    """An account's progressive P&L and risk.

    realised_pnl          Σ the trades' realised P&L (processors.pnl), before charges
    charges               Σ every fill's charges
    net_realised_pnl      realised_pnl - charges
    open_risk             Σ over running trades of what each loses from its average entry to its current stop,
                          zero once the stop is at or past the entry (as processors.risk.state.OpenTrade.risk)
    remaining_risk_budget RM-Max-sp + net_realised_pnl - open_risk: a realised gain widens the room for new
                          risk, a realised loss narrows it (None without AccountSettings)
    day_pnl               realised and unrealised P&L since the day began (`start_day`), net of charges,
                          open shares at the latest price (or their last fill's price before any trade)
    day_loss_pct          max(0, -day_pnl) as % of start-of-day equity, 6 places (None without settings)
    kill_switch_tripped   and its reason
    """

    account_id: str
    realised_pnl: Decimal
    charges: Decimal
    net_realised_pnl: Decimal
    open_risk: Decimal
    remaining_risk_budget: Decimal | None
    day_pnl: Decimal
    day_loss_pct: Decimal | None
    kill_switch_tripped: bool
    kill_switch_reason: str


def _check_identity(record: object, prefix: str) -> None:
    for name in ("trade_id", "account_id", "strategy", "symbol"):
        text_field(getattr(record, name), f"{prefix}.{name}")
    set_field(record, "direction", direction_field(getattr(record, "direction"), f"{prefix}.direction"))
    int_field(getattr(record, "ts_event"), f"{prefix}.ts_event")
    bool_field(getattr(record, "intraday"), f"{prefix}.intraday")
    int_field(getattr(record, "lot_size"), f"{prefix}.lot_size", minimum=1)
    if not isinstance(getattr(record, "signal_type"), str):
        raise TradeError(f"{prefix}.signal_type", f"must be a string, got {getattr(record, 'signal_type')!r}")


def _check_stop_target(record: object, prefix: str) -> None:
    set_field(record, "stop_price", price_field(getattr(record, "stop_price"), f"{prefix}.stop_price"))
    target = getattr(record, "target_price")
    if target is not None:
        target = price_field(target, f"{prefix}.target_price")
        set_field(record, "target_price", target)
        stop = getattr(record, "stop_price")
        long = getattr(record, "direction") is Direction.LONG
        if (target <= stop) if long else (target >= stop):
            where = "above" if long else "below"
            raise TradeError(f"{prefix}.target_price", f"a {getattr(record, 'direction').value}'s target must be "
                                                       f"{where} its stop {stop}, got {target}")

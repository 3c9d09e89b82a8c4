"""The account's state at an instant, as the risk decision is given it (a snapshot; nothing here changes).

Figures derived from it (all Decimal, in the account's currency):

    equity                 cash + Σ quantity × last price × multiplier (shorts have negative quantity,
                           their sale proceeds are in cash)
    unrealised_pnl_today   Σ quantity × (last price − reference price) × multiplier, the reference being
                           the price today's P&L is measured from (the entry price of a position opened
                           today, the previous close of one carried overnight)
    day_pnl                realised_pnl_today + unrealised_pnl_today
    open_risk              Σ of the open trades' risk: what each loses from its entry to its current stop,
                           zero once the stop has moved to or past the entry (RM-Max-sp's measure)
    gross_market_value     Σ |quantity| × last price × multiplier (Capital Utilized%'s measure)

A day trade for the legacy regime is a `RoundTrip` opened and closed on the same New York date.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from processors.risk.account import et_date
from processors.risk.errors import RiskConfigError
from processors.risk.fields import int_field, set_decimal, text_field
from processors.risk.killswitch import KillSwitch
from processors.risk.settlement import CashLedger

BUY = "BUY"
SELL = "SELL"
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """The net holding of one symbol: `quantity` > 0 long, < 0 short."""

    symbol: str
    quantity: int
    last_price: Decimal
    reference_price: Decimal
    opened_ns: int
    multiplier: int = 1

    def __post_init__(self) -> None:
        text_field(self.symbol, "position.symbol")
        if int_field(self.quantity, "position.quantity") == 0:
            raise RiskConfigError("position.quantity", "must not be 0 (a flat symbol has no position)")
        set_decimal(self, "last_price", "position.", above=0)
        set_decimal(self, "reference_price", "position.", above=0)
        int_field(self.opened_ns, "position.opened_ns")
        int_field(self.multiplier, "position.multiplier", minimum=1)

    @property
    def market_value(self) -> Decimal:
        return self.quantity * self.last_price * self.multiplier

    @property
    def unrealised_pnl_today(self) -> Decimal:
        return self.quantity * (self.last_price - self.reference_price) * self.multiplier


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenTrade:
    """A running trade: `side` BUY is long, SELL short; `stop_price` is its current stop."""

    trade_id: str
    symbol: str
    side: str
    quantity: int
    entry_price: Decimal
    stop_price: Decimal
    opened_ns: int
    multiplier: int = 1
    risk: Decimal = field(init=False, compare=False, repr=False)
    """What the trade loses from its entry to its current stop (zero once the stop is at or past the entry)."""

    def __post_init__(self) -> None:
        text_field(self.trade_id, "open_trade.trade_id")
        text_field(self.symbol, "open_trade.symbol")
        if self.side not in (BUY, SELL):
            raise RiskConfigError("open_trade.side", f"must be BUY or SELL, got {self.side!r}")
        int_field(self.quantity, "open_trade.quantity", minimum=1)
        set_decimal(self, "entry_price", "open_trade.", above=0)
        set_decimal(self, "stop_price", "open_trade.", minimum=0)
        int_field(self.opened_ns, "open_trade.opened_ns")
        int_field(self.multiplier, "open_trade.multiplier", minimum=1)
        per_unit = self.entry_price - self.stop_price if self.side == BUY else self.stop_price - self.entry_price
        object.__setattr__(self, "risk", max(per_unit, ZERO) * self.quantity * self.multiplier)


@dataclass(frozen=True, slots=True)
class RoundTrip:
    """An executed trade that opened at `opened_ns` and closed at `closed_ns`."""

    symbol: str
    opened_ns: int
    closed_ns: int

    def __post_init__(self) -> None:
        text_field(self.symbol, "round_trip.symbol")
        int_field(self.opened_ns, "round_trip.opened_ns")
        int_field(self.closed_ns, "round_trip.closed_ns")
        if self.closed_ns < self.opened_ns:
            raise RiskConfigError("round_trip.closed_ns", "must not be before opened_ns")


class Positions(tuple):
    """Net positions, at most one per symbol, checked once, with the sums a decision reads: Σ market value,
    Σ |market value| (the gross market value) and Σ unrealised P&L today, and each position by its symbol.

    `AccountSnapshot` makes one of what it is given; a caller that keeps its positions between decisions (the
    trading desk's book) gives the same container again, or one built with `of_checked`, and nothing is
    checked or summed again."""

    market_value: Decimal
    gross_market_value: Decimal
    unrealised_pnl_today: Decimal
    _by_symbol: dict[str, Position]

    def __new__(cls, positions: Iterable[Position] = ()) -> Positions:
        items = tuple(positions)
        if any(not isinstance(item, Position) for item in items):
            raise RiskConfigError("snapshot.positions", "must hold Position records only")
        by_symbol = {p.symbol: p for p in items}
        if len(by_symbol) != len(items):
            raise RiskConfigError("snapshot.positions", "must hold one net position per symbol")
        values = [p.market_value for p in items]
        return cls.of_checked(items, by_symbol, sum(values, ZERO), sum(map(abs, values), ZERO),
                              sum((p.unrealised_pnl_today for p in items), ZERO))

    @classmethod
    def of_checked(cls, items: tuple[Position, ...], by_symbol: dict[str, Position], market_value: Decimal,
                   gross_market_value: Decimal, unrealised_pnl_today: Decimal) -> Positions:
        """Positions the caller has checked and summed itself (`by_symbol` is kept: give a copy of one that
        changes). The sums must be those `Positions(items)` computes, except that the day's unrealised P&L may be
        taken from exact reference values where a reference price's division does not terminate (`AccountBook`
        keeps them as running sums, processors/trading/book_positions.py; a test holds them equal)."""
        self = tuple.__new__(cls, items)
        self._by_symbol = by_symbol
        self.market_value = market_value
        self.gross_market_value = gross_market_value
        self.unrealised_pnl_today = unrealised_pnl_today
        return self

    def of(self, symbol: str) -> Position | None:
        return self._by_symbol.get(symbol)


class OpenTrades(tuple):
    """Open trades, checked once, with Σ risk (the open risk), how many opened on each New York date (`opened_on`,
    the legacy rule's day trades to come) and how many each symbol has on each side (`on_side`, the netting
    check). Made by `AccountSnapshot` from what it is given, or kept by the caller between decisions
    (`of_checked`)."""

    risk: Decimal
    _opened_by_day: dict[dt.date, int] | None
    _by_side: dict[tuple[str, str], int] | None

    def __new__(cls, trades: Iterable[OpenTrade] = ()) -> OpenTrades:
        items = tuple(trades)
        if any(not isinstance(item, OpenTrade) for item in items):
            raise RiskConfigError("snapshot.open_trades", "must hold OpenTrade records only")
        return cls.of_checked(items, sum((t.risk for t in items), ZERO))

    @classmethod
    def of_checked(cls, items: tuple[OpenTrade, ...], risk: Decimal, opened_by_day: dict[dt.date, int] | None = None,
                   by_side: dict[tuple[str, str], int] | None = None) -> OpenTrades:
        """Open trades the caller has checked and counted itself (the figures must be those `OpenTrades(items)`
        computes; a count not given is taken from the items when first read)."""
        self = tuple.__new__(cls, items)
        self.risk = risk
        self._opened_by_day = opened_by_day
        self._by_side = by_side
        return self

    @classmethod
    def joined(cls, first: OpenTrades, second: OpenTrades) -> OpenTrades:
        """The trades of both (first, then second), their figures added rather than taken again."""
        if not second:
            return first
        if not first:
            return second
        return cls.of_checked(first + second, first.risk + second.risk,
                              _added(first._opened_by_day, second._opened_by_day),
                              _added(first._by_side, second._by_side))

    def opened_on(self, day: dt.date) -> int:
        """How many of the trades opened on New York date `day`."""
        if self._opened_by_day is None:
            self._opened_by_day = Counter(et_date(t.opened_ns) for t in self)
        return self._opened_by_day.get(day, 0)

    def on_side(self, symbol: str, side: str) -> int:
        """How many of the trades are in `symbol` on `side` (BUY: long, SELL: short)."""
        if self._by_side is None:
            self._by_side = Counter((t.symbol, t.side) for t in self)
        return self._by_side.get((symbol, side), 0)


def _added(first: dict | None, second: dict | None) -> dict | None:
    if first is None or second is None:
        return None
    total = dict(first)
    for key, count in second.items():
        total[key] = total.get(key, 0) + count
    return total


class RoundTrips(tuple):
    """Round trips, checked once (`AccountSnapshot` makes one of what it is given; the account book keeps one,
    extended with `with_trip` as trades close, so an active day's thousand round trips are not checked again
    for every decision)."""

    def __new__(cls, trips: Iterable[RoundTrip] = ()) -> RoundTrips:
        items = tuple(trips)
        if any(not isinstance(item, RoundTrip) for item in items):
            raise RiskConfigError("snapshot.round_trips", "must hold RoundTrip records only")
        return tuple.__new__(cls, items)

    def with_trip(self, trip: RoundTrip) -> RoundTrips:
        if not isinstance(trip, RoundTrip):
            raise RiskConfigError("snapshot.round_trips", "must hold RoundTrip records only")
        return tuple.__new__(RoundTrips, (*self, trip))


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSnapshot:
    """What the account holds and has done, at the instant of the decision."""

    cash: Decimal
    start_of_day_equity: Decimal
    realised_pnl_today: Decimal = ZERO
    trades_today: int = 0                       # trades opened today (closed ones included)
    positions: Sequence[Position] = ()
    open_trades: Sequence[OpenTrade] = ()
    round_trips: Sequence[RoundTrip] = ()       # executed, at least the last 5 business days'
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    cash_ledger: CashLedger | None = None       # required under the cash regime

    def __post_init__(self) -> None:
        set_decimal(self, "cash", "snapshot.")
        set_decimal(self, "start_of_day_equity", "snapshot.", above=0)
        set_decimal(self, "realised_pnl_today", "snapshot.")
        int_field(self.trades_today, "snapshot.trades_today", minimum=0)
        if type(self.positions) is not Positions:
            object.__setattr__(self, "positions", Positions(self.positions))
        if type(self.open_trades) is not OpenTrades:
            object.__setattr__(self, "open_trades", OpenTrades(self.open_trades))
        if type(self.round_trips) is not RoundTrips:
            object.__setattr__(self, "round_trips", RoundTrips(self.round_trips))
        if not isinstance(self.kill_switch, KillSwitch):
            raise RiskConfigError("snapshot.kill_switch", "must be a KillSwitch")
        if self.cash_ledger is not None and not isinstance(self.cash_ledger, CashLedger):
            raise RiskConfigError("snapshot.cash_ledger", "must be a CashLedger or None")

    # The sums over every position and open trade are the containers' own, computed once (module docstring).
    @property
    def equity(self) -> Decimal:
        return self.cash + self.positions.market_value

    @property
    def unrealised_pnl_today(self) -> Decimal:
        return self.positions.unrealised_pnl_today

    @property
    def day_pnl(self) -> Decimal:
        return self.realised_pnl_today + self.unrealised_pnl_today

    @property
    def open_risk(self) -> Decimal:
        return self.open_trades.risk

    @property
    def gross_market_value(self) -> Decimal:
        return self.positions.gross_market_value

    def position(self, symbol: str) -> Position | None:
        return self.positions.of(symbol)

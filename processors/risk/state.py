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

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

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
    _cached_figures: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_decimal(self, "cash", "snapshot.")
        set_decimal(self, "start_of_day_equity", "snapshot.", above=0)
        set_decimal(self, "realised_pnl_today", "snapshot.")
        int_field(self.trades_today, "snapshot.trades_today", minimum=0)
        for name, kind in (("positions", Position), ("open_trades", OpenTrade), ("round_trips", RoundTrip)):
            items = tuple(getattr(self, name))
            if any(not isinstance(item, kind) for item in items):
                raise RiskConfigError(f"snapshot.{name}", f"must hold {kind.__name__} records only")
            object.__setattr__(self, name, items)
        symbols = [p.symbol for p in self.positions]
        if len(symbols) != len(set(symbols)):
            raise RiskConfigError("snapshot.positions", "must hold one net position per symbol")
        if not isinstance(self.kill_switch, KillSwitch):
            raise RiskConfigError("snapshot.kill_switch", "must be a KillSwitch")
        if self.cash_ledger is not None and not isinstance(self.cash_ledger, CashLedger):
            raise RiskConfigError("snapshot.cash_ledger", "must be a CashLedger or None")

    # The figures below are sums over every position or open trade, read several times by one decision:
    # computed once, on first use (the snapshot never changes).
    @property
    def equity(self) -> Decimal:
        return self._figures()[0]

    @property
    def unrealised_pnl_today(self) -> Decimal:
        return self._figures()[1]

    @property
    def day_pnl(self) -> Decimal:
        return self.realised_pnl_today + self.unrealised_pnl_today

    @property
    def open_risk(self) -> Decimal:
        return self._figures()[2]

    @property
    def gross_market_value(self) -> Decimal:
        return self._figures()[3]

    def _figures(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        figures = self._cached_figures
        if figures is None:
            market_values = [p.market_value for p in self.positions]
            figures = (self.cash + sum(market_values, ZERO),
                       sum((p.unrealised_pnl_today for p in self.positions), ZERO),
                       sum((t.risk for t in self.open_trades), ZERO),
                       sum((abs(v) for v in market_values), ZERO))
            object.__setattr__(self, "_cached_figures", figures)
        return figures

    def position(self, symbol: str) -> Position | None:
        return next((p for p in self.positions if p.symbol == symbol), None)

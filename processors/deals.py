"""The deals report: one row per trade, with the columns of `deals.csv` and `GET /api/deals`.

    strategy,ss_type,signal_type,symbol,entry_qty,exit_qty,entry_price,exit_price,entry_time,exit_time,
    pnl,charges,net_pnl,net_pnl_pct,status,comment

Built by a pure function from a typed `Trade` (its entry fills, and its exit fills each with the reason it was
made), so the CLI, the backtest and the API write the same figures:

- One row per trade. Partial exits are folded into it so that quantities add up: `exit_qty` is the sum of the
  exit fills (equal to `entry_qty` once the trade is Completed) and `exit_price` their quantity-weighted
  average; `entry_price` is the average of the entry fills. Prices are exact when the average terminates,
  else rounded to 8 decimal places.
- `pnl`, `charges`, `net_pnl`, `net_pnl_pct` are those of `processors.pnl.trade_pnl`: realised P&L of the
  shares exited so far, every fill's charges so far (entries and exits), net = pnl - charges, and net as a
  percentage of the trade's entry value (4 decimal places). Money is written as exact decimals (plain digits,
  never exponent notation), at least to the cent.
- `status` is Running while shares are open, Completed when the exits sum to the entries.
- `entry_time` is the first entry fill's time, `exit_time` the last exit fill's (empty while nothing was
  exited), ISO-8601 UTC from the fills' integer nanoseconds (`processors.csvio.format_time`).
- `comment` says how the trade closed: the reasons of its exits in the order they happened, each once, joined
  by "; " (`risk reduction; stop-loss` for a trade reduced at its trigger and then stopped out); empty while
  nothing was exited.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from processors.csvio import format_time
from processors.pnl import Direction, Fill, PnlError, trade_pnl

DEALS_COLUMNS = ("strategy", "ss_type", "signal_type", "symbol", "entry_qty", "exit_qty", "entry_price", "exit_price",
                 "entry_time", "exit_time", "pnl", "charges", "net_pnl", "net_pnl_pct", "status", "comment")


class ExitReason(StrEnum):
    """Why shares of a trade were sold (or bought back), in the words of the report's comment column."""

    STOP_LOSS = "stop-loss"
    PROFIT_TARGET = "profit target"
    EXIT_RULE = "exit rule"
    TIME_CLOSE = "time close"
    RISK_REDUCTION = "risk reduction"
    KILL_SWITCH = "kill switch"
    MANUAL = "manual"


class DealStatus(StrEnum):
    RUNNING = "Running"
    COMPLETED = "Completed"


@dataclass(frozen=True, slots=True)
class TradeExit:
    """One exit fill of a trade and the reason it was made."""

    fill: Fill
    reason: ExitReason

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "reason", ExitReason(self.reason))
        except ValueError:
            raise PnlError(f"exit at {self.fill.ts_event}: reason {self.reason!r} is not one of "
                           f"{', '.join(ExitReason)}") from None


@dataclass(frozen=True, slots=True)
class Trade:
    """A trade as the report sees it: who made it, which way, and its fills so far. `ss_type` (SS-Type, e.g.
    intraday or positional) and `signal_type` (SS-signal-Type) are written as given."""

    strategy: str
    ss_type: str
    signal_type: str
    symbol: str
    direction: Direction
    entries: tuple[Fill, ...]
    exits: tuple[TradeExit, ...] = ()
    multiplier: int = 1
    """Units per contract (100 for a U.S. equity option): P&L and values are quantity x price x multiplier."""

    def __post_init__(self) -> None:
        for name in ("strategy", "symbol"):
            if not getattr(self, name):
                raise PnlError(f"a trade's {name} must not be empty")
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise PnlError(f"trade of {self.strategy} in {self.symbol}: direction {self.direction!r} is not long "
                           "or short") from None
        if not self.entries:
            raise PnlError(f"trade of {self.strategy} in {self.symbol}: no entry fill, so not a deal yet")


@dataclass(frozen=True, slots=True)
class DealRow:
    """One row of the deals report, field for field the columns of `DEALS_COLUMNS`."""

    strategy: str
    ss_type: str
    signal_type: str
    symbol: str
    entry_qty: int
    exit_qty: int
    entry_price: Decimal
    exit_price: Decimal | None
    entry_time: str
    exit_time: str
    pnl: Decimal
    charges: Decimal
    net_pnl: Decimal
    net_pnl_pct: Decimal
    status: DealStatus
    comment: str

    def cells(self) -> list[str]:
        """The row as CSV cells in `DEALS_COLUMNS` order."""
        return [_cell(getattr(self, column)) for column in DEALS_COLUMNS]


def deal_row(trade: Trade) -> DealRow:
    """The report's row for `trade`."""
    exit_fills = [exit_.fill for exit_ in trade.exits]
    pnl = trade_pnl(trade.direction, trade.entries, exit_fills, trade.multiplier)
    reasons = list(dict.fromkeys(exit_.reason for exit_ in sorted(trade.exits, key=lambda e: e.fill.ts_event)))
    return DealRow(
        strategy=trade.strategy, ss_type=trade.ss_type, signal_type=trade.signal_type, symbol=trade.symbol,
        entry_qty=pnl.entry_quantity, exit_qty=pnl.exit_quantity, entry_price=pnl.average_entry_price,
        exit_price=pnl.average_exit_price, entry_time=format_time(min(fill.ts_event for fill in trade.entries)),
        exit_time=format_time(max(fill.ts_event for fill in exit_fills)) if exit_fills else "",
        pnl=pnl.realised_pnl, charges=pnl.charges, net_pnl=pnl.net_pnl, net_pnl_pct=pnl.net_pnl_pct,
        status=DealStatus.COMPLETED if pnl.closed else DealStatus.RUNNING,
        comment="; ".join(reasons))


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)

"""Cash accounts: settled funds, T+1 settlement, and good-faith violations, as a fold over the fills.

Definitions used here:
- A sale settles one business day after its trade date (T+1, SEC Rule 15c6-1 since 2024-05-28), a
  business day being an NYSE trading day that is not in `CashLedger.settlement_holidays` (days the
  exchange trades but settlement does not happen, such as Columbus Day and Veterans Day: give them as data).
  Until then its proceeds are pending; on the settlement date they are settled.
- A purchase is paid from settled cash first, then from pending proceeds (earliest settling first). The
  lot it buys remembers when the latest of those unsettled funds settle (`Lot.funds_settle_on`, None when
  settled cash paid for all of it).
- A good-faith violation is the sale of a lot before the funds that paid for it have settled: a sale on a
  day earlier than the lot's `funds_settle_on`. Sales take lots first-in, first-out, the lots held when
  the ledger starts (`CashLedger.opening_lots`) first.
- Entries in a cash account buy with settled funds only (the decision caps the quantity at the settled
  cash), so the platform's own entries never set up a violation; the lots that can are bought outside it
  (at the broker's screen, or by an earlier system), which is why the ledger takes every fill.

The ledger starts at a moment the caller chooses (typically the start of the previous business day) with
the settled cash, the pending proceeds and the lots held at that moment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from processors.risk.account import et_date
from processors.risk.days import TradingDays
from processors.risk.errors import RiskConfigError
from processors.risk.fields import date_field, int_field, set_decimal, text_field

BUY = "BUY"
SELL = "SELL"


@dataclass(frozen=True, slots=True)
class CashFill:
    """One executed fill in a cash account, in the ledger's time order."""

    symbol: str
    side: str          # BUY or SELL
    quantity: int
    price: Decimal
    ts_event: int
    multiplier: int = 1

    def __post_init__(self) -> None:
        text_field(self.symbol, "fill.symbol")
        if self.side not in (BUY, SELL):
            raise RiskConfigError("fill.side", f"must be BUY or SELL, got {self.side!r}")
        int_field(self.quantity, "fill.quantity", minimum=1)
        set_decimal(self, "price", "fill.", above=0)
        int_field(self.ts_event, "fill.ts_event")
        int_field(self.multiplier, "fill.multiplier", minimum=1)

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price * self.multiplier


@dataclass(frozen=True, slots=True)
class PendingSettlement:
    """Sale proceeds of `amount` that settle on `settles_on`."""

    amount: Decimal
    settles_on: dt.date

    def __post_init__(self) -> None:
        set_decimal(self, "amount", "pending.", above=0)
        date_field(self.settles_on, "pending.settles_on")


@dataclass(frozen=True, slots=True)
class Lot:
    """Shares bought together; `funds_settle_on` is when the unsettled funds that paid for them settle
    (None: settled cash paid for all of them)."""

    symbol: str
    quantity: int
    funds_settle_on: dt.date | None = None

    def __post_init__(self) -> None:
        text_field(self.symbol, "lot.symbol")
        int_field(self.quantity, "lot.quantity", minimum=1)
        if self.funds_settle_on is not None:
            date_field(self.funds_settle_on, "lot.funds_settle_on")


@dataclass(frozen=True, slots=True)
class CashLedger:
    settled_cash: Decimal                              # settled cash before the first fill
    pending: Sequence[PendingSettlement] = ()          # proceeds not settled at that moment
    fills: Sequence[CashFill] = ()                     # every fill since, in time order
    opening_lots: Sequence[Lot] = ()                   # the lots held at that moment, oldest first
    settlement_holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        set_decimal(self, "settled_cash", "cash_ledger.")
        object.__setattr__(self, "pending", tuple(self.pending))
        object.__setattr__(self, "fills", tuple(self.fills))
        object.__setattr__(self, "opening_lots", tuple(self.opening_lots))
        object.__setattr__(self, "settlement_holidays", frozenset(self.settlement_holidays))
        if any(b.ts_event < a.ts_event for a, b in zip(self.fills, self.fills[1:])):
            raise RiskConfigError("cash_ledger.fills", "must be in time order (ts_event never decreasing)")


@dataclass(frozen=True, slots=True)
class CashPosition:
    """The ledger folded up to the start of `day`'s trading plus its fills up to the decision."""

    day: dt.date
    settled_cash: Decimal
    pending: tuple[PendingSettlement, ...]
    lots: tuple[Lot, ...]

    @property
    def unsettled_cash(self) -> Decimal:
        return sum((p.amount for p in self.pending), Decimal(0))


class SettlementCalendarError(RiskConfigError):
    """The calendar does not reach a sale's settlement date: give a calendar that covers it."""


def settlement_date(trade_date: dt.date, days: TradingDays, holidays: frozenset[dt.date] = frozenset()) -> dt.date:
    """T+1: the first business day after the trade date on which settlement happens."""
    settles = days.next_business_day(trade_date, holidays)
    if settles is None:
        raise SettlementCalendarError("calendar", f"does not reach the settlement date of a sale on {trade_date}")
    return settles


def fold_ledger(ledger: CashLedger, days: TradingDays, until_ns: int) -> CashPosition:
    """Settled cash, pending proceeds and lots after every fill before `until_ns`, settled as of its date."""
    settled = ledger.settled_cash
    pending = sorted(ledger.pending, key=lambda p: p.settles_on)
    lots: list[Lot] = list(ledger.opening_lots)
    for fill in ledger.fills:
        if fill.ts_event >= until_ns:
            break
        trade_date = et_date(fill.ts_event)
        settled, pending = _settle(settled, pending, trade_date)
        if fill.side == BUY:
            settled, pending, settle_on = _pay(settled, pending, fill.amount)
            lots.append(Lot(fill.symbol, fill.quantity, settle_on))
        else:
            lots = _take(lots, fill.symbol, fill.quantity)
            pending = sorted([*pending, PendingSettlement(fill.amount, settlement_date(
                trade_date, days, ledger.settlement_holidays))], key=lambda p: p.settles_on)
    day = et_date(until_ns)
    settled, pending = _settle(settled, pending, day)
    return CashPosition(day, settled, tuple(pending), tuple(lots))


def good_faith_violation(position: CashPosition, symbol: str, quantity: int) -> Lot | None:
    """The lot a sale of `quantity` of `symbol` on `position.day` would sell before its funds settle, or
    None. The sale takes the symbol's lots first-in, first-out."""
    int_field(quantity, "quantity", minimum=1)
    remaining = quantity
    for lot in (lot for lot in position.lots if lot.symbol == symbol):
        if remaining <= 0:
            break
        if lot.funds_settle_on is not None and lot.funds_settle_on > position.day:
            return lot
        remaining -= lot.quantity
    return None


def _settle(settled: Decimal, pending: list[PendingSettlement], day: dt.date
            ) -> tuple[Decimal, list[PendingSettlement]]:
    due = [p for p in pending if p.settles_on <= day]
    return settled + sum((p.amount for p in due), Decimal(0)), [p for p in pending if p.settles_on > day]


def _pay(settled: Decimal, pending: list[PendingSettlement], cost: Decimal
         ) -> tuple[Decimal, list[PendingSettlement], dt.date | None]:
    """Pay `cost` from settled cash, then from pending proceeds, earliest first."""
    from_settled = min(max(settled, Decimal(0)), cost)
    settled -= from_settled
    owed = cost - from_settled
    settle_on = None
    rest: list[PendingSettlement] = []
    for item in pending:
        if owed > 0:
            used = min(owed, item.amount)
            owed -= used
            settle_on = item.settles_on
            if item.amount > used:
                rest.append(PendingSettlement(item.amount - used, item.settles_on))
        else:
            rest.append(item)
    return settled - owed, rest, settle_on   # a shortfall beyond every fund leaves settled cash negative


def _take(lots: list[Lot], symbol: str, quantity: int) -> list[Lot]:
    """The lots after selling `quantity` of `symbol` first-in, first-out (a sale beyond them takes nothing more)."""
    result = []
    for lot in lots:
        if lot.symbol == symbol and quantity > 0:
            used = min(quantity, lot.quantity)
            quantity -= used
            if lot.quantity > used:
                result.append(Lot(lot.symbol, lot.quantity - used, lot.funds_settle_on))
        else:
            result.append(lot)
    return result

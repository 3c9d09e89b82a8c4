"""Running aggregates for a caller that keeps an account's open trades between risk decisions.

A decision reads the open trades' count, their total risk and how many opened today (state.py), never each
record; summing 1,000 records again for every decision made the decision linear in the open trades. An
`OpenTradeIndex` is told each change (a record put or replaced, a trade gone) and keeps the sums as it goes;
`frozen()` gives the `OpenTrades` a snapshot takes, built again only after a change.

`ExactSum` keeps a Decimal total under additions and removals that equals `sum(values, Decimal(0))` of the
values present, digit for digit: every value here is exact (prices on their grid times whole quantities), so the
running total is exact, and its exponent is brought back to the one a fresh sum has (the smallest exponent of
the values present, and 0 at most), so "1.00" stays "1.00" after a "0.005" came and went.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.risk.account import et_date
from processors.risk.errors import RiskConfigError
from processors.risk.state import OpenTrade, OpenTrades

ZERO = Decimal(0)


class ExactSum:
    """Σ of the Decimal values added and not removed, as `sum(values, Decimal(0))` writes it."""

    __slots__ = ("_total", "_exponents")

    def __init__(self) -> None:
        self._total = ZERO
        self._exponents: dict[int, int] = {}    # exponent -> how many values present have it

    def add(self, value: Decimal) -> None:
        self._total += value
        exponent = value.as_tuple().exponent
        self._exponents[exponent] = self._exponents.get(exponent, 0) + 1

    def remove(self, value: Decimal) -> None:
        """Remove a value added before (the caller's bookkeeping says it was)."""
        exponent = value.as_tuple().exponent
        left = self._exponents.get(exponent, 0) - 1
        if left < 0:
            raise RiskConfigError("running_sum", f"{value} was never added")
        self._total -= value
        if left:
            self._exponents[exponent] = left
        else:
            del self._exponents[exponent]

    @property
    def value(self) -> Decimal:
        exponent = min(0, min(self._exponents, default=0))
        total = self._total
        return total if total.as_tuple().exponent == exponent else total.quantize(Decimal((0, (1,), exponent)))


class OpenTradeIndex:
    """An account's open-trade records by trade id, in the order first put, with Σ risk, the count opened on each
    New York date and the count per symbol and side kept as they change."""

    __slots__ = ("_records", "_risk", "_opened_by_day", "_by_side", "_frozen")

    def __init__(self) -> None:
        self._records: dict[str, OpenTrade] = {}
        self._risk = ExactSum()
        self._opened_by_day: dict[dt.date, int] = {}
        self._by_side: dict[tuple[str, str], int] = {}
        self._frozen: OpenTrades | None = None

    def __len__(self) -> int:
        return len(self._records)

    def get(self, trade_id: str) -> OpenTrade | None:
        return self._records.get(trade_id)

    def put(self, record: OpenTrade) -> None:
        """Add a trade's record, or replace it (keeping its place) when it changed."""
        if not isinstance(record, OpenTrade):
            raise RiskConfigError("open_trades", f"must hold OpenTrade records only, got {record!r}")
        old = self._records.get(record.trade_id)
        if old is record:
            return
        if old is not None:
            self._forget(old)
        self._records[record.trade_id] = record
        self._risk.add(record.risk)
        day = et_date(record.opened_ns)
        self._opened_by_day[day] = self._opened_by_day.get(day, 0) + 1
        side = (record.symbol, record.side)
        self._by_side[side] = self._by_side.get(side, 0) + 1
        self._frozen = None

    def discard(self, trade_id: str) -> None:
        """The trade is no longer open (nothing happens for one not held)."""
        old = self._records.pop(trade_id, None)
        if old is not None:
            self._forget(old)
            self._frozen = None

    def frozen(self) -> OpenTrades:
        """The records as an `OpenTrades` (the same object until the next change)."""
        if self._frozen is None:
            self._frozen = OpenTrades.of_checked(tuple(self._records.values()), self._risk.value,
                                                 dict(self._opened_by_day), dict(self._by_side))
        return self._frozen

    def _forget(self, record: OpenTrade) -> None:
        self._risk.remove(record.risk)
        _count_down(self._opened_by_day, et_date(record.opened_ns))
        _count_down(self._by_side, (record.symbol, record.side))


def _count_down(counts: dict, key: object) -> None:
    left = counts[key] - 1
    if left:
        counts[key] = left
    else:
        del counts[key]

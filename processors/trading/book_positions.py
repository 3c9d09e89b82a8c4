"""The account book's positions as the risk decision reads them (`AccountBook.positions`), kept as they change.

A decision reads Σ market value (equity), Σ |market value| (the margin requirement, capital utilised) and the
day's unrealised P&L, and one position by its symbol; building every record and summing them again for each
decision made it linear in the symbols held. Here a print or a fill marks its symbol changed (`touch`), a day
roll marks them all (`touch_all`), and `positions()` rebuilds only the changed records and moves the running sums
(`processors.risk.running.ExactSum`, equal digit for digit to a fresh sum) by their differences.

The day's unrealised P&L is Σ market value − Σ reference value × multiplier, from the book's exact reference
values (book.py): the same figure as `AccountBook.unrealised_pnl_today`, where Σ of each record's
`unrealised_pnl_today` would take the reference price rounded to 28 digits when its division does not terminate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from processors.risk.running import ExactSum
from processors.risk.state import Position, Positions


class HeldPositions:
    """The `Position` records of an account book's holdings, with running sums (module docstring)."""

    __slots__ = ("_records", "_by_symbol", "_symbols", "_market_value", "_gross", "_reference", "_dirty",
                 "_all_dirty", "_frozen")

    def __init__(self) -> None:
        # symbol -> (key, record, market value, reference value x multiplier)
        self._records: dict[str, tuple[tuple, Position, Decimal, Decimal]] = {}
        self._by_symbol: dict[str, Position] = {}
        self._symbols: list[str] | None = []     # sorted; None: to sort again
        self._market_value = ExactSum()
        self._gross = ExactSum()
        self._reference = ExactSum()
        self._dirty: set[str] = set()
        self._all_dirty = False
        self._frozen: Positions | None = Positions()

    def touch(self, symbol: str) -> None:
        """`symbol`'s holding or mark may have changed."""
        self._dirty.add(symbol)
        self._frozen = None

    def touch_all(self) -> None:
        """Every holding may have changed (a day roll, a restore)."""
        self._all_dirty = True
        self._frozen = None

    def positions(self, holdings: Mapping[str, Any], mark: Callable[[str], Decimal]) -> Positions:
        """The records of `holdings` (symbol -> the book's holding), each marked at `mark(symbol)`."""
        if self._frozen is not None and not self._dirty and not self._all_dirty:
            return self._frozen
        dirty = set(self._records) | set(holdings) if self._all_dirty else self._dirty
        for symbol in dirty:
            self._refresh(symbol, holdings.get(symbol), mark)
        self._dirty = set()
        self._all_dirty = False
        if self._symbols is None:
            self._symbols = sorted(self._by_symbol)
        market_value = self._market_value.value
        self._frozen = Positions.of_checked(tuple(map(self._by_symbol.__getitem__, self._symbols)),
                                            dict(self._by_symbol), market_value, self._gross.value,
                                            market_value - self._reference.value)
        return self._frozen

    def _refresh(self, symbol: str, holding: Any, mark: Callable[[str], Decimal]) -> None:
        old = self._records.get(symbol)
        if holding is None:
            if old is not None:
                self._drop(symbol, old)
                del self._records[symbol], self._by_symbol[symbol]
                self._symbols = None
            return
        key = (holding.quantity, mark(symbol), holding.reference_value, holding.opened_ns, holding.multiplier)
        if old is not None:
            was = old[0]    # the same Decimal objects, not equal ones: 90 and 90.00 are written differently
            if was[1] is key[1] and was[2] is key[2] and was[0] == key[0] and was[3:] == key[3:]:
                return
            self._drop(symbol, old)
        record = Position(symbol=symbol, quantity=key[0], last_price=key[1],
                          reference_price=key[2] / key[0], opened_ns=key[3], multiplier=key[4])
        market_value = record.market_value
        reference = key[2] * key[4]
        self._market_value.add(market_value)
        self._gross.add(abs(market_value))
        self._reference.add(reference)
        self._records[symbol] = (key, record, market_value, reference)
        if old is None:
            self._symbols = None
        self._by_symbol[symbol] = record

    def _drop(self, symbol: str, old: tuple[tuple, Position, Decimal, Decimal]) -> None:
        self._market_value.remove(old[2])
        self._gross.remove(abs(old[2]))
        self._reference.remove(old[3])

"""Margin: Reg-T buying power intraday and overnight, and which positions would not be covered overnight.

With house levels `initial_pct` (Reg-T: 50) and `maintenance_pct` (FINRA: 25), positions valued at their
last prices and `equity` from the account snapshot:

    maintenance requirement   Σ |market value| × maintenance_pct / 100
    initial requirement       Σ |market value| × initial_pct / 100
    intraday buying power     (equity − maintenance requirement) × 100 / maintenance_pct, at least 0
                              ($50,000 equity, nothing held, 25 %: $200,000, 4×)
    overnight buying power    (equity − initial requirement) × 100 / initial_pct, at least 0
                              ($50,000 equity, nothing held, 50 %: $100,000, 2×)

The intraday margin standard (FINRA Rule 4210 as amended by SR-FINRA-2025-017) is modelled as: at no
instant may the account's equity be below the maintenance requirement of what it holds at that instant
(an intraday margin deficit). An entry is therefore accepted only as far as its market value fits the
intraday buying power above, the new position valued at the signal price. The same figure is the
day-trading buying power of a pattern day trader in the legacy regime (4 × maintenance excess; the legacy
rule took the previous close's excess, this model takes the current one). A margin account outside
those cases, and every entry meant to be held overnight, gets the overnight buying power. A cash account
buys with settled cash only (settlement.py). Shorts take the same levels as longs here; a house that
charges shorts more sets higher levels.

Overnight coverage, at the close: a position opened today needs its initial requirement (Reg-T's initial
margin on the day's purchases), one carried from an earlier day its maintenance requirement, a cash
account's longs 100 % and its shorts cannot be held at all. Equity is given to positions carried from
earlier days first, then to today's in the order they were opened; a position whose requirement no longer
fits is flagged as not covered (so closing the flagged positions leaves the rest covered).

Quantities are computed from the excess directly (`units_within`), never from a rounded buying power, so
an exact limit is never crossed by a rounding of the division.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from processors.risk.account import MarginLevels, Regime, et_date
from processors.risk.state import Position, Positions

ZERO = Decimal(0)
CENT = Decimal("0.01")


def requirement(positions: Iterable[Position], rate_pct: Decimal) -> Decimal:
    gross = (positions.gross_market_value if isinstance(positions, Positions)
             else sum((abs(p.market_value) for p in positions), ZERO))
    return gross * rate_pct / 100


def buying_power(equity: Decimal, positions: Iterable[Position], rate_pct: Decimal) -> Decimal:
    """(equity − requirement at `rate_pct`) × 100 / rate_pct, at least 0, in whole cents down."""
    excess = equity - requirement(positions, rate_pct)
    return max(ZERO, excess * 100 / rate_pct).quantize(CENT, ROUND_DOWN)


def intraday_buying_power(equity: Decimal, positions: Iterable[Position], margin: MarginLevels) -> Decimal:
    return buying_power(equity, positions, margin.maintenance_pct)


def overnight_buying_power(equity: Decimal, positions: Iterable[Position], margin: MarginLevels) -> Decimal:
    return buying_power(equity, positions, margin.initial_pct)


def units_within(amount: Decimal, unit_cost: Decimal) -> int:
    """The most whole units costing `unit_cost` each that `amount` pays for (0 when it is not positive)."""
    if amount <= 0:
        return 0
    return int(amount // unit_cost)


def margin_units(equity: Decimal, positions: Iterable[Position], rate_pct: Decimal, price: Decimal,
                 multiplier: int) -> int:
    """The most units at `price` whose requirement at `rate_pct` fits the excess over the positions'."""
    excess = equity - requirement(positions, rate_pct)
    return units_within(excess * 100, price * multiplier * rate_pct)


@dataclass(frozen=True, slots=True)
class PositionCoverage:
    symbol: str
    market_value: Decimal    # |quantity| × last price × multiplier
    rate_pct: Decimal        # the requirement's rate for this position overnight
    requirement: Decimal
    covered: bool


@dataclass(frozen=True, slots=True)
class OvernightCoverage:
    equity: Decimal
    requirement: Decimal          # of every position
    positions: tuple[PositionCoverage, ...]

    @property
    def excess(self) -> Decimal:
        return self.equity - self.requirement

    @property
    def uncovered(self) -> tuple[str, ...]:
        return tuple(p.symbol for p in self.positions if not p.covered)


def overnight_coverage(positions: Iterable[Position], equity: Decimal, margin: MarginLevels, regime: Regime,
                       ts_ns: int) -> OvernightCoverage:
    """Which of the positions held at the instant `ts_ns` (valued at their last prices) would be covered if
    held over the coming night (see the module doc); a position opened on the instant's New York date is
    one of the day's purchases."""
    day = et_date(ts_ns)

    def rate(p: Position) -> Decimal:
        if regime is Regime.CASH:
            return Decimal(100)
        return margin.initial_pct if et_date(p.opened_ns) >= day else margin.maintenance_pct

    ordered = sorted(positions, key=lambda p: (et_date(p.opened_ns) >= day, p.opened_ns, p.symbol))
    used = ZERO
    result = []
    for p in ordered:
        value = abs(p.market_value)
        needed = value * rate(p) / 100
        covered = used + needed <= equity and not (regime is Regime.CASH and p.quantity < 0)
        if covered:
            used += needed
        result.append(PositionCoverage(p.symbol, value, rate(p), needed, covered))
    total = sum((c.requirement for c in result), ZERO)
    return OvernightCoverage(equity, total, tuple(result))

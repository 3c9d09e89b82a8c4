"""Overnight coverage: which positions held now would not be covered over the night (hand-computed)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from processors.risk import MarginLevels, Position, Regime, overnight_coverage

from .conftest import et

D = Decimal
CLOSE = et(2026, 6, 10, 15, 45)   # before the close of Wednesday 2026-06-10


def position(symbol: str, value: int, opened_ns: int, quantity: int = 100) -> Position:
    price = D(value) / abs(quantity)
    return Position(symbol=symbol, quantity=quantity, last_price=price, reference_price=price, opened_ns=opened_ns)


def test_the_position_that_no_longer_fits_is_flagged() -> None:
    # AAA carried from Monday, $40,000 at 25 % maintenance = $10,000; BBB bought 10:00 today $30,000 at 50 %
    # initial = $15,000; CCC bought 11:00 today $20,000 = $10,000. $35,000 needed on $30,000 of equity: CCC.
    positions = (position("CCC", 20_000, et(2026, 6, 10, 11)), position("AAA", 40_000, et(2026, 6, 8, 10)),
                 position("BBB", 30_000, et(2026, 6, 10, 10)))
    coverage = overnight_coverage(positions, D(30_000), MarginLevels(), Regime.INTRADAY_MARGIN, CLOSE)
    assert [(p.symbol, p.rate_pct, p.requirement, p.covered) for p in coverage.positions] == [
        ("AAA", D(25), D(10_000), True), ("BBB", D(50), D(15_000), True), ("CCC", D(50), D(10_000), False)]
    assert coverage.requirement == D(35_000) and coverage.excess == D(-5_000) and coverage.uncovered == ("CCC",)
    assert overnight_coverage(positions, D(35_000), MarginLevels(), Regime.LEGACY_PDT, CLOSE).uncovered == ()


def test_a_cash_account_pays_in_full_and_cannot_hold_a_short() -> None:
    positions = (position("AAA", 10_000, et(2026, 6, 10, 10)), position("BBB", 5_000, et(2026, 6, 10, 11), -100))
    coverage = overnight_coverage(positions, D(50_000), MarginLevels(), Regime.CASH, CLOSE)
    assert [(p.symbol, p.requirement, p.covered) for p in coverage.positions] == [
        ("AAA", D(10_000), True), ("BBB", D(5_000), False)]


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.integers(min_value=1, max_value=100_000), min_size=1, max_size=8),
       equity=st.integers(min_value=0, max_value=200_000))
def test_the_covered_positions_fit_the_equity(values, equity) -> None:
    positions = tuple(position(f"S{i}", v, et(2026, 6, 10 - i % 2, 10, i)) for i, v in enumerate(values))
    coverage = overnight_coverage(positions, D(equity), MarginLevels(), Regime.INTRADAY_MARGIN, CLOSE)
    assert sum(p.requirement for p in coverage.positions if p.covered) <= equity
    assert len(coverage.positions) == len(values)

"""Sizing an entry from its risk, then capping it; every step recorded as a `Check`.

    risk budget      min(max_loss_per_trade, equity × max_loss_per_trade_pct / 100)
    unit risk        |signal price − initial stop| × multiplier        (stops.unit_risk)
    risk quantity    floor(risk budget / unit risk) in whole lots       (never negative)

The risk quantity is then capped; each cap says how many units it allows (`Cap.allowed`, whole lots), and
the entry gets the smallest of them:

    max_open_risk         floor((max_open_risk − open risk now) / unit risk)
    requested_quantity    the strategy's own quantity, when it gives one
    buying_power          the regime's (regimes.py)
    max_position_pct      the symbol's exposure after the entry, valued at the signal price,
                          at most equity × max_position_pct / 100 (an entry against a held position
                          first offsets it)
    max_capital_utilized_pct
                          the gross market value of every position plus the entry's value at the signal
                          price, at most equity × max_capital_utilized_pct / 100

`apply_caps` records, for each cap, the figure at the final quantity (at one lot when nothing fits), its
limit, and whether it was the one that bound (capped), allowed nothing (failed) or left room (passed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from processors.risk.account import RiskLimits
from processors.risk.checks import Check, CheckOutcome
from processors.risk.margin import units_within
from processors.risk.state import AccountSnapshot
from processors.risk.stops import BUY

ZERO = Decimal(0)
PCT_PLACES = Decimal("0.000001")


def percent(part: Decimal, whole: Decimal) -> Decimal:
    """`part` as % of `whole`, to 6 decimal places (for the explanation; limits compare exact figures)."""
    return (part * 100 / whole).quantize(PCT_PLACES, ROUND_HALF_EVEN)


def in_lots(units: int, lot_size: int) -> int:
    """`units` rounded down to whole lots, never negative."""
    return max(0, units) // lot_size * lot_size


def risk_budget(limits: RiskLimits, equity: Decimal) -> tuple[Decimal, Check]:
    by_pct = max(ZERO, equity * limits.max_loss_per_trade_pct / 100)
    budget = min(limits.max_loss_per_trade, by_pct)
    return budget, Check("risk_budget", budget, limits.max_loss_per_trade, CheckOutcome.PASSED,
                         f"min(max_loss_per_trade {limits.max_loss_per_trade}, equity {equity} × "
                         f"{limits.max_loss_per_trade_pct} % = {by_pct})")


def risk_quantity(budget: Decimal, unit_risk: Decimal, lot_size: int) -> int:
    """floor(budget / unit risk) in whole lots; 0 for a budget at or below zero."""
    return in_lots(units_within(budget, unit_risk), lot_size)


@dataclass(frozen=True, slots=True)
class Cap:
    name: str
    allowed: int                              # units, whole lots
    limit: Decimal
    measure: Callable[[int], Decimal]         # the figure the limit applies to, at a quantity
    detail: str


def apply_caps(baseline: int, caps: Sequence[Cap], lot_size: int) -> tuple[int, tuple[Check, ...]]:
    """The smallest of `baseline` and every cap's allowance, and a check per cap."""
    final = min([baseline, *(cap.allowed for cap in caps)])
    shown = final if final > 0 else lot_size
    checks = []
    for cap in caps:
        if cap.allowed <= 0:
            outcome = CheckOutcome.FAILED
        elif cap.allowed == final and final < baseline:
            outcome = CheckOutcome.CAPPED
        else:
            outcome = CheckOutcome.PASSED
        checks.append(Check(cap.name, cap.measure(shown), cap.limit, outcome,
                            f"{cap.detail}; allows {cap.allowed}", cap.allowed))
    return final, tuple(checks)


def open_risk_cap(limits: RiskLimits, snapshot: AccountSnapshot, unit_risk: Decimal, lot_size: int) -> Cap:
    current = snapshot.open_risk
    room = limits.max_open_risk - current
    return Cap("max_open_risk", in_lots(units_within(room, unit_risk), lot_size), limits.max_open_risk,
               lambda q: current + q * unit_risk,
               f"open risk {current} + quantity × unit risk {unit_risk}, room {room}")


def requested_cap(requested: int, lot_size: int) -> Cap:
    return Cap("requested_quantity", in_lots(requested, lot_size), Decimal(requested), lambda q: Decimal(q),
               f"the strategy asks for {requested} in lots of {lot_size}")


def position_cap(limits: RiskLimits, snapshot: AccountSnapshot, equity: Decimal, symbol: str, side: str,
                 price: Decimal, multiplier: int, lot_size: int) -> Cap:
    held = snapshot.position(symbol)
    held_units = held.quantity if held else 0
    sign = 1 if side == BUY else -1
    unit_value = price * multiplier
    limit_units = units_within(equity * limits.max_position_pct / 100, unit_value)
    allowed = limit_units - abs(held_units) if sign * held_units >= 0 else limit_units + abs(held_units)
    return Cap("max_position_pct", in_lots(allowed, lot_size), limits.max_position_pct,
               lambda q: percent(abs(held_units + sign * q) * unit_value, equity),
               f"|{held_units} held + the entry| × {unit_value} as % of equity {equity}")


def capital_cap(limits: RiskLimits, snapshot: AccountSnapshot, equity: Decimal, price: Decimal, multiplier: int,
                lot_size: int) -> Cap:
    gross = snapshot.gross_market_value
    unit_value = price * multiplier
    room = equity * limits.max_capital_utilized_pct / 100 - gross
    return Cap("max_capital_utilized_pct", in_lots(units_within(room, unit_value), lot_size),
               limits.max_capital_utilized_pct, lambda q: percent(gross + q * unit_value, equity),
               f"gross market value {gross} + quantity × {unit_value} as % of equity {equity}")

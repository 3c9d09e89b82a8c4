"""The initial stop of an entry (TM-Isp) and the per-unit risk it sets.

An entry's stop comes from one of three settings:

    StopPercent(pct)      `pct` % of the signal price away from it (2 -> a long at 100.00 stops at 98.00)
    StopAmount(amount)    a fixed distance in price units (0.75 -> a long at 100.00 stops at 99.25)
    StopPrice(price)      a price the caller computed, e.g. by evaluating the rule `swing_low(SPY, 5m)`;
                          `source` keeps the rule text for the explanation

The stop is put on the instrument's tick grid (`processors.instruments.ticks.round_to_tick`) away from
the price: a long's stop rounds down, a short's up. That is the conservative direction for sizing: the
per-unit risk is never smaller than the setting asked for, so the quantity sized from it never risks more
than the budget at the stop the setting meant, and a stop under a swing low stays under it.

A stop on the wrong side of the price for the side (a long's at or above the price, a short's at or below)
or at or below zero is refused with the reason. When a stop is too far for even one lot to fit the risk
room left and the account says `adjust`, `tighten_stop` moves it towards the price; that stop rounds
towards the price (the risk shrinks to fit) and is refused when it would come within one tick of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from processors.instruments.ticks import round_to_tick
from processors.risk.checks import Check, CheckOutcome
from processors.risk.fields import set_decimal, text_field

BUY = "BUY"
SELL = "SELL"


@dataclass(frozen=True, slots=True)
class StopPercent:
    pct: Decimal

    def __post_init__(self) -> None:
        set_decimal(self, "pct", "stop.", above=0, maximum=100)

    def raw(self, side: str, price: Decimal) -> Decimal:
        distance = price * self.pct / 100
        return price - distance if side == BUY else price + distance

    def describe(self) -> str:
        return f"{self.pct} % of the price"


@dataclass(frozen=True, slots=True)
class StopAmount:
    amount: Decimal

    def __post_init__(self) -> None:
        set_decimal(self, "amount", "stop.", above=0)

    def raw(self, side: str, price: Decimal) -> Decimal:
        return price - self.amount if side == BUY else price + self.amount

    def describe(self) -> str:
        return f"{self.amount} from the price"


@dataclass(frozen=True, slots=True)
class StopPrice:
    price: Decimal
    source: str = "given"

    def __post_init__(self) -> None:
        set_decimal(self, "price", "stop.")
        text_field(self.source, "stop.source")

    def raw(self, side: str, price: Decimal) -> Decimal:
        return self.price

    def describe(self) -> str:
        return f"{self.price} from {self.source}"


StopSpec = StopPercent | StopAmount | StopPrice


def initial_stop(side: str, price: Decimal, spec: StopSpec, tick: Decimal) -> tuple[Decimal | None, Check]:
    """The stop on the tick grid, rounded away from `price`, and the check that explains it (failed, with
    None for the stop, when it is on the wrong side of the price or not above zero)."""
    direction = "a long" if side == BUY else "a short"
    stop = round_to_tick(spec.raw(side, price), tick, "buy" if side == BUY else "sell")
    detail = f"{direction}'s stop at {spec.describe()}, on the {tick} grid away from {price}: {stop}"
    wrong_side = stop >= price if side == BUY else stop <= price
    if stop <= 0:
        return None, Check("initial_stop", stop, price, CheckOutcome.FAILED, f"{detail}; a stop must be above zero")
    if wrong_side:
        where = "below" if side == BUY else "above"
        return None, Check("initial_stop", stop, price, CheckOutcome.FAILED,
                           f"{detail}; the stop of {direction} must be {where} the price")
    return stop, Check("initial_stop", stop, price, CheckOutcome.PASSED, detail)


def unit_risk(price: Decimal, stop: Decimal, multiplier: int) -> Decimal:
    """What one unit (share, contract) loses from `price` to `stop`: |price - stop| × multiplier."""
    return abs(price - stop) * multiplier


def tighten_stop(side: str, price: Decimal, max_distance: Decimal, tick: Decimal) -> Decimal | None:
    """The stop at most `max_distance` from `price`, on the grid towards the price; None within one tick."""
    raw = price - max_distance if side == BUY else price + max_distance
    stop = round_to_tick(raw, tick, "sell" if side == BUY else "buy")
    if (side == BUY and (stop >= price or stop <= 0)) or (side == SELL and stop <= price):
        return None
    return stop

"""A trade's profit and loss from its fills: realised, net of charges, as a percentage, and unrealised at a mark.

A trade opens with entry fills (buys for a long, sells for a short) and closes with exit fills; an exit may be
partial, and the entries and exits may each come in several fills at different prices. Quantities add up: a
trade is closed when its exits sum to its entries, and exits never exceed them. Everything is exact `Decimal`
arithmetic on whole-share quantities (a float is refused):

    entry value          sum of entry quantity x price                (exact)
    exit value           sum of exit quantity x price                 (exact)
    average entry price  entry value / entry quantity                 (average cost over all entry fills)
    realised P&L         long:  exit value - cost of the shares exited
                         short: cost of the shares exited - exit value
                         where the cost of the shares exited is entry value x exit quantity / entry quantity;
                         for a closed trade that is the entry value itself, so realised P&L is exactly
                         sum((exit - entry) x quantity) for a long, its negative for a short
    charges              sum of every fill's charges (commission and regulatory fees, entries and exits)
    net P&L              realised P&L - charges
    net P&L %            net P&L / entry value x 100: the return on the capital the trade committed (for a
                         short, the proceeds of the short sale), after all charges paid so far; 4 decimal
                         places, half up
    unrealised P&L       at a mark price, on the shares still open: long (mark - average entry) x open
                         quantity, short the reverse; before the charges of the exits not yet made

Where a division does not terminate (an average price, or the cost of a partial exit when the entry value does
not divide by the entry quantity), prices are rounded to 8 decimal places (the platform's price precision) and
money to the cent; every other figure is exact. Realised and unrealised P&L always add up exactly to the
trade's total P&L at the mark (the unrealised part takes the remainder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from schemas.errors import TradestreamError

CENT = Decimal("0.01")
MONEY_PLACES = 2
PRICE_PLACES = 8
PERCENT_PLACES = 4


class PnlError(TradestreamError, ValueError):
    """A trade's fills do not describe a trade (no entry, exits beyond the entries, a float price, a quantity
    that is not positive). The message names the fill; fix the caller's data, do not retry."""


class Direction(StrEnum):
    """Which way a trade makes money: long (buy, then sell) or short (sell, then buy back)."""

    LONG = "long"
    SHORT = "short"

    @property
    def sign(self) -> int:
        return 1 if self is Direction.LONG else -1


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of a trade: `quantity` shares at `price` at `ts_event` (integer ns UTC), and everything
    it was charged (commission and regulatory fees, in dollars)."""

    ts_event: int
    quantity: int
    price: Decimal
    charges: Decimal = Decimal("0.00")

    def __post_init__(self) -> None:
        if isinstance(self.quantity, bool) or not isinstance(self.quantity, int) or self.quantity <= 0:
            raise PnlError(f"fill at {self.ts_event}: quantity must be a positive int, not {self.quantity!r}")
        for name in ("price", "charges"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise PnlError(f"fill at {self.ts_event}: {name} must be a finite Decimal, not {value!r}")
        if self.price <= 0:
            raise PnlError(f"fill at {self.ts_event}: price must be positive, not {self.price}")
        if self.charges < 0:
            raise PnlError(f"fill at {self.ts_event}: charges must not be negative, not {self.charges}")

    @property
    def value(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class TradePnl:
    """The figures of one trade from its fills so far (see the module docstring for each definition)."""

    direction: Direction
    entry_quantity: int
    exit_quantity: int
    entry_value: Decimal
    exit_value: Decimal
    average_entry_price: Decimal
    average_exit_price: Decimal | None
    realised_pnl: Decimal
    charges: Decimal
    net_pnl: Decimal
    net_pnl_pct: Decimal
    multiplier: int = 1

    @property
    def open_quantity(self) -> int:
        return self.entry_quantity - self.exit_quantity

    @property
    def closed(self) -> bool:
        return self.open_quantity == 0

    def total_pnl_at(self, mark_price: Decimal) -> Decimal:
        """Realised plus unrealised P&L if the open shares were worth `mark_price` (before further charges)."""
        mark_price = _require_mark(mark_price)
        return self.direction.sign * (self.exit_value + self.open_quantity * mark_price * self.multiplier
                                      - self.entry_value)

    def unrealised_pnl(self, mark_price: Decimal) -> Decimal:
        """The P&L of the open shares at `mark_price`; zero once the trade is closed."""
        return _money(self.total_pnl_at(mark_price) - self.realised_pnl)


def average_price(fills: Sequence[Fill]) -> Decimal:
    """The quantity-weighted average price of `fills`: exact when it terminates, else to 8 decimal places."""
    if not fills:
        raise PnlError("the average price of no fills is undefined")
    return average_of(sum((fill.value for fill in fills), Decimal(0)), sum(fill.quantity for fill in fills))


def average_of(value: Decimal, quantity: int) -> Decimal:
    """The average price of `quantity` units worth `value` in all (sum of quantity x price): exact when it
    terminates, else to 8 decimal places, as `average_price`."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise PnlError(f"the average price of {quantity!r} units is undefined")
    return _price(Fraction(value) / quantity)


def trade_pnl(direction: Direction | str, entries: Sequence[Fill], exits: Sequence[Fill] = (),
              multiplier: int = 1) -> TradePnl:
    """The P&L of a trade from its entry and exit fills so far; `multiplier` units per contract (100 for a U.S.
    equity option): values and P&L are in dollars, prices and quantities per contract as filled."""
    if isinstance(multiplier, bool) or not isinstance(multiplier, int) or multiplier < 1:
        raise PnlError(f"multiplier must be a whole number of at least 1, not {multiplier!r}")
    try:
        direction = Direction(direction)
    except ValueError:
        raise PnlError(f"direction must be long or short, not {direction!r}") from None
    if not entries:
        raise PnlError("a trade has at least one entry fill")
    entry_quantity = sum(fill.quantity for fill in entries)
    exit_quantity = sum(fill.quantity for fill in exits)
    if exit_quantity > entry_quantity:
        raise PnlError(f"exits of {exit_quantity} shares exceed the entries of {entry_quantity}")
    entry_value = _money(sum((fill.value for fill in entries), Decimal(0)) * multiplier)
    exit_value = _money(sum((fill.value for fill in exits), Decimal(0)) * multiplier)
    if exit_quantity == entry_quantity:
        cost_of_exited = entry_value
    else:
        cost_of_exited = _money_of(Fraction(entry_value) * exit_quantity / entry_quantity)
    realised = _money(direction.sign * (exit_value - cost_of_exited))
    charges = _money(sum((fill.charges for fill in (*entries, *exits)), Decimal(0)))
    net = _money(realised - charges)
    return TradePnl(
        direction=direction, entry_quantity=entry_quantity, exit_quantity=exit_quantity, entry_value=entry_value,
        exit_value=exit_value, average_entry_price=average_price(entries),
        average_exit_price=average_price(exits) if exits else None, realised_pnl=realised, charges=charges,
        net_pnl=net, net_pnl_pct=_round_half_up(Fraction(net) * 100 / Fraction(entry_value), PERCENT_PLACES),
        multiplier=multiplier)


def _require_mark(mark_price: Decimal) -> Decimal:
    if not isinstance(mark_price, Decimal) or not mark_price.is_finite() or mark_price <= 0:
        raise PnlError(f"mark_price must be a finite positive Decimal, not {mark_price!r}")
    return mark_price


def _money(value: Decimal) -> Decimal:
    """An exact amount shown with at least two decimal places (never rounded); zero is never negative."""
    if value == 0:
        value = abs(value)
    return value.quantize(CENT) if int(value.as_tuple().exponent) > -MONEY_PLACES else value


def _money_of(value: Fraction) -> Decimal:
    return _money(_exact_or_rounded(value, MONEY_PLACES))


def _price(value: Fraction) -> Decimal:
    return _money(_exact_or_rounded(value, PRICE_PLACES))


def _exact_or_rounded(value: Fraction, places: int) -> Decimal:
    """`value` exactly if its decimal expansion terminates, else rounded to `places` (no tie is possible)."""
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return _round_half_up(value, places)
    digits = max(twos, fives)
    return Decimal(f"{value.numerator * (10**digits // value.denominator)}e-{digits}")


def _round_half_up(value: Fraction, places: int) -> Decimal:
    """`value` to `places` decimal places, halves away from zero (Decimal's ROUND_HALF_UP)."""
    scaled = abs(value) * 10**places
    whole, remainder = divmod(scaled.numerator, scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        whole += 1
    return Decimal(f"{'-' if value < 0 and whole else ''}{whole}e-{places}")

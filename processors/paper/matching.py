"""Whether a range of prices reaches an order, and at what price it fills. Pure functions of one order.

A print is the degenerate range open = high = low = its price; a bar is (open, high, low), its open being
the first price of the bar and every other price coming after it, in an unknown path. One set of rules
serves both, and a rule for prints gives the same answer for a bar whose range is one price.

For a BUY (a SELL is the mirror image):

    MARKET       fills at the open (the next print; in bars-only mode the next bar's open)
    LIMIT L      on arrival (the first range that reaches the order): if the open is at or below L the order
                 is marketable and fills at the open (better than or equal to L); otherwise it rests.
                 A resting limit fills at L when the low is at or below L, even if the price gapped through
                 (a resting bid is the price a seller meets).
    STOP S       triggered when the high is at or above S, then a market order: if the open is at or above S
                 (a gap) it fills at the open, the first price beyond the stop; otherwise at S, the first price
                 of the path at the stop. A triggered stop left unfilled (no printed size) fills at the next open.
    STOP_LIMIT   triggered like a stop at the trigger price T (the open on a gap, S otherwise); it then arrives
    S, L         as a limit at T: it fills at T if T is at or below L. If not, it rests at L; when the trigger
                 was the open, the rest of the bar follows it, so a low at or below L fills it at L in the same
                 bar; when the trigger was inside the bar the order waits for the next range (the low may have
                 come before the trigger).

`fill_price` then applies the slippage in ticks, against the order, on its tick grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from processors.paper.orders import OrderState, OrderType, Side


@dataclass(frozen=True, slots=True)
class PriceRange:
    """The prices of one print (all equal) or one bar: its open, high and low."""

    open: Decimal
    high: Decimal
    low: Decimal

    @classmethod
    def of_print(cls, price: Decimal) -> PriceRange:
        return cls(price, price, price)


@dataclass(frozen=True, slots=True)
class Match:
    """What one range does to one order: `trigger_price` if it triggered a stop now, `price` the price it fills
    at before slippage (None: no fill)."""

    trigger_price: Decimal | None = None
    price: Decimal | None = None


NO_MATCH = Match()


def at_or_through_limit(side: Side, price: Decimal, limit: Decimal) -> bool:
    """A print at `price` would fill a `side` limit at `limit`: at or below it for a buy, at or above for a sell."""
    return price <= limit if side is Side.BUY else price >= limit


def at_or_through_stop(side: Side, price: Decimal, stop: Decimal) -> bool:
    """A print at `price` triggers a `side` stop at `stop`: at or above it for a buy, at or below for a sell."""
    return price >= stop if side is Side.BUY else price <= stop


def _toward_limit(side: Side, prices: PriceRange) -> Decimal:
    return prices.low if side is Side.BUY else prices.high


def _toward_stop(side: Side, prices: PriceRange) -> Decimal:
    return prices.high if side is Side.BUY else prices.low


def _limit(side: Side, limit: Decimal, prices: PriceRange, arriving_at: Decimal | None) -> Decimal | None:
    """The fill price of a limit, arriving now at `arriving_at` (None: it rests), or None."""
    if arriving_at is not None and at_or_through_limit(side, arriving_at, limit):
        return arriving_at
    return limit if at_or_through_limit(side, _toward_limit(side, prices), limit) else None


def match(order: OrderState, prices: PriceRange) -> Match:
    """What `prices` does to `order` (a working order with shares left), by the rules of the module docstring."""
    side = order.side
    if order.order_type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
        assert order.stop_price is not None
        if not at_or_through_stop(side, _toward_stop(side, prices), order.stop_price):
            return NO_MATCH
        gap = at_or_through_stop(side, prices.open, order.stop_price)
        trigger = prices.open if gap else order.stop_price
        if order.order_type is OrderType.STOP:
            return Match(trigger, trigger)
        assert order.limit_price is not None
        if at_or_through_limit(side, trigger, order.limit_price):
            return Match(trigger, trigger)
        return Match(trigger, _limit(side, order.limit_price, prices, None) if gap else None)
    if order.order_type in (OrderType.MARKET, OrderType.STOP):
        return Match(None, prices.open)
    assert order.limit_price is not None
    return Match(None, _limit(side, order.limit_price, prices, None if order.resting else prices.open))


def fill_price(order: OrderState, base: Decimal, slippage_ticks: int) -> Decimal:
    """`base` moved onto the order's tick grid against the order (a buy up, a sell down: a print off the grid
    never flatters a fill), then `slippage_ticks` ticks against it; a limit fill is capped at its limit
    price, and a sell never goes below one tick."""
    tick = order.tick_size
    if order.side is Side.BUY:
        price = (base / tick).to_integral_value(rounding=ROUND_CEILING) * tick + slippage_ticks * tick
        if order.limit_like and order.limit_price is not None:
            price = min(price, order.limit_price)
        return price
    price = (base / tick).to_integral_value(rounding=ROUND_FLOOR) * tick - slippage_ticks * tick
    if order.limit_like and order.limit_price is not None:
        price = max(price, order.limit_price)
    return max(price, tick)

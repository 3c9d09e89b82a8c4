"""The reasons an order, a bracket or a modification is refused, in words (None: acceptable).

Only values are judged here; types were checked when the records were built."""

from __future__ import annotations

from decimal import Decimal

from processors.paper.orders import BracketOrder, OrderType, PaperOrder, Side

NEEDS_LIMIT = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT})
NEEDS_STOP = frozenset({OrderType.STOP, OrderType.STOP_LIMIT})


def price_problem(price: Decimal, tick_size: Decimal, name: str) -> str | None:
    """Why `price` cannot be an order price on the grid of `tick_size`."""
    if not price.is_finite() or price <= 0:
        return f"{name} must be a positive price, got {price}"
    if price % tick_size != 0:
        return f"{name} {price} is off the tick grid of {tick_size}"
    return None


def order_problem(order: PaperOrder) -> str | None:
    """Why `order` cannot be placed."""
    if not order.client_order_id.strip():
        return "client_order_id must not be empty"
    if not order.symbol.strip():
        return "symbol must not be empty"
    if order.quantity <= 0:
        return f"quantity must be a positive number of shares, got {order.quantity}"
    if not order.tick_size.is_finite() or order.tick_size <= 0:
        return f"tick_size must be positive, got {order.tick_size}"
    for name, price, needed in (("limit_price", order.limit_price, order.order_type in NEEDS_LIMIT),
                                ("stop_price", order.stop_price, order.order_type in NEEDS_STOP)):
        if needed and price is None:
            return f"a {order.order_type} order needs a {name}"
        if not needed and price is not None:
            return f"a {order.order_type} order takes no {name}, got {price}"
        if price is not None and (problem := price_problem(price, order.tick_size, name)):
            return problem
    return None


def bracket_prices_problem(side: Side, entry_prices: tuple[Decimal | None, ...], stop_price: Decimal | None,
                           target_price: Decimal | None) -> str | None:
    """Why a bracket whose entry is `side` at `entry_prices` (its limit and stop prices, None where absent
    or no longer working) cannot have its stop at `stop_price` and its target at `target_price` (None:
    that child no longer works). A long's stop is below the entry and the target above; a short's mirrored."""
    below, above = ("stop_price", "target_price") if side is Side.BUY else ("target_price", "stop_price")
    low = stop_price if side is Side.BUY else target_price
    high = target_price if side is Side.BUY else stop_price
    if low is not None and high is not None and not low < high:
        return f"the {below} {low} must be below the {above} {high} for a {side} entry"
    for price in entry_prices:
        if price is None:
            continue
        if low is not None and not low < price:
            return f"the {below} {low} must be below the entry's price {price} for a {side} entry"
        if high is not None and not price < high:
            return f"the {above} {high} must be above the entry's price {price} for a {side} entry"
    return None


def bracket_problem(bracket: BracketOrder) -> str | None:
    """Why `bracket` cannot be placed."""
    entry = bracket.entry
    if problem := order_problem(entry):
        return problem
    for name, price in (("stop_price", bracket.stop_price), ("target_price", bracket.target_price)):
        if problem := price_problem(price, entry.tick_size, name):
            return problem
    return bracket_prices_problem(entry.side, (entry.limit_price, entry.stop_price), bracket.stop_price,
                                  bracket.target_price)

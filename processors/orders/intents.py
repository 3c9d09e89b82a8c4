"""From a signal to the order it asks for: contract, routing, type, prices on the tick grid, size.

Pure and deterministic: the client order id is derived from the signal id, so a replay or a
restart produces the same id and the execution capability (IBKR `orderRef`) can refuse a second
order. Nothing here talks to a broker.

Prices, for a signal price P rounded to the instrument's tick T on the passive side (a buy rounds
down, a sell up), `limit_offset_ticks` L and `stop_offset_ticks` S:
- LIMIT: buy P + L·T, sell P − L·T (L > 0 pays up to be filled).
- STOP: buy P + S·T, sell P − S·T (the breakout level beyond the signal price).
- STOP_LIMIT: the stop as above; the limit L ticks beyond the stop.
Options are chosen from a chain by right, category and expiry (`processors.instruments.options`);
their premium is not known from the underlying's signal, so option orders carry the underlying
reference price and no limit/stop price unless the order type is MARKET; the detail says so.
Futures are ordered in the front contract that is not within its roll window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from processors.instruments.futures import contract_symbol, expiry_date
from processors.instruments.dates import business_days_before
from processors.instruments.options import OptionChain, select_expiry, select_strike
from processors.instruments.ticks import equity_tick_size, futures_spec, round_to_tick
from processors.model import OrderIntentCreated, SignalGenerated
from processors.settings.effects import option_category_split
from processors.settings.universal import UniversalSettings
from schemas.errors import TradestreamError


class IntentError(TradestreamError, ValueError):
    """The signal cannot be turned into an order (no chain, no contract): record it, send nothing."""


def client_order_id(signal_id: str) -> str:
    return "ts-" + hashlib.sha256(f"{signal_id}|order".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class Priced:
    order_type: str
    limit_price: Decimal | None
    stop_price: Decimal | None


def order_prices(order_type: str, side: str, price: Decimal, tick: Decimal, limit_offset_ticks: int,
                 stop_offset_ticks: int) -> Priced:
    kind = order_type.upper()
    if kind == "MARKET":
        return Priced(kind, None, None)
    direction = 1 if side == "BUY" else -1
    base = round_to_tick(price, tick, "buy" if side == "BUY" else "sell")
    stop = base + direction * stop_offset_ticks * tick
    if kind == "LIMIT":
        return Priced(kind, base + direction * limit_offset_ticks * tick, None)
    if kind == "STOP":
        return Priced(kind, None, stop)
    if kind == "STOP_LIMIT":
        return Priced(kind, stop + direction * limit_offset_ticks * tick, stop)
    raise ValueError(f"order_type {order_type!r} is not market, limit, stop or stop_limit")


def front_futures_contract(root: str, day: dt.date, roll_days: int, holidays: Collection[dt.date] = frozenset()) -> str:
    """The first listed contract month whose roll date (roll_days business days before expiry) is after `day`."""
    spec = futures_spec(root)
    for year in (day.year, day.year + 1, day.year + 2):
        for month in spec.month_numbers:
            expiry = expiry_date(spec, year, month, holidays)
            if business_days_before(expiry, roll_days, holidays) > day:
                return contract_symbol(root, year, month)
    raise IntentError(f"no {root} contract found after {day}")


def build_intent(signal: SignalGenerated, config: Any, trading_day: dt.date,
                 option_chain: Callable[[str], OptionChain | None] = lambda symbol: None,
                 holidays: Collection[dt.date] = frozenset(),
                 settings: UniversalSettings | None = None) -> OrderIntentCreated:
    """The order intent of `signal` under the scanner `config` (its `instrument`, `option`, `futures`,
    `order` and `mode` settings). An option section without a category split uses the universal `settings`'
    default split (those in force at the signal's time; the instruments module's default without them)."""
    order = config.order
    instrument = config.instrument.upper()
    price = signal.price
    detail = ""
    if instrument == "OPTION":
        option = config.option
        chain = option_chain(signal.symbol)
        if chain is None:
            raise IntentError(f"no option chain for {signal.symbol}: cannot pick a {option.category} {option.right}")
        # A buy signal buys the configured right; a sell signal on a long-only option scanner sells it back.
        expiry = select_expiry(chain.expiries, trading_day, config.expiry, option.min_days_to_expiry, holidays)
        split = option_category_split(option.category_split, settings)
        contract = select_strike(chain, price, option.right, option.category, expiry, split)
        name = contract.symbol
        tick = Decimal("0.01")
        multiplier = contract.multiplier
        detail = (f"{option.category} {option.right} expiring {expiry} strike {contract.strike} for "
                  f"{signal.symbol} at {price}; premium not known here")
        priced = Priced(order.order_type.upper(), None, None)
    elif instrument == "FUTURES":
        futures = config.futures
        name = front_futures_contract(futures.root, trading_day, futures.roll_days, holidays)
        spec = futures_spec(futures.root)
        tick, multiplier = spec.tick, order.multiplier
        priced = order_prices(order.order_type, signal.side, price, tick, order.limit_offset_ticks,
                              order.stop_offset_ticks)
        detail = f"front contract {name} (roll {futures.roll_days} business days before expiry)"
    else:
        name = signal.symbol
        tick, multiplier = equity_tick_size(price), order.multiplier
        priced = order_prices(order.order_type, signal.side, price, tick, order.limit_offset_ticks,
                              order.stop_offset_ticks)
    return OrderIntentCreated(
        client_order_id=client_order_id(signal.signal_id), signal_id=signal.signal_id, strategy=signal.strategy,
        mode=config.mode.upper(), symbol=signal.symbol, instrument=instrument, contract=name, side=signal.side,
        ts_event=signal.ts_event, ts_init=signal.ts_init, exchange=order.exchange.upper(),
        order_type=priced.order_type, limit_price=priced.limit_price, stop_price=priced.stop_price, tick_size=tick,
        reference_price=price, product=order.product.upper(), quantity=order.quantity, multiplier=multiplier,
        detail=detail)

"""What a strategy knows about the market at an instant: the values its rules ask for.

Fed, in event-time order, with trades, closed bars and indicator snapshots (the same events the
live stages publish); answers a rule requirement `(kind, symbol, timeframe)` with a float or None
(not yet defined). Pure: times come from the events.

- `price(SYM)` is the last trade's price. When a symbol has no trades (a backtest over bars only)
  it is the close of its latest bar of any timeframe, known at the bar's end.
  "Last" and "latest" are in event time: a trade or bar older than the symbol's latest price update
  (a late print; a strategy bar closed late, after a finer bar of the next bucket set the price)
  changes nothing of the price state: not the price, its update time, the day's last regular-session
  price nor the reference price. A bar still joins the bar history.
- Bar functions (`open`, `high`, `low`, `close`, `volume`) read the last closed bar of the timeframe;
  indicator functions read the latest IndicatorSnapshot; `donchian_*` with a period other than the
  snapshot's is computed from the kept bar history.
- `correlation(A, B, TF, N)` is computed from the two symbols' closes on the bars they share
  (same start), the last N+1 of them, with `processors.rules.rolling_correlation`.
- The reference price for the sanity check is the previous trading day's last regular-session
  price (equities' previous close); `set_reference` takes a settlement price for futures.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import numpy as np

from processors.indicators.indicator_set import IndicatorSnapshot
from processors.model import Bar, TradeTick
from processors.rules import rolling_correlation

EASTERN = ZoneInfo("America/New_York")
BAR_FIELDS = {"open", "high", "low", "close", "volume"}
SNAPSHOT_FIELDS = {"swing_high": "swing_high", "swing_low": "swing_low", "fractal_high": "fractal_high",
                   "fractal_low": "fractal_low", "atr": "atr", "donchian_upper": "dc_upper",
                   "donchian_lower": "dc_lower", "donchian_mid": "dc_mid", "pivot": "pivot", "r1": "r1", "r2": "r2",
                   "r3": "r3", "s1": "s1", "s2": "s2", "s3": "s3"}


def et_date(ts_ns: int) -> dt.date:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, EASTERN).date()


@dataclass(slots=True)
class _Last:
    price: Decimal
    ts_ns: int
    day: dt.date
    regular_price: Decimal | None  # last price of the day inside the regular session


class MarketState:
    def __init__(self, history: int = 512, is_regular: Callable[[int], bool] | None = None) -> None:
        if history < 2:
            raise ValueError("history must be at least 2 bars")
        self.history = history
        self.is_regular = is_regular or (lambda ts_ns: True)
        self.last: dict[str, _Last] = {}
        self.traded: set[str] = set()
        self.references: dict[str, Decimal] = {}
        self.bars: dict[tuple[str, str], deque[Bar]] = {}
        self.snapshots: dict[tuple[str, str], IndicatorSnapshot] = {}

    # -- events ------------------------------------------------------------------------------------
    def on_trade(self, tick: TradeTick) -> None:
        self.traded.add(tick.symbol)
        self._price(tick.symbol, tick.price, tick.ts_event)

    def on_bar(self, bar: Bar) -> None:
        key = (bar.symbol, bar.timeframe)
        bars = self.bars.get(key)
        if bars is None:
            bars = self.bars[key] = deque(maxlen=self.history)
        bars.append(bar)
        if bar.symbol not in self.traded:
            self._price(bar.symbol, bar.close, bar.end, regular=bar.session == "regular")

    def on_snapshot(self, snapshot: IndicatorSnapshot) -> None:
        self.snapshots[(snapshot.symbol, snapshot.timeframe)] = snapshot

    def set_reference(self, symbol: str, price: Decimal) -> None:
        """A settlement (futures) or official close supplied from outside, replacing the derived one."""
        self.references[symbol] = price

    def _price(self, symbol: str, price: Decimal, ts_ns: int, regular: bool | None = None) -> None:
        last = self.last.get(symbol)
        if last is not None and ts_ns < last.ts_ns:
            return  # older than the latest update (a late print, a strategy bar closed late)
        day = et_date(ts_ns)
        in_regular = self.is_regular(ts_ns) if regular is None else regular
        if last is not None and day != last.day and last.regular_price is not None:
            self.references[symbol] = last.regular_price
        regular_price = price if in_regular else (last.regular_price if last is not None and last.day == day else None)
        self.last[symbol] = _Last(price, ts_ns, day, regular_price)

    # -- queries -----------------------------------------------------------------------------------
    def price(self, symbol: str) -> Decimal | None:
        last = self.last.get(symbol)
        return None if last is None else last.price

    def last_update_ns(self, symbol: str) -> int | None:
        last = self.last.get(symbol)
        return None if last is None else last.ts_ns

    def reference(self, symbol: str) -> Decimal | None:
        return self.references.get(symbol)

    def value(self, kind: str, symbol: str, timeframe: str | None, period: int | None = None) -> float | None:
        if kind == "price":
            price = self.price(symbol)
            return None if price is None else float(price)
        if kind == "correlation":
            first, second = symbol.split("|")
            return self._correlation(first, second, timeframe or "", period or 20)
        key = (symbol, timeframe or "")
        if kind in BAR_FIELDS:
            bars = self.bars.get(key)
            return None if not bars else float(getattr(bars[-1], kind))
        if kind.startswith("donchian_") and period is not None:
            snapshot = self.snapshots.get(key)
            if snapshot is None or snapshot.donchian_period != period:
                return self._donchian(kind, key, period)
        snapshot = self.snapshots.get(key)
        if snapshot is None:
            return None
        return getattr(snapshot, SNAPSHOT_FIELDS[kind])

    def _donchian(self, kind: str, key: tuple[str, str], period: int) -> float | None:
        bars = self.bars.get(key)
        if not bars or len(bars) < period:
            return None
        window = list(bars)[-period:]
        upper = float(max(b.high for b in window))
        lower = float(min(b.low for b in window))
        return {"donchian_upper": upper, "donchian_lower": lower, "donchian_mid": (upper + lower) / 2}[kind]

    def _correlation(self, first: str, second: str, timeframe: str, period: int) -> float | None:
        a, b = self.bars.get((first, timeframe)), self.bars.get((second, timeframe))
        if not a or not b:
            return None
        closes_b = {bar.start: bar.close for bar in b}
        pairs = [(float(bar.close), float(closes_b[bar.start])) for bar in a if bar.start in closes_b]
        if len(pairs) < period + 1:
            return None
        window = np.array(pairs[-(period + 1):])
        value = rolling_correlation(window[:, 0], window[:, 1], period)[-1]
        return None if np.isnan(value) else float(value)

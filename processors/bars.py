"""OHLCV bars from trade ticks, closed on event time, in an incremental and a batch form.

Alignment: bars are cut inside each session window of the calendar (pre 04:00-09:30, regular
09:30-16:00 or 13:00 on early closes, post to 20:00 or 17:00, optional overnight), starting at the
window's open: bar k of a window is [open + k*tf, min(open + (k+1)*tf, window end)). So 60-minute
regular bars start at 09:30 ET and the last one is 15:30-16:00; no bar spans two sessions or days;
`1d` is one bar per session window. DST is in the calendar's UTC boundaries.

Event time: each symbol has a watermark, the largest ts_event of its valid ticks so far. A bar closes
when the watermark reaches its end plus the allowed lateness (or on `advance`/`flush`). A tick whose
bar has closed by that rule is *late*: it is returned as a rejection (the stage dead-letters it),
never merged. Out-of-order ticks within the lateness are merged: open is the price with the earliest
(ts_event, arrival order), close the latest.

Each tick is checked in this order, the first failing check giving its rejection:
    invalid     price or size not a positive finite number           (error, dead-letter)
    session     outside the selected sessions / the calendar          (expected, counted)
    late        its bar already closed                                 (error, dead-letter)
    condition   sale conditions exclude it from OHLC and volume       (expected, counted)
    duplicate   same trade_id already in the bar                      (expected, counted once)
Only valid ticks move the watermark (a bad print's timestamp cannot close bars).

OHLC use prints eligible for OHLC, volume and VWAP prints eligible for volume (processors.conditions);
a bar exists only if it has at least one OHLC-eligible print. `trades` counts the distinct prints in
the bar. VWAP is computed exactly in units of 1e-8 and rounded half-even to 8 decimals; open, high,
low and close are exactly the input prices.

The batch form (`aggregate_batch`) gives the same bars (fields and `ts_init`) for the same input
order, vectorised with numpy; tests prove the identity.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pandas as pd

from processors.calendar import MarketCalendar, Session
from processors.conditions import eligibility
from processors.model import Bar, TradeTick

NS = 1_000_000_000
PRICE_SCALE = 100_000_000  # prices in units of 1e-8 for exact VWAP sums
_EIGHT = Decimal("0.00000001")
_TIMEFRAME = re.compile(r"^(\d+)([mhd])$")

ACCEPTED = 0
INVALID = 1
OUTSIDE_SESSION = 2
LATE = 3
EXCLUDED_CONDITION = 4
DUPLICATE = 5
VOLUME_ONLY_BAR = 6  # a whole bar of volume-only prints: no OHLC, reported per bar, not per tick
REJECTION_CLASSES = {INVALID: "InvalidTick", OUTSIDE_SESSION: "OutsideSession", LATE: "LateTick",
                     EXCLUDED_CONDITION: "ExcludedCondition", DUPLICATE: "DuplicateTick",
                     VOLUME_ONLY_BAR: "VolumeOnlyBar"}
# Rejections that are errors in the data (dead-letter them); the others are expected and counted.
ERROR_REJECTIONS = frozenset({INVALID, LATE})


@dataclass(frozen=True, slots=True)
class Timeframe:
    text: str
    length_ns: int | None  # None: one bar per session window (1d)

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        match = _TIMEFRAME.match(text.strip().lower())
        if not match:
            raise ValueError(f"timeframe must look like 5m, 1h or 1d, not {text!r}")
        count, unit = int(match.group(1)), match.group(2)
        if count <= 0:
            raise ValueError(f"timeframe must be positive, not {text!r}")
        if unit == "d":
            if count != 1:
                raise ValueError(f"timeframe {text!r}: only 1d is supported for daily bars")
            return cls("1d", None)
        minutes = count * (60 if unit == "h" else 1)
        return cls(f"{minutes}m" if unit == "m" or minutes % 60 else f"{count}h", minutes * 60 * NS)


@dataclass(frozen=True, slots=True)
class Rejection:
    symbol: str
    ts_event: int
    trade_id: str | None
    code: int
    reason: str

    @property
    def error_class(self) -> str:
        return REJECTION_CLASSES[self.code]

    @property
    def is_error(self) -> bool:
        return self.code in ERROR_REJECTIONS


def price_units(price: float) -> int:
    return round(price * PRICE_SCALE)


def to_decimal(price: float) -> Decimal:
    """The exact decimal of an input price that went through float (repr round-trips)."""
    return Decimal(repr(price))


def vwap_decimal(pv_units: int, volume: int) -> Decimal:
    return (Decimal(pv_units) / Decimal(volume) / PRICE_SCALE).quantize(_EIGHT, ROUND_HALF_EVEN)


class _OpenBar:
    __slots__ = ("start", "end", "session", "open_key", "open", "high", "low", "close_key", "close", "volume",
                 "pv", "trades", "ids", "new_ids", "has_ohlc")

    def __init__(self, start: int, end: int, session: str) -> None:
        self.start = start
        self.end = end
        self.session = session
        self.open_key = (0, 0)
        self.open = 0.0
        self.high = -math.inf
        self.low = math.inf
        self.close_key = (0, 0)
        self.close = 0.0
        self.volume = 0
        self.pv = 0
        self.trades = 0
        # Trade ids counted, in arrival order. A dict of strings, not a set: the garbage collector does not
        # track a dict whose keys and values are all strings and None, so the ids of every open bar (a
        # million and more at 50,000 prints/s) add nothing to a collection's pause.
        self.ids: dict[str, None] = {}
        self.new_ids: list[str] = []  # those counted since the last `take_new_ids`
        self.has_ohlc = False


_NEVER = 2**63  # first_end of a symbol without open bars


class _SymbolState:
    __slots__ = ("watermark", "bars", "first_end", "window_start", "window_end", "window_session")

    def __init__(self) -> None:
        self.watermark: int | None = None
        self.bars: dict[int, _OpenBar] = {}
        self.first_end = _NEVER  # the earliest end of an open bar: nothing closes before the watermark passes it
        self.window_start = 0
        self.window_end = 0
        self.window_session: Session = Session.CLOSED


class BarAggregator:
    """Incremental bar aggregation for one timeframe and session selection, any number of symbols.

    `update_raw`/`handle_tick` return ACCEPTED or a rejection code; closed bars and rejections
    accumulate in `closed` and `rejected` until `drain()` takes them.
    """

    def __init__(self, timeframe: str, sessions: frozenset[Session], calendar: MarketCalendar,
                 lateness_ns: int = 0) -> None:
        self.timeframe = Timeframe.parse(timeframe)
        if not sessions or Session.CLOSED in sessions:
            raise ValueError("sessions must name at least one trading session")
        if lateness_ns < 0:
            raise ValueError("lateness_ns must not be negative")
        self.sessions = frozenset(sessions)
        self.calendar = calendar
        self.lateness_ns = lateness_ns
        self.closed: list[Bar] = []
        self.rejected: list[Rejection] = []
        self._symbols: dict[str, _SymbolState] = {}
        self._seq = 0

    # -- hot path ------------------------------------------------------------------------------------
    def handle_tick(self, tick: TradeTick) -> int:
        return self.update_raw(tick.symbol, tick.ts_event, tick.ts_init, float(tick.price), tick.size,
                               tick.trade_id, tick.conditions)

    def update_raw(self, symbol: str, ts_event: int, ts_init: int, price: float, size: int,
                   trade_id: str | None = None, conditions: tuple[str, ...] | list[str] | None = None) -> int:
        if not (price > 0 and size > 0 and price != math.inf):  # NaN fails `price > 0`
            return self._reject(symbol, ts_event, trade_id, INVALID,
                                f"price {price} and size {size} must be positive finite numbers")
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolState()
        # Locate the bar (cached session window).
        if not state.window_start <= ts_event < state.window_end:
            session, start, end, _ = self.calendar.locate(ts_event)
            state.window_start, state.window_end, state.window_session = start, end, session
        session = state.window_session
        bar_start = bar_end = 0
        if session in self.sessions:
            length = self.timeframe.length_ns
            if length is None:
                bar_start, bar_end = state.window_start, state.window_end
            else:
                bar_start = state.window_start + (ts_event - state.window_start) // length * length
                bar_end = min(bar_start + length, state.window_end)
        previous = state.watermark
        late = previous is not None and bar_end != 0 and bar_end + self.lateness_ns <= previous
        if previous is None or ts_event > previous:
            state.watermark = ts_event
            if ts_event - self.lateness_ns >= state.first_end:
                self._close_ready(symbol, state, ts_init)
        if bar_end == 0:
            return self._reject(symbol, ts_event, trade_id, OUTSIDE_SESSION,
                                f"{session.value} session is not selected for {self.timeframe.text} bars")
        if late:
            return self._reject(symbol, ts_event, trade_id, LATE,
                                f"bar {bar_start}-{bar_end} closed at watermark {previous} "
                                f"(lateness {self.lateness_ns} ns)")
        ohlc, volume = eligibility(conditions) if conditions else (True, True)
        if not (ohlc or volume):
            return self._reject(symbol, ts_event, trade_id, EXCLUDED_CONDITION,
                                f"conditions {list(conditions or ())} exclude it from OHLC and volume")
        bar = state.bars.get(bar_start)
        if bar is None:
            bar = state.bars[bar_start] = _OpenBar(bar_start, bar_end, session.value)
            if bar_end < state.first_end:
                state.first_end = bar_end
        if trade_id is not None:
            if trade_id in bar.ids:
                return self._reject(symbol, ts_event, trade_id, DUPLICATE, f"trade {trade_id} already counted")
            bar.ids[trade_id] = None
            bar.new_ids.append(trade_id)
        self._seq += 1
        key = (ts_event, self._seq)
        bar.trades += 1
        if ohlc:
            if not bar.has_ohlc:
                bar.has_ohlc = True
                bar.open_key = bar.close_key = key
                bar.open = bar.close = bar.high = bar.low = price
            else:
                if key < bar.open_key:
                    bar.open_key, bar.open = key, price
                if key > bar.close_key:
                    bar.close_key, bar.close = key, price
                if price > bar.high:
                    bar.high = price
                if price < bar.low:
                    bar.low = price
        if volume:
            bar.volume += size
            bar.pv += round(price * PRICE_SCALE) * size
        return ACCEPTED

    def update_many(self, symbol: str, ts_events: Sequence[int], ts_inits: Sequence[int], prices: Sequence[float],
                    sizes: Sequence[int], trade_ids: Sequence[str | None],
                    conditions: Sequence[Sequence[str] | None]) -> list[int]:
        """`update_raw` for consecutive prints of one symbol, column by column (the hot path: one call per
        batch); returns the indices of the refused prints, whose rejections are appended to `rejected`
        in print order. The result is exactly that of `update_raw` print by print (tests): the common
        case, a batch in event-time order with nothing to refuse, takes a path that works per bar
        instead of per print."""
        state = self._symbols.get(symbol)
        if state is None:
            state = self._symbols[symbol] = _SymbolState()
        if ts_events and self._update_in_order(symbol, state, ts_events, ts_inits, prices, sizes, trade_ids,
                                               conditions):
            return []
        return self._update_each(symbol, ts_events, ts_inits, prices, sizes, trade_ids, conditions)

    def _update_in_order(self, symbol: str, state: _SymbolState, ts_events: Sequence[int], ts_inits: Sequence[int],
                         prices: Sequence[float], sizes: Sequence[int], trade_ids: Sequence[str | None],
                         conditions: Sequence[Sequence[str] | None]) -> bool:
        """Apply a batch whose every print would be accepted, in order, by whole bars; False (nothing
        changed) unless: prints in non-decreasing event time, none before the watermark, all in one
        selected session window, valid prices and sizes, no sale conditions, and trade ids all given
        and new to their bar or all absent.

        Such prints are the last ones of their bars so far: each new print becomes its bar's close, a new
        bar opens at its first print, and bars close at the first print whose time passes their end plus
        the lateness, in the order the print-by-print path closes them."""
        first, last = ts_events[0], ts_events[-1]
        watermark = state.watermark
        if watermark is not None and first < watermark:
            return False
        if not state.window_start <= first < state.window_end:
            session, start, end, _ = self.calendar.locate(first)
            state.window_start, state.window_end, state.window_session = start, end, session
        if last >= state.window_end or state.window_session not in self.sessions:
            return False
        if any(conditions) or not all(map(math.isfinite, prices)) or min(prices) <= 0 or min(sizes) <= 0:
            return False
        if not all(map(operator.le, ts_events, itertools.islice(ts_events, 1, None))):
            return False  # not in event-time order
        count = len(ts_events)
        absent = trade_ids.count(None)
        if absent not in (0, count):
            return False
        with_ids = absent == 0
        # Cut the batch into its bars: [begin, stop) of the prints per bar start.
        window_start, window_end, length = state.window_start, state.window_end, self.timeframe.length_ns
        segments: list[tuple[int, int, int, int]] = []  # (begin, stop, bar start, bar end)
        begin = 0
        while begin < count:
            if length is None:
                bar_start, bar_end, stop = window_start, window_end, count
            else:
                bar_start = window_start + (ts_events[begin] - window_start) // length * length
                bar_end = min(bar_start + length, window_end)
                stop = bisect.bisect_left(ts_events, bar_end, begin, count)
            segments.append((begin, stop, bar_start, bar_end))
            begin = stop
        if with_ids:
            for begin, stop, bar_start, _ in segments:
                ids = set(trade_ids[begin:stop])
                bar = state.bars.get(bar_start)
                if len(ids) != stop - begin or (bar is not None and not bar.ids.keys().isdisjoint(ids)):
                    return False  # a duplicate: the print-by-print path refuses it
        # Apply: from here nothing can fail.
        seq = self._seq
        for begin, stop, bar_start, bar_end in segments:
            bar = state.bars.get(bar_start)
            if bar is None:
                bar = state.bars[bar_start] = _OpenBar(bar_start, bar_end, state.window_session.value)
                state.first_end = min(state.first_end, bar_end)
            if with_ids:
                added = trade_ids[begin:stop]
                bar.ids.update(dict.fromkeys(added))
                bar.new_ids += added
            segment = prices[begin:stop]
            high, low = max(segment), min(segment)
            if not bar.has_ohlc:
                bar.has_ohlc = True
                bar.open_key, bar.open, bar.high, bar.low = (ts_events[begin], seq + begin + 1), segment[0], high, low
            else:
                bar.high, bar.low = max(bar.high, high), min(bar.low, low)
            bar.close_key, bar.close = (ts_events[stop - 1], seq + stop), segment[-1]
            bar.trades += stop - begin
            bar.volume += sum(sizes[begin:stop])
            bar.pv += sum(map(operator.mul, map(round, map(operator.mul, segment, itertools.repeat(PRICE_SCALE))),
                              sizes[begin:stop]))
        self._seq = seq + count
        if watermark is None or last > watermark:
            state.watermark = last
            lateness = self.lateness_ns
            if last - lateness >= state.first_end:
                # Each bar closes at the first print whose time passes its end plus the lateness.
                closing = sorted((bisect.bisect_left(ts_events, bar.end + lateness), start)
                                 for start, bar in state.bars.items() if bar.end + lateness <= last)
                for index, start in closing:
                    self._emit(symbol, state.bars.pop(start), ts_inits[index])
                state.first_end = min((bar.end for bar in state.bars.values()), default=_NEVER)
        return True

    def _update_each(self, symbol: str, ts_events: Sequence[int], ts_inits: Sequence[int], prices: Sequence[float],
                     sizes: Sequence[int], trade_ids: Sequence[str | None],
                     conditions: Sequence[Sequence[str] | None]) -> list[int]:
        update = self.update_raw
        return [index for index, values in enumerate(zip(ts_events, ts_inits, prices, sizes, trade_ids, conditions))
                if update(symbol, *values) != ACCEPTED]

    # -- closing ---------------------------------------------------------------------------------------
    def _reject(self, symbol: str, ts_event: int, trade_id: str | None, code: int, reason: str) -> int:
        self.rejected.append(Rejection(symbol, ts_event, trade_id, code, reason))
        return code

    def _close_ready(self, symbol: str, state: _SymbolState, ts_init: int) -> None:
        if not state.bars:
            return
        horizon = state.watermark - self.lateness_ns  # type: ignore[operator]
        ready = [start for start, bar in state.bars.items() if bar.end <= horizon]
        for start in sorted(ready):
            self._emit(symbol, state.bars.pop(start), ts_init)
        state.first_end = min((bar.end for bar in state.bars.values()), default=_NEVER)

    def _emit(self, symbol: str, bar: _OpenBar, ts_init: int) -> None:
        if not bar.has_ohlc:
            self.rejected.append(Rejection(symbol, bar.start, None, VOLUME_ONLY_BAR,
                                           f"bar {bar.start}-{bar.end} has only volume-only prints "
                                           f"({bar.volume} shares in {bar.trades} prints): no OHLC, no bar"))
            return
        self.closed.append(Bar(
            symbol=symbol, timeframe=self.timeframe.text, session=bar.session, start=bar.start, end=bar.end,
            open=to_decimal(bar.open), high=to_decimal(bar.high), low=to_decimal(bar.low),
            close=to_decimal(bar.close), volume=bar.volume,
            vwap=vwap_decimal(bar.pv, bar.volume) if bar.volume else to_decimal(bar.close),
            trades=bar.trades, ts_init=ts_init))

    def advance(self, watermark_ns: int, ts_init: int, symbols: list[str] | None = None) -> None:
        """Move the watermark of `symbols` (default all) to at least `watermark_ns` (heartbeats)."""
        for symbol in symbols if symbols is not None else list(self._symbols):
            state = self._symbols.setdefault(symbol, _SymbolState())
            if state.watermark is None or watermark_ns > state.watermark:
                state.watermark = watermark_ns
                self._close_ready(symbol, state, ts_init)

    def flush(self, ts_init: int = 0) -> None:
        """Close every open bar (end of data)."""
        for symbol, state in self._symbols.items():
            for start in sorted(state.bars):
                self._emit(symbol, state.bars[start], ts_init)
            state.bars.clear()
            state.first_end = _NEVER

    def drain(self) -> tuple[list[Bar], list[Rejection]]:
        closed, rejected = self.closed, self.rejected
        self.closed, self.rejected = [], []
        return closed, rejected

    def reset(self) -> None:
        self._symbols.clear()
        self.closed, self.rejected = [], []
        self._seq = 0

    # -- state for Faust tables ---------------------------------------------------------------------
    def to_state(self, symbol: str, ids: bool = True) -> dict[str, Any]:
        """One symbol's state as JSON-serialisable data. With `ids=False` each open bar carries the number
        of its trade ids instead of the ids, for a caller that stores them apart and incrementally
        (`take_new_ids`), so that a state write does not grow with the bar."""
        state = self._symbols.get(symbol) or _SymbolState()
        return {
            "watermark": state.watermark,
            "seq": self._seq,
            "bars": [[b.start, b.end, b.session, list(b.open_key), b.open, b.high, b.low, list(b.close_key),
                      b.close, b.volume, str(b.pv), b.trades, list(b.ids) if ids else len(b.ids), b.has_ohlc]
                     for b in state.bars.values()],
        }

    def open_bars(self, symbol: str) -> list[int]:
        """Start times of the symbol's open bars."""
        state = self._symbols.get(symbol)
        return list(state.bars) if state else []

    def trade_ids(self, symbol: str, start: int) -> list[str]:
        """Trade ids of the symbol's open bar at `start`, in arrival order."""
        return list(self._symbols[symbol].bars[start].ids)

    def take_new_ids(self, symbol: str, start: int) -> list[str]:
        """Trade ids the symbol's open bar at `start` counted since the last call (or since it opened or
        was loaded), in arrival order: what a caller storing the ids incrementally has yet to store."""
        bar = self._symbols[symbol].bars[start]
        new, bar.new_ids = bar.new_ids, []
        return new

    def load_state(self, symbol: str, data: dict[str, Any], ids: Mapping[int, Sequence[str]] | None = None) -> None:
        """Restore one symbol's state exported by `to_state`; `ids` (open bar start -> trade ids) completes
        a state exported with `ids=False` and must hold exactly the number of ids it records."""
        state = _SymbolState()
        state.watermark = data["watermark"]
        self._seq = max(self._seq, int(data["seq"]))
        for row in data["bars"]:
            bar = _OpenBar(row[0], row[1], row[2])
            bar.open_key, bar.open, bar.high, bar.low = tuple(row[3]), row[4], row[5], row[6]
            bar.close_key, bar.close, bar.volume, bar.pv = tuple(row[7]), row[8], row[9], int(row[10])
            bar.trades, bar.has_ohlc = row[11], row[13]
            counted = row[12]
            if isinstance(counted, int):
                counted = (ids or {}).get(bar.start, ())
                if len(counted) != row[12]:
                    raise ValueError(f"{symbol} {self.timeframe.text} bar {bar.start}: the state counts {row[12]} "
                                     f"trade ids, {len(counted)} were supplied")
            bar.ids = dict.fromkeys(counted)
            state.bars[bar.start] = bar
            state.first_end = min(state.first_end, bar.end)
        self._symbols[symbol] = state

    def symbols(self) -> list[str]:
        return list(self._symbols)


# -- batch ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TickArrays:
    """Ticks as columns (input order is arrival order)."""

    symbol: np.ndarray     # object (str)
    ts_event: np.ndarray   # int64 ns
    ts_init: np.ndarray    # int64 ns
    price: np.ndarray      # float64
    size: np.ndarray       # int64
    trade_id: np.ndarray | None = None    # object (str or None)
    conditions: list[tuple[str, ...]] | None = None

    @classmethod
    def from_ticks(cls, ticks: list[TradeTick]) -> TickArrays:
        return cls(
            symbol=np.array([t.symbol for t in ticks], dtype=object),
            ts_event=np.array([t.ts_event for t in ticks], dtype=np.int64),
            ts_init=np.array([t.ts_init for t in ticks], dtype=np.int64),
            price=np.array([float(t.price) for t in ticks], dtype=np.float64),
            size=np.array([t.size for t in ticks], dtype=np.int64),
            trade_id=np.array([t.trade_id for t in ticks], dtype=object),
            conditions=[t.conditions for t in ticks],
        )


@dataclass(frozen=True, slots=True)
class BatchResult:
    bars: list[Bar]
    rejected_codes: np.ndarray  # per input tick: ACCEPTED or a rejection code


def aggregate_batch(ticks: TickArrays, timeframe: str, sessions: frozenset[Session], calendar: MarketCalendar,
                    lateness_ns: int = 0, flush_ts_init: int = 0) -> BatchResult:
    """Vectorised twin of BarAggregator (same input order, then flush at the end)."""
    tf = Timeframe.parse(timeframe)
    n = len(ticks.ts_event)
    codes = np.zeros(n, dtype=np.int8)
    if n == 0:
        return BatchResult([], codes)
    ts = ticks.ts_event
    price, size = ticks.price, ticks.size
    valid = (price > 0) & (size > 0) & np.isfinite(price)
    codes[~valid] = INVALID

    starts, ends, kinds = calendar.window_arrays()
    window = np.searchsorted(starts, ts, side="right") - 1
    inside = (window >= 0) & (ts < ends[np.clip(window, 0, None)]) if len(starts) else np.zeros(n, dtype=bool)
    selected_windows = np.array([k in sessions for k in kinds] + [False], dtype=bool)
    w = np.where(inside, window, len(kinds))
    in_session = selected_windows[w] if len(kinds) else np.zeros(n, dtype=bool)
    w_start = np.where(inside, starts[np.clip(window, 0, len(starts) - 1)] if len(starts) else 0, 0)
    w_end = np.where(inside, ends[np.clip(window, 0, len(ends) - 1)] if len(ends) else 0, 0)
    if tf.length_ns is None:
        bar_start, bar_end = w_start, w_end
    else:
        bar_start = w_start + (ts - w_start) // tf.length_ns * tf.length_ns
        bar_end = np.minimum(bar_start + tf.length_ns, w_end)
    codes[valid & ~in_session] = OUTSIDE_SESSION

    # Per-symbol watermark before each tick (valid ticks only move it).
    symbol_index, symbols = pd.factorize(ticks.symbol)
    wm_prev = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    wm_incl = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)
    order_by_symbol = np.argsort(symbol_index, kind="stable")
    bounds = np.searchsorted(symbol_index[order_by_symbol], np.arange(len(symbols) + 1))
    for s in range(len(symbols)):
        idx = order_by_symbol[bounds[s]:bounds[s + 1]]
        moved = np.where(valid[idx], ts[idx], np.iinfo(np.int64).min)
        incl = np.maximum.accumulate(moved)
        wm_incl[idx] = incl
        wm_prev[idx] = np.concatenate(([np.iinfo(np.int64).min], incl[:-1]))
    has_prev = wm_prev != np.iinfo(np.int64).min
    late = valid & in_session & has_prev & (bar_end + lateness_ns <= wm_prev)
    codes[late] = LATE

    candidates = np.flatnonzero(codes == ACCEPTED)
    ohlc_flag = np.zeros(n, dtype=bool)
    vol_flag = np.zeros(n, dtype=bool)
    if ticks.conditions is None:
        ohlc_flag[candidates] = True
        vol_flag[candidates] = True
    elif len(candidates):
        elig = [eligibility(ticks.conditions[i]) for i in candidates]
        ohlc_flag[candidates] = [e[0] for e in elig]
        vol_flag[candidates] = [e[1] for e in elig]
    excluded = np.zeros(n, dtype=bool)
    excluded[candidates] = ~(ohlc_flag[candidates] | vol_flag[candidates])
    codes[excluded] = EXCLUDED_CONDITION

    # Duplicates: the same trade id again in the same (symbol, bar), after the first counted one.
    if ticks.trade_id is not None:
        rows = np.flatnonzero(codes == ACCEPTED)
        rows = rows[~pd.isna(ticks.trade_id[rows])]
        if len(rows):
            id_codes, _ = pd.factorize(ticks.trade_id[rows])
            frame = pd.DataFrame({"s": symbol_index[rows], "b": bar_start[rows], "t": id_codes})
            codes[rows[frame.duplicated(keep="first").to_numpy()]] = DUPLICATE

    accepted = np.flatnonzero(codes == ACCEPTED)
    if len(accepted) == 0:
        return BatchResult([], codes)
    a_sym = symbol_index[accepted]
    a_start = bar_start[accepted]
    # Group by (symbol, bar start); within a group order by (ts_event, input order).
    order = np.lexsort((accepted, ts[accepted], a_start, a_sym))
    g_idx = accepted[order]
    g_sym, g_start = a_sym[order], a_start[order]
    boundary = np.flatnonzero(np.r_[True, (g_sym[1:] != g_sym[:-1]) | (g_start[1:] != g_start[:-1])])
    group_end = np.r_[boundary[1:], len(g_idx)]

    units = np.rint(price[g_idx] * PRICE_SCALE).astype(np.int64)
    hi, lo = units >> 24, units & ((1 << 24) - 1)
    vol_mask = vol_flag[g_idx]
    sz = np.where(vol_mask, size[g_idx], 0)
    sum_hi = np.add.reduceat(hi * sz, boundary)
    sum_lo = np.add.reduceat(lo * sz, boundary)
    volumes = np.add.reduceat(sz, boundary)
    trades = group_end - boundary
    ohlc_mask = ohlc_flag[g_idx]
    p = price[g_idx]
    highs = np.maximum.reduceat(np.where(ohlc_mask, p, -np.inf), boundary)
    lows = np.minimum.reduceat(np.where(ohlc_mask, p, np.inf), boundary)

    positions = np.arange(len(g_idx))
    first_pos = np.minimum.reduceat(np.where(ohlc_mask, positions, len(g_idx)), boundary)
    last_pos = np.maximum.reduceat(np.where(ohlc_mask, positions, -1), boundary)
    has_ohlc = first_pos < len(g_idx)
    group_first = g_idx[boundary]
    group_symbol = g_sym[boundary]
    group_end_ns = bar_end[group_first]
    # The tick whose watermark closed each bar: the symbol's first tick with watermark >= end + lateness.
    closing_init = np.full(len(boundary), flush_ts_init, dtype=np.int64)
    for sym in np.unique(group_symbol):
        which = np.flatnonzero(group_symbol == sym)
        sym_rows = order_by_symbol[bounds[sym]:bounds[sym + 1]]
        pos = np.searchsorted(wm_incl[sym_rows], group_end_ns[which] + lateness_ns, side="left")
        found = pos < len(sym_rows)
        closing_init[which[found]] = ticks.ts_init[sym_rows[pos[found]]]

    bars: list[Bar] = []
    timeframe_text = tf.text
    session_of_window = [k.value for k in kinds]
    for k in np.flatnonzero(has_ohlc).tolist():
        first, last = g_idx[first_pos[k]], g_idx[last_pos[k]]
        volume = int(volumes[k])
        pv = (int(sum_hi[k]) << 24) + int(sum_lo[k])
        close = to_decimal(float(price[last]))
        bars.append(Bar(
            symbol=str(symbols[group_symbol[k]]), timeframe=timeframe_text,
            session=session_of_window[int(window[group_first[k]])], start=int(g_start[boundary[k]]),
            end=int(group_end_ns[k]), open=to_decimal(float(price[first])), high=to_decimal(float(highs[k])),
            low=to_decimal(float(lows[k])), close=close, volume=volume,
            vwap=vwap_decimal(pv, volume) if volume else close, trades=int(trades[k]),
            ts_init=int(closing_init[k])))
    return BatchResult(bars, codes)


# -- resampling ---------------------------------------------------------------------------------------
def resample_bars(bars: list[Bar], timeframe: str, calendar: MarketCalendar,
                  sessions: frozenset[Session]) -> list[Bar]:
    """Coarser bars from finer ones with the same alignment (each fine bar falls in one coarse bar)."""
    tf = Timeframe.parse(timeframe)
    groups: dict[tuple[str, int], list[Bar]] = {}
    meta: dict[tuple[str, int], tuple[int, str]] = {}
    for bar in sorted(bars, key=lambda b: (b.symbol, b.start)):
        session, w_start, w_end, _ = calendar.locate(bar.start)
        if session not in sessions:
            continue
        if tf.length_ns is None:
            start, end = w_start, w_end
        else:
            start = w_start + (bar.start - w_start) // tf.length_ns * tf.length_ns
            end = min(start + tf.length_ns, w_end)
        if bar.end > end:
            raise ValueError(f"{bar.symbol} bar {bar.start}-{bar.end} does not fit in {timeframe} bars")
        groups.setdefault((bar.symbol, start), []).append(bar)
        meta[(bar.symbol, start)] = (end, session.value)
    out = []
    for (symbol, start), members in sorted(groups.items()):
        end, session = meta[(symbol, start)]
        volume = sum(b.volume for b in members)
        pv = sum(b.vwap * b.volume for b in members)
        out.append(Bar(
            symbol=symbol, timeframe=tf.text, session=session, start=start, end=end, open=members[0].open,
            high=max(b.high for b in members), low=min(b.low for b in members), close=members[-1].close,
            volume=volume, vwap=(pv / volume).quantize(_EIGHT, ROUND_HALF_EVEN) if volume else members[-1].close,
            trades=sum(b.trades for b in members), ts_init=max(b.ts_init for b in members)))
    return out

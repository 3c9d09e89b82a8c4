"""The incremental aggregator: one update per print, any number of symbols, bars closed on event time.

`update_raw` is the print-by-print hot path; `update_many` takes one symbol's consecutive prints column
by column and, in the common case, applies them by whole bars (`processors.bars.in_order`). The state of
a symbol exports to JSON-serialisable data and back (`to_state`, `load_state`), with the open bars'
trade ids optionally kept apart and handed out incrementally (`take_new_ids`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from processors.bars import in_order
from processors.bars.open_bar import NEVER, OpenBar, SymbolState
from processors.bars.prices import PRICE_SCALE, to_decimal, vwap_decimal
from processors.bars.rejections import (
    ACCEPTED,
    DUPLICATE,
    EXCLUDED_CONDITION,
    INVALID,
    LATE,
    OUTSIDE_SESSION,
    VOLUME_ONLY_BAR,
    Rejection,
)
from processors.bars.timeframe import Timeframe
from processors.calendar import MarketCalendar, Session
from processors.conditions import eligibility
from processors.model import Bar, TradeTick


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
        self._symbols: dict[str, SymbolState] = {}
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
        state = self._symbols.get(symbol) or self._symbols.setdefault(symbol, SymbolState())
        if not state.window_start <= ts_event < state.window_end:
            state.locate(self.calendar, ts_event)
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
            return self._reject(symbol, ts_event, trade_id, LATE, f"bar {bar_start}-{bar_end} closed at watermark "
                                f"{previous} (lateness {self.lateness_ns} ns)")
        ohlc, volume = eligibility(conditions) if conditions else (True, True)
        if not (ohlc or volume):
            return self._reject(symbol, ts_event, trade_id, EXCLUDED_CONDITION,
                                f"conditions {list(conditions or ())} exclude it from OHLC and volume")
        bar = state.bars.get(bar_start) or state.open_bar(bar_start, bar_end, session.value)
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
        state = self._symbols.get(symbol) or self._symbols.setdefault(symbol, SymbolState())
        if ts_events:
            segments = in_order.cut_into_bars(state, self.calendar, self.sessions, self.timeframe.length_ns,
                                              ts_events, prices, sizes, trade_ids, conditions)
            if segments is not None:
                self._seq = in_order.apply_segments(state, segments, self._seq, ts_events, prices, sizes, trade_ids)
                self._advance_in_order(symbol, state, ts_events, ts_inits)
                return []
        update = self.update_raw
        return [index for index, values in enumerate(zip(ts_events, ts_inits, prices, sizes, trade_ids, conditions))
                if update(symbol, *values) != ACCEPTED]

    def _advance_in_order(self, symbol: str, state: SymbolState, ts_events: Sequence[int],
                          ts_inits: Sequence[int]) -> None:
        """The watermark after an in-order batch; each bar it passes closes at the first print past it."""
        last = ts_events[-1]
        if state.watermark is not None and last <= state.watermark:
            return
        state.watermark = last
        if last - self.lateness_ns >= state.first_end:
            for index, start in in_order.closing_prints(state, ts_events, self.lateness_ns):
                self._emit(symbol, state.bars.pop(start), ts_inits[index])
            state.refresh_first_end()

    # -- closing ---------------------------------------------------------------------------------------
    def _reject(self, symbol: str, ts_event: int, trade_id: str | None, code: int, reason: str) -> int:
        self.rejected.append(Rejection(symbol, ts_event, trade_id, code, reason))
        return code

    def _close_ready(self, symbol: str, state: SymbolState, ts_init: int) -> None:
        if not state.bars:
            return
        horizon = state.watermark - self.lateness_ns  # type: ignore[operator]
        ready = [start for start, bar in state.bars.items() if bar.end <= horizon]
        for start in sorted(ready):
            self._emit(symbol, state.bars.pop(start), ts_init)
        state.refresh_first_end()

    def _emit(self, symbol: str, bar: OpenBar, ts_init: int) -> None:
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
            state = self._symbols.setdefault(symbol, SymbolState())
            if state.watermark is None or watermark_ns > state.watermark:
                state.watermark = watermark_ns
                self._close_ready(symbol, state, ts_init)

    def flush(self, ts_init: int = 0) -> None:
        """Close every open bar (end of data)."""
        for symbol, state in self._symbols.items():
            for start in sorted(state.bars):
                self._emit(symbol, state.bars[start], ts_init)
            state.bars.clear()
            state.first_end = NEVER

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
        state = self._symbols.get(symbol) or SymbolState()
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
        state = SymbolState()
        state.watermark = data["watermark"]
        self._seq = max(self._seq, int(data["seq"]))
        for row in data["bars"]:
            bar = state.open_bar(row[0], row[1], row[2])
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
        self._symbols[symbol] = state

    def symbols(self) -> list[str]:
        return list(self._symbols)

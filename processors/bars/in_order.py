"""The fast path of `BarAggregator.update_many`: a batch of one symbol's prints that the print-by-print
path would accept whole, applied bar by bar instead of print by print.

Phases: `cut_into_bars` checks that every print would be accepted and cuts the batch into its bars
(None: a print might be refused, the caller goes print by print); `apply_segments` adds each bar's
prints at once; `closing_prints` says which print closes each bar the batch's last print passed.

Such prints are the last ones of their bars so far: each new print becomes its bar's close, a new bar
opens at its first print, and bars close at the first print whose time passes their end plus the
lateness, in the order the print-by-print path closes them.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections.abc import Sequence

from processors.bars.open_bar import SymbolState
from processors.bars.prices import PRICE_SCALE
from processors.calendar import MarketCalendar, Session

Segment = tuple[int, int, int, int]  # prints [begin, stop) of the batch in the bar [bar start, bar end)


def cut_into_bars(state: SymbolState, calendar: MarketCalendar, sessions: frozenset[Session],
                  length_ns: int | None, ts_events: Sequence[int], prices: Sequence[float], sizes: Sequence[int],
                  trade_ids: Sequence[str | None], conditions: Sequence[Sequence[str] | None]) -> list[Segment] | None:
    """The batch's bars, if the print-by-print path would accept every print; else None (nothing changed
    but the cached session window). That needs: prints in non-decreasing event time, none before the
    watermark, all in one selected session window, valid prices and sizes, no sale conditions, and trade
    ids all given and new to their bar or all absent."""
    first, last = ts_events[0], ts_events[-1]
    if state.watermark is not None and first < state.watermark:
        return None
    if not state.window_start <= first < state.window_end:
        state.locate(calendar, first)
    if last >= state.window_end or state.window_session not in sessions:
        return None
    if any(conditions) or not all(map(math.isfinite, prices)) or min(prices) <= 0 or min(sizes) <= 0:
        return None
    if not all(map(operator.le, ts_events, itertools.islice(ts_events, 1, None))):
        return None  # not in event-time order
    absent = trade_ids.count(None)  # type: ignore[attr-defined]
    if absent not in (0, len(ts_events)):
        return None
    segments = segments_of(state.window_start, state.window_end, length_ns, ts_events)
    if absent == 0 and not ids_are_new(state, segments, trade_ids):
        return None  # a duplicate: the print-by-print path refuses it
    return segments


def segments_of(window_start: int, window_end: int, length_ns: int | None, ts_events: Sequence[int]) -> list[Segment]:
    """Prints in event-time order inside one session window, cut at their bars' boundaries."""
    count = len(ts_events)
    segments: list[Segment] = []
    begin = 0
    while begin < count:
        if length_ns is None:
            bar_start, bar_end, stop = window_start, window_end, count
        else:
            bar_start = window_start + (ts_events[begin] - window_start) // length_ns * length_ns
            bar_end = min(bar_start + length_ns, window_end)
            stop = bisect.bisect_left(ts_events, bar_end, begin, count)
        segments.append((begin, stop, bar_start, bar_end))
        begin = stop
    return segments


def ids_are_new(state: SymbolState, segments: list[Segment], trade_ids: Sequence[str | None]) -> bool:
    """No trade id twice in a bar's segment, nor already counted by the bar."""
    for begin, stop, bar_start, _ in segments:
        ids = set(trade_ids[begin:stop])
        bar = state.bars.get(bar_start)
        if len(ids) != stop - begin or (bar is not None and not bar.ids.keys().isdisjoint(ids)):
            return False
    return True


def apply_segments(state: SymbolState, segments: list[Segment], seq: int, ts_events: Sequence[int],
                   prices: Sequence[float], sizes: Sequence[int], trade_ids: Sequence[str | None]) -> int:
    """Add each segment's prints to its bar (opening it if new); returns the arrival sequence after the
    batch. Nothing here can fail."""
    with_ids = trade_ids[0] is not None  # all given or all absent (`cut_into_bars`)
    for begin, stop, bar_start, bar_end in segments:
        bar = state.bars.get(bar_start)
        if bar is None:
            bar = state.open_bar(bar_start, bar_end, state.window_session.value)
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
    return seq + len(ts_events)


def closing_prints(state: SymbolState, ts_events: Sequence[int], lateness_ns: int) -> list[tuple[int, int]]:
    """(index of the print that closes it, bar start) of each open bar the batch's last print closes (it
    is past the bar's end plus the lateness), in closing order."""
    last = ts_events[-1]
    return sorted((bisect.bisect_left(ts_events, bar.end + lateness_ns), start)
                  for start, bar in state.bars.items() if bar.end + lateness_ns <= last)

"""Coarser bars from finer ones with the same session alignment."""

from __future__ import annotations

from processors.bars.prices import eight_decimals
from processors.bars.timeframe import Timeframe
from processors.calendar import MarketCalendar, Session
from processors.model import Bar


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
            volume=volume, vwap=eight_decimals(pv / volume) if volume else members[-1].close,
            trades=sum(b.trades for b in members), ts_init=max(b.ts_init for b in members)))
    return out

"""The incremental aggregator's state: each symbol's open bars, watermark and cached session window."""

from __future__ import annotations

import math

from processors.calendar import MarketCalendar, Session

NEVER = 2**63  # first_end of a symbol without open bars


class OpenBar:
    __slots__ = ("start", "end", "session", "open_key", "open", "high", "low", "close_key", "close", "volume",
                 "pv", "trades", "ids", "new_ids", "has_ohlc")

    def __init__(self, start: int, end: int, session: str) -> None:
        self.start = start
        self.end = end
        self.session = session
        self.open_key = (0, 0)  # (ts_event, arrival sequence) of the open: the earliest
        self.open = 0.0
        self.high = -math.inf
        self.low = math.inf
        self.close_key = (0, 0)  # of the close: the latest
        self.close = 0.0
        self.volume = 0
        self.pv = 0  # sum of price x size, prices in units of 1e-8
        self.trades = 0
        # Trade ids counted, in arrival order. A dict of strings, not a set: the garbage collector does not
        # track a dict whose keys and values are all strings and None, so the ids of every open bar (a
        # million and more at 50,000 prints/s) add nothing to a collection's pause.
        self.ids: dict[str, None] = {}
        self.new_ids: list[str] = []  # those counted since the last `take_new_ids`
        self.has_ohlc = False


class SymbolState:
    __slots__ = ("watermark", "bars", "first_end", "window_start", "window_end", "window_session")

    def __init__(self) -> None:
        self.watermark: int | None = None
        self.bars: dict[int, OpenBar] = {}
        self.first_end = NEVER  # the earliest end of an open bar: nothing closes before the watermark passes it
        self.window_start = 0
        self.window_end = 0
        self.window_session: Session = Session.CLOSED

    def locate(self, calendar: MarketCalendar, ts_event: int) -> None:
        """Cache the session window holding `ts_event` (called when it is outside the cached one)."""
        session, self.window_start, self.window_end, _ = calendar.locate(ts_event)
        self.window_session = session

    def open_bar(self, start: int, end: int, session: str) -> OpenBar:
        bar = self.bars[start] = OpenBar(start, end, session)
        if end < self.first_end:
            self.first_end = end
        return bar

    def refresh_first_end(self) -> None:
        """After bars closed."""
        self.first_end = min((bar.end for bar in self.bars.values()), default=NEVER)

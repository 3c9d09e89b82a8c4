"""When a strategy is evaluated: its evaluation clock, shared by the engine and the vectorised backtest.

A clock numbers the evaluation instants (slot k is instant k) and tells which slot an event time has
reached. The engine evaluates when an event's slot is later than every earlier event's (see
`StrategyEngine.on_event`); the instant evaluated and the moment checked against the scanner's days
and hours follow from the clock:

    IntervalClock       intraday timeframes: the multiples of the scanner's interval (epoch-aligned).
                        Slot k is reached at instant k itself, so instant E is evaluated on the
                        events before E (a bar ending at E is seen at the next instant). The schedule
                        is checked at E.
    SessionCloseClock   the 1d timeframe: the regular-session closes of the calendar (16:00 ET, 13:00
                        on early-close days), one per trading day; `interval` does not apply. Slot k
                        is reached only after close k (plus the bars' allowed lateness), so the close
                        is evaluated on every event up to and including it: the daily bar that ends
                        there, its indicators and the session's last price. The schedule is checked
                        at the daily bar's last nanosecond (close - 1 ns), so the window "09:30-16:00"
                        holds the 16:00 close, as it holds the bar.

Both have a scalar form (the engine) and a vectorised one (the backtest); the tests hold them equal.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from processors.bars import NS, Timeframe
from processors.calendar import MarketCalendar


class EvaluationClock(Protocol):
    def slot(self, ts_ns: int) -> int:
        """The last slot reached at event time `ts_ns`."""

    def instant(self, slot: int) -> int:
        """The instant (ns UTC) of slot `slot` (>= 1 for the session clock)."""

    def scheduled_at(self, instant: int) -> int:
        """The moment checked against the scanner's days and hours for `instant`."""

    def slots(self, ts_ns: np.ndarray) -> np.ndarray: ...

    def instants(self, slots: np.ndarray) -> np.ndarray: ...

    def scheduled_at_many(self, instants: np.ndarray) -> np.ndarray: ...


class IntervalClock:
    """The multiples of `interval_ns` since the epoch."""

    def __init__(self, interval_ns: int) -> None:
        if interval_ns <= 0:
            raise ValueError(f"interval_ns must be positive, got {interval_ns}")
        self.interval_ns = interval_ns

    def slot(self, ts_ns: int) -> int:
        return ts_ns // self.interval_ns

    def instant(self, slot: int) -> int:
        return slot * self.interval_ns

    def scheduled_at(self, instant: int) -> int:
        return instant

    def slots(self, ts_ns: np.ndarray) -> np.ndarray:
        return ts_ns // self.interval_ns

    def instants(self, slots: np.ndarray) -> np.ndarray:
        return slots * self.interval_ns

    def scheduled_at_many(self, instants: np.ndarray) -> np.ndarray:
        return instants


class SessionCloseClock:
    """The session closes `closes` (sorted ns UTC); slot k, the k-th close, is reached by an event time
    later than that close plus `lateness_ns` (the bars' allowed lateness: the daily bar is closed then)."""

    def __init__(self, closes: Sequence[int], lateness_ns: int = 0) -> None:
        if lateness_ns < 0:
            raise ValueError(f"lateness_ns must not be negative, got {lateness_ns}")
        self.closes = np.asarray(sorted(closes), dtype=np.int64)
        self._closes = self.closes.tolist()
        self.lateness_ns = lateness_ns

    def slot(self, ts_ns: int) -> int:
        return bisect.bisect_left(self._closes, ts_ns - self.lateness_ns)  # closes strictly before

    def instant(self, slot: int) -> int:
        return self._closes[slot - 1]

    def scheduled_at(self, instant: int) -> int:
        return instant - 1

    def slots(self, ts_ns: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.closes, ts_ns - self.lateness_ns, side="left").astype(np.int64)

    def instants(self, slots: np.ndarray) -> np.ndarray:
        # a slot past the last close is never evaluated; any value will do for it
        return self.closes[np.clip(slots - 1, 0, max(len(self.closes) - 1, 0))] if len(self.closes) else slots

    def scheduled_at_many(self, instants: np.ndarray) -> np.ndarray:
        return instants - 1


def strategy_clock(config: Any, calendar: MarketCalendar, lateness_ns: int = 0) -> EvaluationClock:
    """The clock of a scanner `config`: its session closes for the 1d timeframe, else its interval."""
    if Timeframe.parse(config.timeframe).length_ns is None:
        return SessionCloseClock([day.close for day in calendar.days], lateness_ns)
    return IntervalClock(int(config.interval.total_seconds() * NS))

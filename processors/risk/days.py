"""Business days for the risk rules, from the NYSE calendar (`processors.calendar.MarketCalendar`).

A business day is a trading day of the calendar (an early-close day is one). The day-trade window of the
legacy regime and T+1 settlement count these days; `None` answers a question the calendar does not reach,
so the caller can refuse with that reason instead of guessing. Build one `TradingDays` per calendar and
reuse it: the lookups are binary searches over the dates.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from processors.calendar import MarketCalendar


@dataclass(frozen=True, slots=True)
class TradingDays:
    dates: tuple[dt.date, ...]   # sorted, distinct

    @classmethod
    def of(cls, calendar: MarketCalendar) -> TradingDays:
        return cls(tuple(sorted({day.date for day in calendar.days})))

    def covers(self, day: dt.date) -> bool:
        return bool(self.dates) and self.dates[0] <= day <= self.dates[-1]

    def is_business_day(self, day: dt.date) -> bool:
        i = bisect.bisect_left(self.dates, day)
        return i < len(self.dates) and self.dates[i] == day

    def last_n(self, day: dt.date, count: int) -> tuple[dt.date, ...] | None:
        """The `count` business days ending on `day` (on the one before it when `day` is not a business
        day), oldest first; None when the calendar does not cover them all."""
        if not self.covers(day):
            return None
        end = bisect.bisect_right(self.dates, day)
        if end < count:
            return None
        return self.dates[end - count:end]

    def next_business_day(self, day: dt.date, closed: Collection[dt.date] = frozenset()) -> dt.date | None:
        """The first business day after `day` that is not in `closed`; None past the calendar's end."""
        i = bisect.bisect_right(self.dates, day)
        while i < len(self.dates):
            if self.dates[i] not in closed:
                return self.dates[i]
            i += 1
        return None

"""U.S. equity market calendar and sessions, precomputed for per-tick use.

Trading days, holidays and early closes come from pandas-market-calendars (NYSE), called only in
`build_nyse_calendar`; the session hours are data (`SessionHours`), applied here in ET:

    pre-market   04:00 - 09:30 ET
    regular      09:30 - 16:00 ET   (13:00 on early-close days)
    post-market  16:00 - 20:00 ET   (13:00 - 17:00 on early-close days: NYSE Group's own schedule;
                                     we derive this ourselves rather than trust the library)
    overnight    optional: post close of the previous day to pre-open (for 22-23 h sessions)

Holidays or early closes the library gets wrong can be corrected with `extra_holidays` and
`extra_early_closes`. Everything is stored as UTC integer nanoseconds; DST is handled by building
each day's times in America/New_York. `MarketCalendar.session_at(ts_ns)` answers "which session is
this instant in" with one binary search over precomputed boundaries (no library call per tick).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

import numpy as np


ET = ZoneInfo("America/New_York")
UTC = dt.timezone.utc
NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class SessionWindow:
    """One session of one trading day: [start_ns, end_ns) in UTC and its name (pre, regular, post)."""

    start_ns: int
    end_ns: int
    session: str


class Session(str, Enum):
    CLOSED = "closed"
    OVERNIGHT = "overnight"
    PRE = "pre"
    REGULAR = "regular"
    POST = "post"


# Session selections accepted by bar aggregation and the CLIs.
SESSION_SELECTIONS: dict[str, frozenset[Session]] = {
    "regular": frozenset({Session.REGULAR}),
    "pre": frozenset({Session.PRE}),
    "post": frozenset({Session.POST}),
    "extended": frozenset({Session.PRE, Session.REGULAR, Session.POST}),
    "all": frozenset({Session.OVERNIGHT, Session.PRE, Session.REGULAR, Session.POST}),
}


def parse_sessions(text: str) -> frozenset[Session]:
    try:
        return SESSION_SELECTIONS[text]
    except KeyError:
        raise ValueError(f"session must be one of {', '.join(SESSION_SELECTIONS)}, not {text!r}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionHours:
    """Session hours in ET; overridable by settings without code changes."""

    pre_open: dt.time = dt.time(4, 0)
    regular_open: dt.time = dt.time(9, 30)
    regular_close: dt.time = dt.time(16, 0)
    post_close: dt.time = dt.time(20, 0)
    early_close: dt.time = dt.time(13, 0)
    early_post_close: dt.time = dt.time(17, 0)
    overnight: bool = False

    def __post_init__(self) -> None:
        if not self.pre_open <= self.regular_open < self.regular_close <= self.post_close:
            raise ValueError("session hours must satisfy pre_open <= regular_open < regular_close <= post_close")
        if not self.regular_open < self.early_close <= self.early_post_close:
            raise ValueError("early_close must be after regular_open and not after early_post_close")


@dataclass(frozen=True, slots=True)
class TradingDay:
    """One trading day's session boundaries, UTC nanoseconds."""

    date: dt.date
    pre_open: int
    open: int
    close: int
    post_close: int
    early_close: bool
    overnight_open: int | None = None

    def windows(self) -> list[tuple[int, int, Session]]:
        spans = []
        if self.overnight_open is not None and self.overnight_open < self.pre_open:
            spans.append((self.overnight_open, self.pre_open, Session.OVERNIGHT))
        spans += [(self.pre_open, self.open, Session.PRE), (self.open, self.close, Session.REGULAR),
                  (self.close, self.post_close, Session.POST)]
        return [s for s in spans if s[0] < s[1]]


def to_ns(day: dt.date, at: dt.time) -> int:
    """ET wall time on `day` to UTC nanoseconds (DST-aware)."""
    local = dt.datetime.combine(day, at, tzinfo=ET)
    return int(local.timestamp()) * NS


@dataclass(slots=True)
class MarketCalendar:
    """Precomputed trading days; answers session questions without calling any library."""

    days: list[TradingDay]
    _starts: list[int] = field(init=False, repr=False)
    _ends: list[int] = field(init=False, repr=False)
    _sessions: list[Session] = field(init=False, repr=False)
    _day_index: list[int] = field(init=False, repr=False)
    _by_date: dict[dt.date, TradingDay] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.days = sorted(self.days, key=lambda d: d.date)
        self._starts, self._ends, self._sessions, self._day_index = [], [], [], []
        for index, day in enumerate(self.days):
            for start, end, session in day.windows():
                if self._ends and start < self._ends[-1]:
                    raise ValueError(f"sessions of {day.date} overlap the previous day's")
                self._starts.append(start)
                self._ends.append(end)
                self._sessions.append(session)
                self._day_index.append(index)
        self._by_date = {d.date: d for d in self.days}

    @property
    def first_ns(self) -> int:
        return self._starts[0] if self._starts else 0

    @property
    def last_ns(self) -> int:
        return self._ends[-1] if self._ends else 0

    def covers(self, ts_ns: int) -> bool:
        return bool(self._starts) and self.first_ns <= ts_ns < self.last_ns

    def locate(self, ts_ns: int) -> tuple[Session, int, int, TradingDay | None]:
        """(session, window start, window end, trading day) of an instant; CLOSED outside windows."""
        i = bisect.bisect_right(self._starts, ts_ns) - 1
        if i >= 0 and ts_ns < self._ends[i]:
            return self._sessions[i], self._starts[i], self._ends[i], self.days[self._day_index[i]]
        return Session.CLOSED, 0, 0, None

    def session_at(self, ts_ns: int) -> Session:
        return self.locate(ts_ns)[0]

    def sessions_at(self, ts_ns: np.ndarray) -> np.ndarray:
        """Vectorised `session_at`: an array of Session values (object dtype)."""
        starts = np.asarray(self._starts, dtype=np.int64)
        ends = np.asarray(self._ends, dtype=np.int64)
        index = np.searchsorted(starts, ts_ns, side="right") - 1
        inside = (index >= 0) & (ts_ns < ends[np.clip(index, 0, None)])
        table = np.array([*self._sessions, Session.CLOSED], dtype=object)
        return table[np.where(inside, index, len(self._sessions))]

    def window_arrays(self) -> tuple[np.ndarray, np.ndarray, list[Session]]:
        return (np.asarray(self._starts, dtype=np.int64), np.asarray(self._ends, dtype=np.int64),
                list(self._sessions))

    def holidays(self) -> frozenset[dt.date]:
        """Weekdays inside the calendar's range that are not trading days (the exchange's holidays)."""
        if not self.days:
            return frozenset()
        first, last = self.days[0].date, self.days[-1].date
        weekdays = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
        return frozenset(d for d in weekdays if d.weekday() < 5 and d not in self._by_date)

    def day(self, date: dt.date) -> TradingDay | None:
        return self._by_date.get(date)

    def amend(self, other: MarketCalendar, from_date: dt.date) -> None:
        """Take `other`'s days from `from_date` on in place of this calendar's (the days before it are kept):
        every holder of this calendar sees a settings change that applies from that date. ValueError (this
        calendar unchanged) when the two would overlap."""
        days = [d for d in self.days if d.date < from_date] + [d for d in other.days if d.date >= from_date]
        previous = self.days
        self.days = days
        try:
            self.__post_init__()
        except ValueError:
            self.days = previous
            self.__post_init__()
            raise

    def windows(self, sessions: Iterable[Session] = (Session.REGULAR,)) -> list[SessionWindow]:
        wanted = set(sessions)
        return [SessionWindow(s, e, k.value) for s, e, k in zip(self._starts, self._ends, self._sessions)
                if k in wanted]


def build_nyse_calendar(start: dt.date, end: dt.date, hours: SessionHours = SessionHours(),
                        extra_holidays: Sequence[dt.date] = (),
                        extra_early_closes: Sequence[dt.date] = ()) -> MarketCalendar:
    """NYSE trading days in [start, end] with `hours` applied (the only call into the library)."""
    import pandas_market_calendars as mcal

    schedule = mcal.get_calendar("NYSE").schedule(start_date=start.isoformat(), end_date=end.isoformat())
    holidays = set(extra_holidays)
    forced_early = set(extra_early_closes)
    days: list[TradingDay] = []
    previous_post: int | None = None
    for label, row in schedule.iterrows():
        date = label.date()
        if date in holidays:
            continue
        library_close = row["market_close"].tz_convert(ET).time()
        early = date in forced_early or library_close < hours.regular_close
        close_time = hours.early_close if early else hours.regular_close
        post_time = hours.early_post_close if early else hours.post_close
        pre_open = to_ns(date, hours.pre_open)
        days.append(TradingDay(
            date=date, pre_open=pre_open, open=to_ns(date, hours.regular_open), close=to_ns(date, close_time),
            post_close=to_ns(date, post_time), early_close=early,
            overnight_open=previous_post if hours.overnight and previous_post is not None else None,
        ))
        previous_post = days[-1].post_close
    return MarketCalendar(days)


def session_windows(start: dt.date, end: dt.date, sessions: str = "regular") -> list[SessionWindow]:
    """Session windows of NYSE days in [start, end] for a selection name (regular, extended, all...)."""
    return build_nyse_calendar(start, end).windows(parse_sessions(sessions))


def calendar_rows(calendar: MarketCalendar) -> list[dict[str, object]]:
    """Rows for the calendar CSV / trading_sessions table: times as ISO-8601 UTC."""
    def iso(ns: int) -> str:
        return dt.datetime.fromtimestamp(ns // NS, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    return [{"date": d.date.isoformat(), "pre_open": iso(d.pre_open), "open": iso(d.open), "close": iso(d.close),
             "post_close": iso(d.post_close), "early_close": "true" if d.early_close else "false"}
            for d in calendar.days]

"""The instants the engine evaluates, found from the events' times alone, and the ET calendar
arithmetic they need (weekday, wall time, date), vectorised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from processors.strategies.clock import EvaluationClock
from processors.strategies.market import EASTERN, et_date
from processors.strategies.vectorized.events import EventStream

NS = 1_000_000_000
DAY_NS = 86_400 * NS
HOUR_NS = 3_600 * NS


@dataclass(slots=True)
class Evaluations:
    """The evaluated instants in order (see the package docstring, step 2)."""

    position: np.ndarray   # processing index of the event that evaluates (the state is the events before it)
    instant: np.ndarray    # int64 ns
    ts_init: np.ndarray    # the engine's _last_ts_init then

    @property
    def size(self) -> int:
        return len(self.instant)

    @classmethod
    def build(cls, stream: EventStream, clock: EvaluationClock, schedule: Callable[..., Any],
              vectorised: bool) -> Evaluations:
        slots = clock.slots(stream.time)  # a clock's slot never decreases with time
        latest = np.maximum.accumulate(slots)
        candidates = np.flatnonzero(slots[1:] > latest[:-1]) + 1
        candidates = candidates[candidates < stream.finish_position]  # finish() evaluates nothing
        next_due = clock.instants(latest[candidates - 1] + 1)
        last_due = clock.instants(slots[candidates])

        def in_schedule(instants: np.ndarray) -> np.ndarray:
            moments = clock.scheduled_at_many(instants)
            if vectorised:
                return schedule(moments)
            return np.fromiter((bool(schedule(int(t))) for t in moments.tolist()), dtype=bool, count=len(moments))

        next_ok = in_schedule(next_due)
        instant = np.where(next_ok, next_due, last_due)
        evaluated = next_ok.copy()
        evaluated[~next_ok] = in_schedule(last_due[~next_ok])
        position = candidates[evaluated]
        seen_init = np.maximum(np.maximum.accumulate(stream.ts_init), 0)
        return cls(position=position, instant=instant[evaluated], ts_init=seen_init[position - 1])


def config_schedule(config: Any, instants: np.ndarray) -> np.ndarray:
    """`processors.scanner.in_schedule(config, t)` of each instant: the ET weekday and wall time of
    the whole second."""
    if len(instants) == 0:
        return np.zeros(0, dtype=bool)
    local = _local_ns(instants // NS * NS)
    days = local // DAY_NS
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    second = local % DAY_NS // NS
    begin = config.start_time.hour * 3600 + config.start_time.minute * 60 + config.start_time.second
    finish = config.end_time.hour * 3600 + config.end_time.minute * 60 + config.end_time.second
    return np.isin(weekday, sorted(config.weekdays)) & (second >= begin) & (second < finish)


def _local_ns(ts_ns: np.ndarray) -> np.ndarray:
    """ET wall-clock nanoseconds since the epoch of each UTC instant. America/New_York changes its
    offset on whole UTC hours, so one offset per hour the instants touch is enough."""
    hours, inverse = np.unique(ts_ns // HOUR_NS, return_inverse=True)
    offsets = np.array([dt.datetime.fromtimestamp(hour * 3600, EASTERN).utcoffset() // dt.timedelta(seconds=1)
                        for hour in hours.tolist()], dtype=np.int64)
    return ts_ns + offsets[inverse.reshape(-1)] * NS


def et_days(ts_ns: np.ndarray) -> np.ndarray:
    """`market.et_date` of each instant as days since 1970-01-01. It reads ts/1e9 as a float rounded
    to the microsecond, so whole microseconds are exact here; others go through the function."""
    days = _local_ns(ts_ns) // DAY_NS if len(ts_ns) else np.zeros(0, dtype=np.int64)
    odd = np.flatnonzero(ts_ns % 1000 != 0)
    epoch = dt.date(1970, 1, 1)
    for i in odd.tolist():
        days[i] = (et_date(int(ts_ns[i])) - epoch).days
    return days

"""The fault suite's ground truth: simulated prints cut into phases, the bars the batch core makes of
them, and what PostgreSQL holds of both.

One regular session of a past NYSE day (about 90 days back, so neither the simulated feed's recent
sessions nor any clock-bound check touches it) is played for `phases * PHASE_MINUTES` minutes by
`MarketSimulator` for the suite's own symbols, without bad prints. Phase k's prints are those dated in
its `PHASE_MINUTES`; each phase is published in two halves (one while its fault is on, one after).

A row belongs to a phase:
- a print (trade_ticks row) to the phase it is published in;
- a bar (bars row) to the phase whose prints first move its symbol's watermark to its end plus the
  lateness: the phase after which the stream can close it. Bars the last print does not close are not
  expected (the stream holds them open).
A row is present when PostgreSQL holds its natural key with exactly the expected values.
"""

from __future__ import annotations

import bisect
import datetime as dt
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from processors.bars import TickArrays, aggregate_batch
from processors.calendar import SessionWindow, build_nyse_calendar, parse_sessions
from processors.model import TradeTick
from processors.simulation import MarketSimulator, SimulationConfig

NS_PER_MINUTE = 60 * 10**9
PHASE_MINUTES = 10
TIMEFRAMES = ("1m", "5m")
LATENESS_MS = 2000
SESSIONS = "regular"
DAYS_BACK = 90

TickKey = tuple[str, str]            # symbol, trade_id
BarKey = tuple[str, str, int]        # symbol, timeframe, start_ns
TickValue = tuple[int, Decimal, int]  # ts_event_ns, price, size
BarValue = tuple                     # end_ns, open, high, low, close, volume, vwap, trades


@dataclass(frozen=True, slots=True)
class Phase:
    index: int
    ticks: tuple[TradeTick, ...]
    tick_keys: frozenset[TickKey]
    bar_keys: frozenset[BarKey]

    def halves(self) -> tuple[Sequence[TradeTick], Sequence[TradeTick]]:
        middle = len(self.ticks) // 2
        return self.ticks[:middle], self.ticks[middle:]


@dataclass(slots=True)
class Stored:
    """What PostgreSQL holds for the suite's symbols."""

    ticks: dict[TickKey, TickValue] = field(default_factory=dict)
    bars: dict[BarKey, BarValue] = field(default_factory=dict)


def partition_of(symbol: str, partitions: int) -> int:
    """The partition of a record keyed by `symbol`: librdkafka's default partitioner (consistent_random,
    the CRC-32 of the key modulo the partition count), which every producer of ours uses."""
    return zlib.crc32(symbol.encode()) % partitions


def symbols_beside(others: Sequence[str], token: str, partitions: int) -> tuple[str, ...]:
    """One new symbol per symbol of `others`, named from `token`, keyed onto the same partition."""
    chosen = []
    for letter, other in zip("ABCDEFGH", others):
        candidates = (f"F{letter}{token[:4]}{n}".upper() for n in range(10_000))
        chosen.append(next(c for c in candidates if partition_of(c, partitions) == partition_of(other, partitions)))
    return tuple(chosen)


def session_day(today: dt.date) -> SessionWindow:
    """The regular session of the first NYSE trading day DAYS_BACK days before `today`."""
    first = today - dt.timedelta(days=DAYS_BACK)
    calendar = build_nyse_calendar(first, first + dt.timedelta(days=14))
    return calendar.windows(parse_sessions(SESSIONS))[0]


class GroundTruth:
    """The prints to publish, phase by phase, and every row PostgreSQL must end up holding."""

    def __init__(self, symbols: tuple[str, ...], phases: int, today: dt.date, seed: int = 16) -> None:
        self.symbols = symbols
        window = session_day(today)
        self.open_ns = window.start_ns
        span_ns = phases * PHASE_MINUTES * NS_PER_MINUTE
        if window.start_ns + span_ns > window.end_ns:
            raise ValueError(f"{phases} phases of {PHASE_MINUTES} min do not fit in one session")
        played = SessionWindow(window.start_ns, window.start_ns + span_ns, window.session)
        ticks = list(MarketSimulator(SimulationConfig(symbols=symbols, seed=seed, trades_per_minute=60,
                                                      bad_print_probability=0.0), [played]).ticks())
        self.ticks: dict[TickKey, TickValue] = {(t.symbol, t.trade_id): (t.ts_event, t.price, t.size) for t in ticks}
        self.bars: dict[BarKey, BarValue] = {}
        bar_phase: dict[BarKey, int] = {}
        for bar, phase in self._closed_bars(ticks, window):
            key = (bar.symbol, bar.timeframe, bar.start)
            self.bars[key] = (bar.end, bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap, bar.trades)
            bar_phase[key] = phase
        self.phases = [
            Phase(k, tuple(t for t in ticks if self.phase_of(t.ts_event) == k),
                  frozenset((t.symbol, t.trade_id) for t in ticks if self.phase_of(t.ts_event) == k),
                  frozenset(key for key, phase in bar_phase.items() if phase == k))
            for k in range(phases)]

    def phase_of(self, ts_event: int) -> int:
        return (ts_event - self.open_ns) // (PHASE_MINUTES * NS_PER_MINUTE)

    def _closed_bars(self, ticks: list[TradeTick], window: SessionWindow) -> list[tuple[object, int]]:
        """The batch core's bars that the stream closes, with the phase whose prints close each."""
        day = dt.datetime.fromtimestamp(window.start_ns / 1e9, dt.timezone.utc).date()
        calendar = build_nyse_calendar(day - dt.timedelta(days=3), day + dt.timedelta(days=3))
        lateness_ns = LATENESS_MS * 1_000_000
        times = {s: sorted(t.ts_event for t in ticks if t.symbol == s) for s in self.symbols}
        closed = []
        for timeframe in TIMEFRAMES:
            for bar in aggregate_batch(TickArrays.from_ticks(ticks), timeframe, parse_sessions(SESSIONS), calendar,
                                       lateness_ns).bars:
                first_after = bisect.bisect_left(times[bar.symbol], bar.end + lateness_ns)
                if first_after < len(times[bar.symbol]):
                    closed.append((bar, self.phase_of(times[bar.symbol][first_after])))
        return closed

    # -- comparison -------------------------------------------------------------------------------------
    def missing(self, stored: Stored, phase: Phase) -> list[tuple]:
        """Rows of `phase` not (yet) stored with their expected values: ('tick', key) or ('bar', key)."""
        return sorted([("tick", key) for key in phase.tick_keys if stored.ticks.get(key) != self.ticks[key]]
                      + [("bar", key) for key in phase.bar_keys if stored.bars.get(key) != self.bars[key]])

    def extra(self, stored: Stored, tolerated_ticks: frozenset[TickKey] = frozenset()) -> set[tuple]:
        """Stored rows whose natural key is not expected at all ('tick', key) or ('bar', key)."""
        return ({("tick", key) for key in stored.ticks if key not in self.ticks and key not in tolerated_ticks}
                | {("bar", key) for key in stored.bars if key not in self.bars})


def read_stored(database_url: str, symbols: Sequence[str]) -> Stored:
    with psycopg.connect(database_url, connect_timeout=5) as conn:
        ticks = conn.execute("select symbol, trade_id, ts_event_ns, price, size from trade_ticks "
                             "where symbol = any(%s)", (list(symbols),)).fetchall()
        bars = conn.execute("select symbol, timeframe, start_ns, end_ns, open, high, low, close, volume, vwap, trades "
                            "from bars where symbol = any(%s)", (list(symbols),)).fetchall()
    return Stored({(r[0], r[1]): (r[2], r[3], r[4]) for r in ticks},
                  {(r[0], r[1], r[2]): tuple(r[3:]) for r in bars})

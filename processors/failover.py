"""Fail-over between a primary and a secondary market-data feed, as a pure state machine.

Time is given by the caller (`now_ns`), and so is whether the market is open; nothing here reads a
clock or a calendar.

- The secondary takes over when, during market hours, the primary is disconnected or has been
  silent longer than `silence_ns`.
- It hands back once the primary has been connected and delivering for `recovery_ns`.
- Ticks are published from the active feed only. The standby feed's recent ticks are kept in a bounded
  buffer; at a switch, the new active feed's buffered ticks that were not published yet are released
  (`Switch.backlog`), so a trade delivered late by either feed around the switch is neither lost nor
  published twice.
- Matching across feeds cannot use trade ids (IBKR sends none, Polygon sends SIP ids) nor exact times
  (IBKR tick-by-tick times are whole seconds, Polygon's milliseconds). A trade's key is
  (symbol, ts_event floored to `match_resolution_ns`, price, size), and identical keys are counted:
  the n-th tick of a key from one feed is the same trade as the n-th of that key from the other.
  A tick is published when no feed has published its occurrence yet, so two real prints with the
  same price and size in the same second are both kept. The ledger covers the last
  `dedup_capacity` keys. Limitation: two feeds whose clocks put one trade in different seconds
  publish it twice; the resolution is a setting.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

from processors.model import TradeTick

PRIMARY = "primary"
SECONDARY = "secondary"


@dataclass(frozen=True, slots=True)
class Switch:
    at_ns: int
    to: str          # PRIMARY or SECONDARY
    event: str       # "failover" or "handback"
    reason: str
    backlog: tuple[TradeTick, ...] = field(default=())  # to publish now, in order


@dataclass(slots=True)
class _FeedHealth:
    connected: bool = False
    last_tick_ns: int | None = None
    healthy_since_ns: int | None = None


class FailoverController:
    def __init__(self, silence_ns: int = 5_000_000_000, recovery_ns: int = 10_000_000_000,
                 dedup_capacity: int = 100_000, match_resolution_ns: int = 1_000_000_000) -> None:
        if silence_ns <= 0:
            raise ValueError("silence_ns must be positive")
        if recovery_ns < 0:
            raise ValueError("recovery_ns must not be negative")
        if dedup_capacity <= 0:
            raise ValueError("dedup_capacity must be positive")
        if match_resolution_ns <= 0:
            raise ValueError("match_resolution_ns must be positive")
        self.match_resolution_ns = match_resolution_ns
        self._started_ns: int | None = None
        self.silence_ns = silence_ns
        self.recovery_ns = recovery_ns
        self.active = PRIMARY
        self.feeds = {PRIMARY: _FeedHealth(), SECONDARY: _FeedHealth()}
        # key -> [occurrences seen from the primary, from the secondary, occurrences published]
        self._ledger: OrderedDict[tuple, list[int]] = OrderedDict()
        self._capacity = dedup_capacity
        self._standby: dict[str, deque[tuple[int, tuple, TradeTick]]] = {
            PRIMARY: deque(maxlen=dedup_capacity), SECONDARY: deque(maxlen=dedup_capacity)}

    # -- feed events -------------------------------------------------------------------------------
    def on_connection(self, feed: str, connected: bool, now_ns: int) -> None:
        if self._started_ns is None:
            self._started_ns = now_ns
        health = self.feeds[feed]
        health.connected = connected
        health.healthy_since_ns = now_ns if connected else None
        if connected:
            health.last_tick_ns = now_ns  # silence is counted from the (re)connection

    def on_tick(self, feed: str, tick: TradeTick, now_ns: int) -> bool:
        """Record a tick from `feed`; True when it should be published now (active feed, not seen)."""
        health = self.feeds[feed]
        health.last_tick_ns = now_ns
        if health.healthy_since_ns is None and health.connected:
            health.healthy_since_ns = now_ns
        key = self.key(tick)
        counts = self._counts(key)
        column = 0 if feed == PRIMARY else 1
        counts[column] += 1
        occurrence = counts[column]
        if feed != self.active:
            self._standby[feed].append((occurrence, key, tick))
            return False
        return self._claim(counts, occurrence)

    def key(self, tick: TradeTick) -> tuple:
        return (tick.symbol, tick.ts_event // self.match_resolution_ns, tick.price, tick.size)

    def _counts(self, key: tuple) -> list[int]:
        counts = self._ledger.get(key)
        if counts is None:
            counts = self._ledger[key] = [0, 0, 0]
            if len(self._ledger) > self._capacity:
                self._ledger.popitem(last=False)
        return counts

    @staticmethod
    def _claim(counts: list[int], occurrence: int) -> bool:
        """Publish the `occurrence`-th trade of a key unless some feed already published it."""
        if occurrence <= counts[2]:
            return False
        counts[2] = occurrence
        return True

    def _release(self, feed: str) -> tuple[TradeTick, ...]:
        """The buffered ticks of the feed becoming active that were not published yet."""
        released = []
        for occurrence, key, tick in self._standby[feed]:
            if self._claim(self._counts(key), occurrence):
                released.append(tick)
        self._standby[feed].clear()
        self._standby[PRIMARY if feed == SECONDARY else SECONDARY].clear()
        return tuple(released)

    # -- decisions -----------------------------------------------------------------------------------
    def _primary_failing(self, now_ns: int) -> str | None:
        primary = self.feeds[PRIMARY]
        if self._started_ns is None:
            self._started_ns = now_ns
        if not primary.connected and primary.last_tick_ns is None and now_ns - self._started_ns <= self.silence_ns:
            return None  # still starting: a primary gets `silence_ns` to connect before it is failing
        if not primary.connected:
            return "primary disconnected"
        if primary.last_tick_ns is not None and now_ns - primary.last_tick_ns > self.silence_ns:
            return f"primary silent for {(now_ns - primary.last_tick_ns) / 1e9:.1f} s"
        return None

    def evaluate(self, now_ns: int, market_open: bool) -> Switch | None:
        """Decide whether to switch; call it on every heartbeat and tick."""
        if self.active == PRIMARY:
            reason = self._primary_failing(now_ns) if market_open else None
            secondary = self.feeds[SECONDARY]
            if reason is not None and secondary.connected:
                self.active = SECONDARY
                self.feeds[PRIMARY].healthy_since_ns = None
                return Switch(now_ns, SECONDARY, "failover", reason, self._release(SECONDARY))
            return None
        primary = self.feeds[PRIMARY]
        if (self._primary_failing(now_ns) is None and primary.healthy_since_ns is not None
                and now_ns - primary.healthy_since_ns >= self.recovery_ns):
            self.active = PRIMARY
            return Switch(now_ns, PRIMARY, "handback",
                          f"primary healthy for {(now_ns - primary.healthy_since_ns) / 1e9:.1f} s",
                          self._release(PRIMARY))
        if not primary.connected:
            primary.healthy_since_ns = None
        return None

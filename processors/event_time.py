"""Event-time sanity: a print dated far from when it arrived is refused before it touches any state.

One print dated 24 h ahead moved a symbol's watermark: every real print after it was "late", a bar
closed early and the next ones went missing, and the watermark lived in the changelogged state, so a
restart kept it. Every consumer of trades (the bars stage, the strategy runner) asks `refusal` first
and dead-letters what it refuses.

The arrival time is the earlier of the print's own arrival stamp (`ts_init`, set by our feed) and the
time its Kafka record was written, when there is one: both are stored with the record, so a replay of
the same records refuses the same prints (no wall clock here), and a print whose `ts_init` was dated
ahead with its event time is still caught by the record's time. A print with neither (ts_init 0, no
record time) has nothing to be compared with and passes.

- ahead: `ts_event - arrival > max_ahead_ns` is refused (default one minute: exchange clocks and ours
  agree far better than that);
- behind: `arrival - ts_event > max_behind_ns` is refused when `max_behind_ns` is set (default off:
  the replay and simulated feeds publish past sessions; a live deployment sets it, e.g. one hour).
"""

from __future__ import annotations

from dataclasses import dataclass

NS_PER_MS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class EventTimeBounds:
    max_ahead_ms: int = 60_000
    """How far an event time may be after its arrival (EVENT_TIME_MAX_AHEAD_MS)."""
    max_behind_ms: int = 0
    """How far an event time may be before its arrival; 0: no limit (EVENT_TIME_MAX_BEHIND_MS)."""

    def __post_init__(self) -> None:
        if self.max_ahead_ms < 0:
            raise ValueError("max_ahead_ms must be >= 0")
        if self.max_behind_ms < 0:
            raise ValueError("max_behind_ms must be >= 0 (0: no limit)")

    def refusal(self, ts_event: int, ts_init: int, record_ns: int | None = None) -> str | None:
        """Why a print with these times is refused, or None when its event time is plausible."""
        known = [t for t in (ts_init, record_ns) if t and t > 0]
        if not known:
            return None  # no arrival time to compare with (a hand-made record, a test's print)
        arrival = min(known)
        ahead = ts_event - arrival
        if ahead > self.max_ahead_ms * NS_PER_MS:
            return (f"event time {ts_event} is {ahead / 1e9:.3f} s after its arrival {arrival} "
                    f"(at most {self.max_ahead_ms} ms allowed)")
        if self.max_behind_ms and -ahead > self.max_behind_ms * NS_PER_MS:
            return (f"event time {ts_event} is {-ahead / 1e9:.3f} s before its arrival {arrival} "
                    f"(at most {self.max_behind_ms} ms allowed)")
        return None

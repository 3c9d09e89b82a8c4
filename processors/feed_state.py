"""The market-data feeds' state for the dashboard: which feed is serving the prints, whether a fail-over pair runs
on its primary or has failed over to its secondary, and each feed's last report, from FeedStatusChanged reports.

    board = FeedBoard()
    board.update(report)                       # each FeedStatusChanged, as a decoded mapping, in topic order
    board.overview(now_ns, stale_after_ns)     # {"mode", "active_feed", "last_switch", "feeds": [...]}

Modes: "primary" (the pair's primary serves), "fail-over" (its secondary serves, since `last_switch`), "single" (a
feed without a pair serves), "down" (no feed has reported as active, connected and fresh within `stale_after_ns`).
A report's `role` (primary, secondary, empty for a feed alone) comes from `connectors.failover.FailoverFeed`; a
report written before the field existed reads as a feed alone. The time is given, never read here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SWITCHES = frozenset({"failover", "handback"})
MODE_OF_ROLE = {"primary": "primary", "secondary": "fail-over", "": "single"}


@dataclass(frozen=True, slots=True)
class FeedReport:
    """The last report of one feed."""

    feed: str
    role: str
    ts_init: int
    connected: bool
    active: bool
    messages_per_second: float
    last_latency_ns: int | None
    event: str
    detail: str

    @classmethod
    def of(cls, report: Mapping[str, Any]) -> FeedReport:
        return cls(feed=str(report["feed"]), role=str(report.get("role") or ""), ts_init=int(report["ts_init"]),
                   connected=bool(report["connected"]), active=bool(report["active"]),
                   messages_per_second=float(report["messages_per_second"]),
                   last_latency_ns=None if report.get("last_latency_ns") is None else int(report["last_latency_ns"]),
                   event=str(report["event"]), detail=str(report.get("detail") or ""))


class FeedBoard:
    """Each feed's newest report and the newest fail-over or hand-back; `overview` judges them at an instant."""

    def __init__(self) -> None:
        self.reports: dict[str, FeedReport] = {}
        self.last_switch: FeedReport | None = None

    def update(self, report: Mapping[str, Any]) -> None:
        """Take a FeedStatusChanged (decoded fields); an older report of a feed than the one held is ignored."""
        current = FeedReport.of(report)
        known = self.reports.get(current.feed)
        if known is None or current.ts_init >= known.ts_init:
            self.reports[current.feed] = current
        if current.event in SWITCHES and (self.last_switch is None or current.ts_init >= self.last_switch.ts_init):
            self.last_switch = current

    def overview(self, now_ns: int, stale_after_ns: int) -> dict[str, object]:
        """The mode, the serving feed and every feed's last report (fresh: reported within `stale_after_ns`)."""
        if stale_after_ns <= 0:
            raise ValueError("stale_after_ns must be positive")
        fresh = {name: now_ns - r.ts_init <= stale_after_ns for name, r in self.reports.items()}
        serving = [r for r in self.reports.values() if r.active and r.connected and fresh[r.feed]]
        active = max(serving, key=lambda r: r.ts_init, default=None)
        mode = "down" if active is None else MODE_OF_ROLE.get(active.role, "single")
        switch = self.last_switch
        return {
            "mode": mode,
            "active_feed": None if active is None else active.feed,
            "last_switch": None if switch is None else {"event": switch.event, "feed": switch.feed,
                                                        "role": switch.role, "ts_ns": switch.ts_init,
                                                        "detail": switch.detail},
            "feeds": [{"feed": r.feed, "role": r.role, "connected": r.connected, "active": r.active,
                       "fresh": fresh[r.feed], "age_s": round((now_ns - r.ts_init) / 1e9, 1),
                       "messages_per_second": r.messages_per_second,
                       "last_latency_ms": None if r.last_latency_ns is None else r.last_latency_ns / 1e6,
                       "event": r.event, "detail": r.detail, "ts_ns": r.ts_init}
                      for r in sorted(self.reports.values(), key=lambda r: (r.role != "primary", r.feed))],
        }

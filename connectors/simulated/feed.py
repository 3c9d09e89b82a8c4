"""The simulated feed: plays seeded simulated trading on real NYSE session days, accelerated.

Whatever the wall-clock hour, `make run` shows bars forming within a minute: the feed plays the
regular sessions of recent NYSE trading days at SIM_SPEED simulated seconds per wall second
(60 by default: a 5-minute bar every 5 s), compressing the nights between sessions. It says so in
its log and in every FeedStatusChanged heartbeat (shown by /api/health).

Restarting resumes after the last tick already on the topic, so event time never goes backwards and
no tick is published twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from connectors.kafka.publisher import EventPublisher
from processors.calendar import SessionWindow, session_windows
from processors.model import FeedStatusChanged
from processors.simulation import MarketSimulator, SimulationConfig

log = logging.getLogger(__name__)
ET = ZoneInfo("America/New_York")
NS = 1_000_000_000
HEARTBEAT_S = 2.0
# Event-time gaps longer than this (nights, weekends) are skipped instead of waited for.
MAX_GAP_NS = 60 * NS


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulatedFeedConfig:
    symbols: tuple[str, ...]
    seed: int
    speed: float
    days: int = 30
    sessions: str = "regular"

    def __post_init__(self) -> None:
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.days <= 0:
            raise ValueError("days must be positive")
        if self.sessions not in ("regular", "extended"):
            raise ValueError("sessions must be regular or extended")


def recent_session_windows(today: dt.date, days: int, sessions: str) -> list[SessionWindow]:
    """The session windows of the `days` NYSE trading days before `today` (from the calendar)."""
    return session_windows(today - dt.timedelta(days=days * 7 // 5 + 10), today - dt.timedelta(days=1),
                           sessions)[-days * (3 if sessions == "extended" else 1):]


class SimulatedFeed:
    name = "simulated"

    def __init__(self, publisher: EventPublisher, config: SimulatedFeedConfig,
                 windows: Sequence[SessionWindow]) -> None:
        self.publisher = publisher
        self.config = config
        self.simulator = MarketSimulator(SimulationConfig(symbols=config.symbols, seed=config.seed), windows)
        self.ticks_topic = publisher.kafka.topic("ticks.trades")
        self.status_topic = publisher.kafka.topic("feed.status")
        self.published = 0

    def _status(self, event: str, rate: float, latency_ns: int | None, detail: str) -> None:
        self.publisher.publish(self.status_topic, self.name, FeedStatusChanged(
            feed=self.name, ts_init=time.time_ns(), connected=True, active=True,
            subscribed_symbols=self.config.symbols, messages_per_second=rate, last_latency_ns=latency_ns,
            event=event, detail=detail))

    def run(self, stop: threading.Event, resume_after_ns: int | None) -> int:
        """Publish until the windows are played or `stop` is set; returns ticks published."""
        speed = self.config.speed
        anchor_event: int | None = None
        anchor_wall = 0.0
        previous_event: int | None = None
        last_beat = time.monotonic()
        since_beat = 0
        latency: int | None = None
        detail = f"simulated NYSE sessions at {speed:g}x speed"
        self._status("connected", 0.0, None, detail)
        log.info("feed=simulated symbols=%s speed=%gx resume_after_ns=%s: %s",
                 ",".join(self.config.symbols), speed, resume_after_ns, detail)
        for tick in self.simulator.ticks(after_ns=resume_after_ns):
            if stop.is_set():
                break
            if anchor_event is None or previous_event is None or tick.ts_event - previous_event > MAX_GAP_NS:
                anchor_event, anchor_wall = tick.ts_event, time.monotonic()
                day = dt.datetime.fromtimestamp(tick.ts_event / NS, ET)
                detail = f"simulated NYSE session of {day:%Y-%m-%d} at {speed:g}x speed"
                log.info("feed=simulated playing %s", detail)
            previous_event = tick.ts_event
            delay = anchor_wall + (tick.ts_event - anchor_event) / NS / speed - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            self.publisher.publish(self.ticks_topic, tick.symbol, tick)
            self.published += 1
            since_beat += 1
            latency = tick.ts_init - tick.ts_event
            now = time.monotonic()
            if now - last_beat >= HEARTBEAT_S:
                event_time = dt.datetime.fromtimestamp(tick.ts_event / NS, ET)
                self._status("heartbeat", since_beat / (now - last_beat), latency,
                             f"{detail}, event time {event_time:%Y-%m-%d %H:%M:%S} ET")
                last_beat, since_beat = now, 0
        else:
            detail = f"all {len(self.simulator.windows)} simulated sessions played"
            log.info("feed=simulated %s; heartbeats continue", detail)
        while not stop.is_set():
            self._status("heartbeat", 0.0, latency, detail)
            stop.wait(HEARTBEAT_S)
        self.publisher.flush()
        return self.published

"""The typed sections the stream processes are given (built from the environment by the CLI,
`tradestream/config.py`); no stage reads an environment variable of its own.

| section             | variables                                                                    |
|---------------------|------------------------------------------------------------------------------|
| `BarsStageSettings` | BAR_TIMEFRAMES, BAR_LATENESS_MS, BAR_SESSIONS, BAR_INPUT                     |
| `WorkerSettings`    | the Kafka section, TRADESTREAM_HOME, WORKER_FETCH_MAX_WAIT_MS, WORKER_FETCH_MIN_BYTES, EVENT_TIME_MAX_AHEAD_MS, EVENT_TIME_MAX_BEHIND_MS |
| `SinkSettings`      | the Kafka section, DATABASE_URL                                              |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from connectors.kafka.settings import KafkaSettings
from processors.bars import Timeframe
from processors.calendar import parse_sessions
from processors.event_time import EventTimeBounds
from schemas.errors import ConfigError

BAR_INPUTS = ("trades", "batches", "both")


@dataclass(frozen=True, slots=True, kw_only=True)
class BarsStageSettings:
    timeframes: tuple[str, ...] = ("5m", "15m", "30m", "60m")
    """Bar timeframes the stage closes (BAR_TIMEFRAMES)."""
    lateness_ms: int = 2000
    """How long past a bar's end a print is still accepted, in event time (BAR_LATENESS_MS)."""
    sessions: str = "regular"
    """Sessions bars are cut in: regular, extended or all (BAR_SESSIONS)."""
    input: str = "trades"
    """trades (one record per print), batches (TradeTickBatch records, feeds with FEED_BATCH_TICKS > 0)
    or both (BAR_INPUT)."""

    def __post_init__(self) -> None:
        try:
            normalised = tuple(Timeframe.parse(t).text for t in self.timeframes)
        except ValueError as exc:
            raise ConfigError(f"BAR_TIMEFRAMES={','.join(self.timeframes)!r}: {exc}") from None
        if not normalised:
            raise ConfigError("BAR_TIMEFRAMES must name at least one timeframe")
        object.__setattr__(self, "timeframes", normalised)
        if self.lateness_ms < 0:
            raise ConfigError(f"BAR_LATENESS_MS={self.lateness_ms} must be a non-negative integer (milliseconds)")
        try:
            parse_sessions(self.sessions)
        except ValueError as exc:
            raise ConfigError(f"BAR_SESSIONS: {exc}") from None
        if self.input not in BAR_INPUTS:
            raise ConfigError(f"BAR_INPUT={self.input!r} must be trades, batches or both")

    @property
    def lateness_ns(self) -> int:
        return self.lateness_ms * 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkerSettings:
    kafka: KafkaSettings
    data_dir: Path
    """Faust's data folder (under TRADESTREAM_HOME)."""
    bars: BarsStageSettings = field(default_factory=BarsStageSettings)
    event_time: EventTimeBounds = field(default_factory=EventTimeBounds)
    """Prints dated too far from their arrival are dead-lettered before any state (EVENT_TIME_MAX_AHEAD_MS,
    EVENT_TIME_MAX_BEHIND_MS); see processors/event_time.py."""
    fetch_max_wait_ms: int = 20
    """How long a fetch waits for new records (WORKER_FETCH_MAX_WAIT_MS, 1-60000); see streams/faust_fetch.py."""
    fetch_min_bytes: int = 16_384
    """What the broker collects before it answers a fetch, within that wait (WORKER_FETCH_MIN_BYTES)."""

    def __post_init__(self) -> None:
        if not 1 <= self.fetch_max_wait_ms <= 60_000:
            raise ConfigError(f"WORKER_FETCH_MAX_WAIT_MS={self.fetch_max_wait_ms} must be an integer number of "
                              "milliseconds, 1-60000")
        if not 1 <= self.fetch_min_bytes <= 52_428_800:
            raise ConfigError(f"WORKER_FETCH_MIN_BYTES={self.fetch_min_bytes} must be an integer number of bytes, "
                              "1-52428800")


@dataclass(frozen=True, slots=True, kw_only=True)
class SinkSettings:
    kafka: KafkaSettings
    database_url: str
    """libpq connection string (DATABASE_URL); never logged."""

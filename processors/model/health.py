"""The platform's own state: events that could not be processed (`DeadLetter`), the feeds' status and the
latency measured along the pipeline.

Part of processors.model (see its docstring for what every message shares).
"""

from __future__ import annotations

from dataclasses import dataclass, field



@dataclass(frozen=True, slots=True)
class DeadLetter:
    ts_init: int
    stage: str
    source_topic: str
    source_partition: int
    source_offset: int
    error_class: str
    reason: str
    key: bytes | None = None
    value: bytes | None = None
    source_index: int = -1


@dataclass(frozen=True, slots=True)
class FeedStatusChanged:
    feed: str
    ts_init: int
    connected: bool
    active: bool
    messages_per_second: float
    event: str
    subscribed_symbols: tuple[str, ...] = field(default_factory=tuple)
    last_latency_ns: int | None = None
    detail: str | None = None
    role: str = ""


@dataclass(frozen=True, slots=True)
class LatencyMeasured:
    feed: str
    symbol: str
    hop: str
    window_start: int
    window_end: int
    count: int
    p50_ns: int
    p95_ns: int
    p99_ns: int
    max_ns: int

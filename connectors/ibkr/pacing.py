"""Pacing: TWS disconnects an API client that sends more than 50 messages per second.

`TokenBucket` is the rule (clock given): `rate_per_second` tokens a second, at most `burst` saved up, one token a
message. Over any one-second window at most `burst + rate_per_second` messages leave, so the defaults (40/s,
burst 5) keep 45 as the ceiling, a margin below TWS's 50 for the jitter of the network and the event loop.

`PacedSender` puts every message of one ib_insync connection through a bucket: it replaces the client's
`sendMsg`, so orders, requests and market-data subscriptions on that connection are counted alike. Messages
that must wait are queued in order and sent by a timer; `on_sent` hears each message as it is written (the
order broker learns there which orders really left), `clear` drops the queue when the connection is lost and
returns what was never written.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Any

from schemas.errors import ConfigError

TWS_MESSAGES_PER_SECOND = 50


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int, now: float) -> None:
        if rate_per_second <= 0:
            raise ConfigError("IBKR_ORDER_PACING_PER_SECOND must be positive")
        if burst < 1:
            raise ConfigError("IBKR_ORDER_PACING_BURST must be at least 1")
        if rate_per_second + burst > TWS_MESSAGES_PER_SECOND:
            raise ConfigError(f"IBKR_ORDER_PACING_PER_SECOND + IBKR_ORDER_PACING_BURST must be at most "
                              f"{TWS_MESSAGES_PER_SECOND} (TWS disconnects above {TWS_MESSAGES_PER_SECOND} messages/s)")
        self.rate_per_second = rate_per_second
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(float(self.burst), self.tokens + (now - self.updated) * self.rate_per_second)
        self.updated = now

    def take(self, now: float) -> bool:
        """Spend a token if one is there."""
        self._refill(now)
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def wait_s(self, now: float) -> float:
        """How long until a token is there."""
        self._refill(now)
        return max(0.0, (1.0 - self.tokens) / self.rate_per_second)


class PacedSender:
    def __init__(self, client: Any, bucket: TokenBucket, on_sent: Callable[[str], None],
                 clock: Callable[[], float]) -> None:
        self.client = client
        self.bucket = bucket
        self.on_sent = on_sent
        self.clock = clock
        self.queue: deque[str] = deque()
        self.sent = 0
        self._timer: asyncio.TimerHandle | None = None
        self._original = client.sendMsg
        client.MaxRequests = 0          # the library's own throttle off: the bucket decides
        client.sendMsg = self.send

    def send(self, message: str | None) -> None:
        if message:
            self.queue.append(message)
        self._drain()

    def _drain(self) -> None:
        self._timer = None
        while self.queue and self.bucket.take(self.clock()):
            message = self.queue.popleft()
            self._original(message)
            self.sent += 1
            self.on_sent(message)
        if self.queue and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self.bucket.wait_s(self.clock()), self._drain)

    def clear(self) -> list[str]:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        dropped = list(self.queue)
        self.queue.clear()
        return dropped

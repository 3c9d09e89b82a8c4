"""Runs a primary and a secondary feed together and publishes one de-duplicated stream.

The decisions are `processors.failover.FailoverController`'s; this module only wires the two feeds'
callbacks into it, evaluates it on every tick and on a timer, and turns each switch into a
FeedStatusChanged event and a log line. Both feeds stay subscribed all the time, so the standby's
recent ticks are at hand when it takes over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from connectors.base import FeedSink
from processors.failover import PRIMARY, SECONDARY, FailoverController, Switch
from processors.model import FeedStatusChanged, QuoteTick, TradeTick

log = logging.getLogger(__name__)


class RunnableFeed(Protocol):
    name: str

    def run(self, stop: asyncio.Event) -> Awaitable[int]: ...


class _Leg:
    """The sink one of the two feeds writes to: everything goes through the runner."""

    def __init__(self, runner: FailoverFeed, role: str) -> None:
        self.runner = runner
        self.role = role

    def on_trade(self, tick: TradeTick) -> None:
        self.runner.on_trade(self.role, tick)

    def on_quote(self, quote: QuoteTick) -> None:
        if self.runner.controller.active == self.role:
            self.runner.sink.on_quote(quote)

    def on_status(self, status: FeedStatusChanged) -> None:
        self.runner.on_status(self.role, status)


class FailoverFeed:
    def __init__(self, make_primary: Callable[[FeedSink], RunnableFeed],
                 make_secondary: Callable[[FeedSink], RunnableFeed], sink: FeedSink,
                 controller: FailoverController, market_open: Callable[[int], bool],
                 wall_ns: Callable[[], int] = time.time_ns, check_interval_s: float = 0.25) -> None:
        self.sink = sink
        self.controller = controller
        self.market_open = market_open
        self.wall_ns = wall_ns
        self.check_interval_s = check_interval_s
        self.feeds = {PRIMARY: make_primary(_Leg(self, PRIMARY)), SECONDARY: make_secondary(_Leg(self, SECONDARY))}
        self._connected: dict[str, bool | None] = {PRIMARY: None, SECONDARY: None}
        self.switches: list[Switch] = []
        self.published = 0
        self._stop: asyncio.Event | None = None

    def on_trade(self, role: str, tick: TradeTick) -> None:
        now = self.wall_ns()
        if self.controller.on_tick(role, tick, now):
            self.sink.on_trade(tick)
            self.published += 1
        self.evaluate(now)

    def on_status(self, role: str, status: FeedStatusChanged) -> None:
        now = self.wall_ns()
        if status.connected != self._connected[role]:
            self._connected[role] = status.connected
            self.controller.on_connection(role, status.connected, now)
        self.sink.on_status(FeedStatusChanged(
            feed=status.feed, ts_init=status.ts_init, connected=status.connected,
            active=self.controller.active == role, messages_per_second=status.messages_per_second,
            event=status.event, subscribed_symbols=status.subscribed_symbols,
            last_latency_ns=status.last_latency_ns, detail=status.detail, role=role))
        self.evaluate(now)

    def evaluate(self, now: int) -> None:
        if self._stop is not None and self._stop.is_set():
            return  # shutting down: feeds disconnecting now is not a failure
        switch = self.controller.evaluate(now, self.market_open(now))
        if switch is None:
            return
        self.switches.append(switch)
        for tick in switch.backlog:
            self.sink.on_trade(tick)
        self.published += len(switch.backlog)
        feed = self.feeds[switch.to].name
        detail = f"{switch.event} to {feed}: {switch.reason}; {len(switch.backlog)} buffered ticks released"
        log.warning("feed %s", detail)
        self.sink.on_status(FeedStatusChanged(feed=feed, ts_init=now, connected=True, active=True,
                                              messages_per_second=0.0, event=switch.event, detail=detail,
                                              role=switch.to))

    async def _timer(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), self.check_interval_s)
            except asyncio.TimeoutError:
                self.evaluate(self.wall_ns())

    async def run(self, stop: asyncio.Event) -> int:
        """Run both feeds until `stop` is set; returns the ticks published. A feed that fails (for
        example a refused API key) stops both and its error is raised; a feed whose stream merely ends
        leaves the other running."""
        self._stop = stop
        tasks = [asyncio.ensure_future(feed.run(stop)) for feed in self.feeds.values()]
        tasks.append(asyncio.ensure_future(self._timer(stop)))
        stopper = asyncio.ensure_future(stop.wait())
        pending: set[asyncio.Future] = {*tasks, stopper}
        failure: BaseException | None = None
        while not stop.is_set():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task is not stopper and task.exception() is not None:
                    failure = task.exception()
                    stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if failure is not None:
            raise failure
        return self.published

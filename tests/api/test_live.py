"""The live updates' dispatch without Kafka or PostgreSQL (stubs): each record goes to its owner's channel only, a
record of nobody's account to no channel, a settings change is not pushed, the feed status, latency and bars go to everyone,
and a failed owner look-up drops that record and not the dispatch."""

from __future__ import annotations

import asyncio
import json
from contextlib import asynccontextmanager

import psycopg
import pytest

from api.live import EVERYONE, LiveUpdates
from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings

from .conftest import closed_port

OWNERS = {("account", "acct-7"): 7, ("strategy", "breakout"): 9}


class Channels:
    """Litestar's ChannelsPlugin as the dispatch uses it: what was published on which channel."""

    def __init__(self) -> None:
        self.published: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()

    def publish(self, data: str, channels: str) -> None:
        self.published.put_nowait((channels, json.loads(data)))


class Pool:
    """The owners of OWNERS; the look-ups of `failing` raise as PostgreSQL down would."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing

    @asynccontextmanager
    async def connection(self):  # noqa: ANN201 - a stub of AsyncConnectionPool.connection
        yield self

    async def execute(self, _query: str, params: tuple[str, str]) -> Pool:
        if params[1] in self.failing:
            raise psycopg.OperationalError("connection refused")
        self.row = (OWNERS[params],) if params in OWNERS else None
        return self

    async def fetchone(self) -> tuple[int] | None:
        return self.row


async def next_published(channels: Channels) -> tuple[str, dict]:
    while True:
        channel, message = await asyncio.wait_for(channels.published.get(), 10)
        if message["type"] != "live":  # the follower's state (not following: no Kafka here)
            return channel, message


@pytest.mark.parametrize("failing", [set(), {"acct-down"}], ids=["database-up", "look-up-fails"])
async def test_each_record_goes_to_its_owner_only(failing: set[str]) -> None:
    kafka = KafkaSettings(bootstrap=f"127.0.0.1:{closed_port()}", registry_url=f"http://127.0.0.1:{closed_port()}")
    channels = Channels()
    live = LiveUpdates(kafka, AvroCodec(kafka.registry_config()), channels)  # type: ignore[arg-type]
    live.start(Pool(failing))  # type: ignore[arg-type]
    live._queue = asyncio.Queue()
    task = asyncio.create_task(live._dispatch(Pool(failing)))  # type: ignore[arg-type]
    try:
        for topic, record, fields in (
                ("trades", "TradeUpdated", {"account_id": "acct-down", "trade_id": "t0"}),
                ("trades", "TradeUpdated", {"account_id": "nobody's", "trade_id": "t1"}),
                ("accounts", "AccountChanged", {"account_id": "acct-7", "kind": "SETTINGS_CHANGED"}),
                ("trades", "TradeUpdated", {"account_id": "acct-7", "trade_id": "t2"}),
                ("signals", "SignalGenerated", {"strategy": "breakout", "signal_id": "s1"}),
                ("accounts", "AccountChanged", {"account_id": "acct-7", "kind": "KILL_SWITCH_TRIPPED"}),
                ("metrics.latency", "LatencyMeasured", {"feed": "simulated", "symbol": "*", "p99_ns": 9}),
                ("bars", "Bar", {"symbol": "SPY", "close": "1.5"})):
            live._enqueue(topic, record, fields)
        got = [await next_published(channels) for _ in range(5)]
        # The bar was the last record: every one before it is dispatched, so nothing else is waiting.
        left = [channels.published.get_nowait() for _ in range(channels.published.qsize())]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    shown = [(channel, message["type"], message["data"].get("trade_id") or message["data"].get("signal_id")
              or message["data"].get("kind") or message["data"].get("symbol")) for channel, message in got]
    assert shown == [("user.7", "trade", "t2"), ("user.9", "signal", "s1"),
                     ("user.7", "kill_switch", "KILL_SWITCH_TRIPPED"), (EVERYONE, "latency", "*"),
                     (EVERYONE, "bar", "SPY")]
    assert [message for _, message in left if message["type"] != "live"] == []

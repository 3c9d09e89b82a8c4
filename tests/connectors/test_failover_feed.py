"""IBKR primary and Polygon secondary, each against its protocol-level fake, cut and restored mid-session:
every trade is published exactly once, and both switches are status events."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal

import websockets

from connectors.failover import FailoverFeed
from connectors.ibkr.feed import IbkrFeed, IbkrFeedConfig
from connectors.polygon.feed import PolygonFeed
from processors.failover import FailoverController
from tests.connectors.fake_tws import FakeTws
from tests.connectors.test_ibkr import WaitingSink

BASE_S = 1_764_000_000
NS = 1_000_000_000


class FakePolygon:
    """Polygon's websocket protocol; trades pushed by the test reach every connected client."""

    def __init__(self) -> None:
        self.queues: list[asyncio.Queue] = []
        self.subscribed = asyncio.Event()

    async def handler(self, websocket) -> None:  # noqa: ANN001
        await websocket.send(json.dumps([{"ev": "status", "status": "connected", "message": "Connected"}]))
        await websocket.recv()
        await websocket.send(json.dumps([{"ev": "status", "status": "auth_success", "message": "ok"}]))
        await websocket.recv()
        await websocket.send(json.dumps([{"ev": "status", "status": "success", "message": "subscribed"}]))
        queue: asyncio.Queue = asyncio.Queue()
        self.queues.append(queue)
        self.subscribed.set()
        closed = asyncio.ensure_future(websocket.wait_closed())
        while True:
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, closed}, return_when=asyncio.FIRST_COMPLETED)
            if closed.done():
                getter.cancel()
                return
            await websocket.send(json.dumps(getter.result()))

    def trade(self, i: int) -> None:
        message = [{"ev": "T", "sym": "SPY", "x": 4, "i": f"sip-{i}", "p": float(price(i)), "s": 100,
                    "t": (BASE_S + i) * 1000 + 250, "q": i}]
        for queue in self.queues:
            queue.put_nowait(message)


def price(i: int) -> Decimal:
    return Decimal("600.00") + Decimal(i) / 100


async def test_primary_cut_mid_session_fails_over_and_hands_back_without_loss_or_duplicates() -> None:
    tws, polygon = FakeTws(), FakePolygon()
    await tws.start()
    sink = WaitingSink()
    stop = asyncio.Event()
    async with websockets.serve(polygon.handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        config = IbkrFeedConfig(symbols=("SPY",), port=tws.port, reconnect_initial_s=0.05, reconnect_max_s=0.1)
        runner = FailoverFeed(
            lambda leg: IbkrFeed(config, leg),
            lambda leg: PolygonFeed("key", ["SPY"], leg, host=f"127.0.0.1:{port}", secure=False),
            sink, FailoverController(silence_ns=60 * NS, recovery_ns=NS // 5), market_open=lambda _: True,
            check_interval_s=0.05)
        task = asyncio.ensure_future(runner.run(stop))
        await tws.wait_for(lambda: len(tws.subscriptions) == 1)
        await asyncio.wait_for(polygon.subscribed.wait(), 10)

        def both(i: int) -> None:
            tws.trade_tick_by_tick("SPY", BASE_S + i, str(price(i)), 100)
            polygon.trade(i)

        async def published(n: int) -> None:
            try:
                await sink.until(lambda: len(sink.trades) == n)
            except TimeoutError:
                raise AssertionError(f"{len(sink.trades)} trades, not {n}: {sink.trades} {sink.statuses}") from None

        for i in range(5):
            both(i)
        await published(5)
        port_tws = tws.port
        await tws.stop()                                    # the primary is cut mid-session
        await sink.until(lambda: any(s.event == "failover" for s in sink.statuses))
        for i in range(5, 10):
            polygon.trade(i)
        await published(10)
        tws.port = port_tws
        await tws.start()                                   # and comes back
        await tws.wait_for(lambda: len(tws.subscriptions) == 1)
        for i in range(10, 15):
            both(i)
        await sink.until(lambda: any(s.event == "handback" for s in sink.statuses))
        for i in range(15, 20):
            both(i)
        await published(20)
        stop.set()
        assert await asyncio.wait_for(task, 10) == 20
    await tws.stop()
    assert [t.price for t in sink.trades] == [price(i) for i in range(20)]
    feeds = [t.feed for t in sink.trades]
    assert feeds[:5] == ["ibkr"] * 5 and feeds[5:10] == ["polygon"] * 5 and feeds[15:] == ["ibkr"] * 5
    switches = [(s.event, s.feed, s.role) for s in sink.statuses if s.event in ("failover", "handback")]
    assert switches == [("failover", "polygon", "secondary"), ("handback", "ibkr", "primary")]
    assert {(s.feed, s.role) for s in sink.statuses} == {("ibkr", "primary"), ("polygon", "secondary")}
    assert [s.event for s in runner.switches] == ["failover", "handback"]

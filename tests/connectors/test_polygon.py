"""The Polygon feed against a local websocket server speaking Polygon's protocol (connect status,
auth, subscribe, arrays of events), with the real polygon-api-client underneath."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
import websockets

from connectors.base import ListFeedSink
from connectors.polygon.feed import PolygonFeed
from schemas.errors import ConfigError

TRADES = [
    [{"ev": "T", "sym": "SPY", "x": 4, "i": "52983525029461", "z": 1, "p": 600.01, "s": 100, "c": [37],
      "t": 1764000000123, "q": 1}],
    [{"ev": "T", "sym": "QQQ", "x": 12, "i": "7", "z": 3, "p": 510.5, "s": 300, "t": 1764000000456, "q": 2},
     {"ev": "Q", "sym": "SPY", "bx": 11, "bp": 600.0, "bs": 2, "ax": 12, "ap": 600.02, "as": 3,
      "t": 1764000000500, "q": 3}],
]


async def polygon_server(websocket) -> None:  # noqa: ANN001
    await websocket.send(json.dumps([{"ev": "status", "status": "connected", "message": "Connected Successfully"}]))
    auth = json.loads(await websocket.recv())
    assert auth["action"] == "auth"
    if auth["params"] != "good-key":
        await websocket.send(json.dumps([{"ev": "status", "status": "auth_failed", "message": "authentication failed"}]))
        return
    await websocket.send(json.dumps([{"ev": "status", "status": "auth_success", "message": "authenticated"}]))
    subscribe = json.loads(await websocket.recv())
    assert subscribe["action"] == "subscribe"
    websocket.subscriptions = subscribe["params"]
    await websocket.send(json.dumps([{"ev": "status", "status": "success",
                                      "message": f"subscribed to: {subscribe['params']}"}]))
    for batch in TRADES:
        await websocket.send(json.dumps(batch))
    await websocket.close()


async def test_trades_and_quotes_become_our_events() -> None:
    seen: list = []

    async def handler(websocket) -> None:  # noqa: ANN001
        seen.append(websocket)
        await polygon_server(websocket)

    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        sink = ListFeedSink()
        feed = PolygonFeed("good-key", ["SPY", "QQQ"], sink, host=f"127.0.0.1:{port}", secure=False, quotes=True,
                           wall_ns=lambda: 99)
        assert await feed.run() == 3
    assert set(seen[0].subscriptions.split(",")) == {"T.SPY", "T.QQQ", "Q.SPY", "Q.QQQ"}
    spy, qqq = sink.trades
    assert (spy.symbol, spy.price, spy.size, spy.ts_event, spy.ts_init) == (
        "SPY", Decimal("600.01"), 100, 1764000000123 * 1_000_000, 99)
    assert spy.trade_id == "52983525029461" and spy.exchange == "4" and spy.conditions == ("I",)
    assert qqq.conditions == () and qqq.feed == "polygon"
    (quote,) = sink.quotes
    assert (quote.bid_price, quote.ask_price, quote.bid_size, quote.ask_size) == (
        Decimal("600.0"), Decimal("600.02"), 2, 3)
    assert [s.event for s in sink.statuses] == ["connected", "disconnected"]


async def test_a_refused_key_is_a_clear_configuration_error() -> None:
    async with websockets.serve(polygon_server, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        sink = ListFeedSink()
        feed = PolygonFeed("bad-key", ["SPY"], sink, host=f"127.0.0.1:{port}", secure=False)
        with pytest.raises(ConfigError, match="POLYGON_API_KEY"):
            await feed.run()
    assert sink.statuses[-1].event == "error" and "bad-key" not in sink.statuses[-1].detail


def test_missing_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="POLYGON_API_KEY"):
        PolygonFeed("", ["SPY"], ListFeedSink())

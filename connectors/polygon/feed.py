"""Polygon.io websocket feed (polygon-api-client), translating Polygon's messages into our events.

The only module that imports the Polygon client. Trades (`T.*`) become TradeTicks, quotes (`Q.*`)
QuoteTicks; Polygon's millisecond SIP timestamps become `ts_event`, our receipt time `ts_init`.
Polygon reports sale conditions as numeric ids of its unified condition table; the ones that change
bar eligibility are mapped to the CTA/UTP letters processors.conditions uses, others kept as `P<id>`
(treated as regular). POLYGON_API_KEY comes from the environment and is never logged;
POLYGON_WS_HOST overrides the host (tests use a local server speaking Polygon's protocol).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from polygon import WebSocketClient
from polygon.websocket.models import EquityQuote, EquityTrade, Feed, Market

from connectors.base import FeedSink
from processors.model import FeedStatusChanged, QuoteTick, TradeTick
from schemas.errors import ConfigError

log = logging.getLogger(__name__)

# Polygon unified condition id -> CTA/UTP code used by processors.conditions.
POLYGON_CONDITIONS = {2: "W", 7: "C", 10: "4", 12: "T", 15: "M", 16: "Q", 20: "N", 21: "H", 22: "P", 29: "R",
                      33: "Z", 37: "I", 52: "V", 53: "7"}
MS = 1_000_000


def translate_conditions(codes: Sequence[int] | None) -> tuple[str, ...]:
    return tuple(POLYGON_CONDITIONS.get(int(c), f"P{int(c)}") for c in codes or ())


class PolygonFeed:
    name = "polygon"

    def __init__(self, api_key: str, symbols: Sequence[str], sink: FeedSink, host: str | None = None,
                 secure: bool = True, quotes: bool = False, wall_ns: Callable[[], int] = time.time_ns,
                 max_reconnects: int | None = 10) -> None:
        if not api_key:
            raise ConfigError("POLYGON_API_KEY is not set")
        if not symbols:
            raise ConfigError("the Polygon feed needs at least one symbol")
        self.symbols = tuple(symbols)
        self.sink = sink
        self.wall_ns = wall_ns
        subscriptions = [f"T.{s}" for s in symbols] + ([f"Q.{s}" for s in symbols] if quotes else [])
        self.client = WebSocketClient(api_key=api_key, feed=host or Feed.RealTime, market=Market.Stocks,
                                      subscriptions=subscriptions, secure=secure, max_reconnects=max_reconnects)
        self.received = 0

    def translate(self, message: object) -> TradeTick | QuoteTick | None:
        now = self.wall_ns()
        if isinstance(message, EquityTrade) and message.price is not None:
            return TradeTick(symbol=str(message.symbol), ts_event=int(message.timestamp) * MS, ts_init=now,
                             price=Decimal(str(message.price)), size=int(message.size or 0), feed=self.name,
                             trade_id=str(message.id) if message.id is not None else None,
                             exchange=str(message.exchange) if message.exchange is not None else None,
                             conditions=translate_conditions(message.conditions))
        if isinstance(message, EquityQuote) and message.bid_price is not None:
            return QuoteTick(symbol=str(message.symbol), ts_event=int(message.timestamp) * MS, ts_init=now,
                             bid_price=Decimal(str(message.bid_price)), bid_size=int(message.bid_size or 0),
                             ask_price=Decimal(str(message.ask_price)), ask_size=int(message.ask_size or 0),
                             feed=self.name, bid_exchange=str(message.bid_exchange_id),
                             ask_exchange=str(message.ask_exchange_id))
        return None

    async def _handle(self, messages: list[object]) -> None:
        for message in messages:
            event = self.translate(message)
            if isinstance(event, TradeTick):
                self.sink.on_trade(event)
            elif isinstance(event, QuoteTick):
                self.sink.on_quote(event)
            self.received += 1

    def _status(self, event: str, connected: bool, detail: str) -> None:
        self.sink.on_status(FeedStatusChanged(feed=self.name, ts_init=self.wall_ns(), connected=connected,
                                              active=True, subscribed_symbols=self.symbols,
                                              messages_per_second=0.0, event=event, detail=detail))

    async def run(self, stop: asyncio.Event | None = None) -> int:
        """Stream until the server closes the connection or `stop` is set; returns messages received."""
        from polygon.exceptions import AuthError

        self._status("connected", True, f"subscribing to {len(self.symbols)} symbols")
        watcher = asyncio.ensure_future(self._close_on(stop)) if stop is not None else None
        try:
            await self.client.connect(self._handle)
        except AuthError as exc:
            self._status("error", False, f"authentication refused: {exc}")
            raise ConfigError("Polygon refused the API key in POLYGON_API_KEY (auth_failed)") from None
        finally:
            if watcher is not None:
                watcher.cancel()
        self._status("disconnected", False, f"stream closed after {self.received} messages")
        return self.received

    async def _close_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        await self.client.close()

"""A fake TWS / IB Gateway speaking the TWS socket protocol, enough for a read-only market-data client.

Wire format: after the client's `API\\0` + length-prefixed version range, every message is a 4-byte
big-endian length followed by NUL-terminated fields. The server answers the handshake with its
version and time, `startApi` with nextValidId and managedAccounts, the start-up synchronisation
requests with their end markers, and records every request with its arrival time so tests can check
subscriptions and pacing. Tests push ticks, errors and disconnections through its methods.
"""

from __future__ import annotations

import asyncio
import struct
import time
from dataclasses import dataclass, field

SERVER_VERSION = 176
ACCOUNT = "DU1234567"


def frame(*fields: object) -> bytes:
    body = "".join(f"{f}\0" for f in fields).encode()
    return struct.pack(">I", len(body)) + body


@dataclass
class Subscription:
    req_id: int
    symbol: str
    kind: str  # "tick_by_tick" or "market_data"


@dataclass
class FakeTws:
    host: str = "127.0.0.1"
    port: int = 0
    refuse_tick_by_tick_beyond: int | None = None
    permission_denied: set[str] = field(default_factory=set)
    requests: list[tuple[float, list[str]]] = field(default_factory=list)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    connections: int = 0

    def __post_init__(self) -> None:
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.changed = asyncio.Condition()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and drop every client (the daily gateway restart)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self.drop_clients()

    def drop_clients(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        self.subscriptions.clear()

    async def wait_for(self, predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
        async def waiting() -> None:
            async with self.changed:
                await self.changed.wait_for(predicate)
        await asyncio.wait_for(waiting(), timeout)

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    # -- pushing to the client --------------------------------------------------------------------
    def _send(self, data: bytes) -> None:
        for writer in self._writers:
            writer.write(data)

    def req_id(self, symbol: str) -> int:
        return next(s.req_id for s in self.subscriptions.values() if s.symbol == symbol)

    def trade_tick_by_tick(self, symbol: str, time_s: int, price: str, size: int, exchange: str = "ARCA",
                           conditions: str = "") -> None:
        self._send(frame(99, self.req_id(symbol), 2, time_s, price, size, 0, exchange, conditions))

    def rt_volume(self, symbol: str, price: str, size: int, time_ms: int, total: int = 0) -> None:
        self._send(frame(46, 6, self.req_id(symbol), 48, f"{price};{size};{time_ms};{total};{price};true"))

    def error(self, req_id: int, code: int, text: str) -> None:
        self._send(frame(4, 2, req_id, code, text, ""))

    # -- serving -----------------------------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        try:
            assert await reader.readexactly(4) == b"API\0"
            await self._read_message(reader)  # "v157..176"
            writer.write(frame(SERVER_VERSION, time.strftime("%Y%m%d %H:%M:%S UTC", time.gmtime())))
            while True:
                fields = await self._read_message(reader)
                self.requests.append((time.monotonic(), fields))
                self._answer(fields, writer)
                await writer.drain()
                await self._notify()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if writer in self._writers:
                self._writers.remove(writer)
            writer.close()
            await self._notify()

    @staticmethod
    async def _read_message(reader: asyncio.StreamReader) -> list[str]:
        (size,) = struct.unpack(">I", await reader.readexactly(4))
        return (await reader.readexactly(size)).decode().split("\0")[:-1]

    def _answer(self, fields: list[str], writer: asyncio.StreamWriter) -> None:
        message = int(fields[0])
        if message == 71:                                   # startApi
            writer.write(frame(9, 1, 1) + frame(15, 1, ACCOUNT))
        elif message == 61:                                 # reqPositions
            writer.write(frame(62, 1))
        elif message == 6:                                  # reqAccountUpdates
            writer.write(frame(54, 1, ACCOUNT))
        elif message == 76:                                 # reqAccountUpdatesMulti
            writer.write(frame(74, 1, fields[2]))
        elif message == 62:                                 # reqAccountSummary
            writer.write(frame(64, 1, fields[2]))
        elif message == 7:                                  # reqExecutions
            writer.write(frame(55, 1, fields[2]))
        elif message == 97:                                 # reqTickByTickData: id, 12 contract fields
            req_id, symbol = int(fields[1]), fields[3]
            taken = sum(1 for s in self.subscriptions.values() if s.kind == "tick_by_tick")
            if symbol in self.permission_denied:
                writer.write(frame(4, 2, req_id, 354, "Requested market data is not subscribed.", ""))
            elif self.refuse_tick_by_tick_beyond is not None and taken >= self.refuse_tick_by_tick_beyond:
                writer.write(frame(4, 2, req_id, 10190, "Max number of tick-by-tick requests has been reached.", ""))
            else:
                self.subscriptions[req_id] = Subscription(req_id, symbol, "tick_by_tick")
        elif message == 1:                                  # reqMktData: version, id, contract, ...
            req_id, symbol = int(fields[2]), fields[4]
            if symbol in self.permission_denied:
                writer.write(frame(4, 2, req_id, 354, "Requested market data is not subscribed.", ""))
            else:
                self.subscriptions[req_id] = Subscription(req_id, symbol, "market_data")
        elif message == 98:                                 # cancelTickByTickData
            self.subscriptions.pop(int(fields[1]), None)
        elif message == 2:                                  # cancelMktData
            self.subscriptions.pop(int(fields[2]), None)

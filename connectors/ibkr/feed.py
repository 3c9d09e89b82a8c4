"""Interactive Brokers market-data feed: TWS / IB Gateway through ib_insync (or ib_async).

What it does, and the IBKR facts behind it:
- **Data mode per symbol.** Tick-by-tick "AllLast" trades carry the exchange time of every print, but
  an account gets only a few such subscriptions (`IBKR_TICK_BY_TICK_LIMIT`, default 3). The first
  symbols get tick-by-tick, the rest `reqMktData` with the RTVolume generic tick (233): 250 ms
  aggregated snapshots whose last-trade price, size and millisecond time we publish as ticks, so
  volume is exact but prints inside one snapshot are merged. `IBKR_MODES=SPY:tick_by_tick,IWM:
  market_data` overrides the choice. When TWS answers 10190 (tick-by-tick limit reached) the symbol
  is moved to market data. Every choice and change is a FeedStatusChanged event.
- **Reconnection.** The gateway restarts daily and drops the socket: the feed reconnects with
  exponential back-off (`IBKR_RECONNECT_INITIAL_S` doubling up to `IBKR_RECONNECT_MAX_S`) and
  resubscribes. Error 1100 (TWS lost IB's servers) marks the feed disconnected while the socket
  stays up; 1101 (restored, data lost) resubscribes everything; 1102 (restored, data kept) only
  marks it connected again.
- **Pacing.** TWS disconnects a client sending more than 50 messages per second; the library's
  request throttle is set to `IBKR_PACING_PER_SECOND` (default 45, at most 50) messages per rolling
  second. The throttle dates a burst by its first message, so a window measured on the wire can hold
  one message more than the setting: 45 keeps a margin below TWS's 50.
- **Permissions.** 354, 10089, 10168 and 10197 mean the account may not see that symbol's data: the
  symbol is dropped with an error status naming the symbol and the code (retrying would not help);
  200 means IB does not know the symbol.
- **Identifiers.** Exchange times come from the wire (tick-by-tick seconds, RTVolume milliseconds);
  `ts_init` is our receipt time. IB sends no trade ids, so fail-over de-duplication uses
  (symbol, ts_event, price, size).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

from connectors.base import FeedSink
from connectors.ibkr.api import load_library
from processors.model import FeedStatusChanged, TradeTick
from schemas.errors import ConfigError

log = logging.getLogger(__name__)

TICK_BY_TICK = "tick_by_tick"
MARKET_DATA = "market_data"
MODES = (TICK_BY_TICK, MARKET_DATA)

CONNECTIVITY_LOST = 1100
RESTORED_DATA_LOST = 1101
RESTORED_DATA_KEPT = 1102
TICK_BY_TICK_LIMIT_REACHED = 10190
UNKNOWN_CONTRACT = 200
PERMISSION_ERRORS = {354: "market data not subscribed", 10089: "API market data needs an additional subscription",
                     10168: "market data not subscribed and delayed data not enabled",
                     10197: "no market data during a competing live session"}
RT_VOLUME = 48          # tickString type of generic tick 233
RT_VOLUME_GENERIC_TICK = "233"
NS = 1_000_000_000
MS = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class IbkrFeedConfig:
    symbols: tuple[str, ...]
    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 17
    tick_by_tick_limit: int = 3
    modes: Mapping[str, str] = field(default_factory=dict)
    pacing_per_second: int = 45
    reconnect_initial_s: float = 1.0
    reconnect_max_s: float = 60.0
    connect_timeout_s: float = 10.0
    status_interval_s: float = 5.0
    exchange: str = "SMART"
    currency: str = "USD"
    library: str = "ib_insync"

    def __post_init__(self) -> None:
        if not self.symbols:
            raise ConfigError("IBKR_SYMBOLS must list at least one symbol")
        if self.tick_by_tick_limit < 0:
            raise ConfigError("IBKR_TICK_BY_TICK_LIMIT must not be negative")
        if not 1 <= self.pacing_per_second <= 50:
            raise ConfigError("IBKR_PACING_PER_SECOND must be 1-50 (TWS disconnects above 50 messages/s)")
        if not 0 < self.reconnect_initial_s <= self.reconnect_max_s:
            raise ConfigError("IBKR_RECONNECT_INITIAL_S must be positive and at most IBKR_RECONNECT_MAX_S")
        for symbol, mode in self.modes.items():
            if mode not in MODES:
                raise ConfigError(f"IBKR_MODES: {symbol}:{mode} is not one of {', '.join(MODES)}")
            if symbol not in self.symbols:
                raise ConfigError(f"IBKR_MODES names {symbol}, which is not among the feed's symbols")

    @classmethod
    def from_env(cls, environ: Mapping[str, str], symbols: tuple[str, ...]) -> IbkrFeedConfig:
        def number(name: str, default: float, kind: type = int) -> Any:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                return kind(raw)
            except ValueError:
                raise ConfigError(f"{name}={raw!r} is not {'an integer' if kind is int else 'a number'}") from None

        modes: dict[str, str] = {}
        for item in filter(None, (p.strip() for p in environ.get("IBKR_MODES", "").split(","))):
            symbol, sep, mode = item.partition(":")
            if not sep:
                raise ConfigError(f"IBKR_MODES: {item!r} must be SYMBOL:MODE")
            modes[symbol.strip().upper()] = mode.strip()
        return cls(symbols=symbols, host=environ.get("IBKR_HOST", "127.0.0.1").strip() or "127.0.0.1",
                   port=number("IBKR_PORT", 4002), client_id=number("IBKR_CLIENT_ID", 17),
                   tick_by_tick_limit=number("IBKR_TICK_BY_TICK_LIMIT", 3), modes=modes,
                   pacing_per_second=number("IBKR_PACING_PER_SECOND", 45),
                   reconnect_initial_s=number("IBKR_RECONNECT_INITIAL_S", 1.0, float),
                   reconnect_max_s=number("IBKR_RECONNECT_MAX_S", 60.0, float),
                   library=environ.get("IBKR_API_LIBRARY", "ib_insync").strip() or "ib_insync")


def plan_modes(symbols: tuple[str, ...], tick_by_tick_limit: int, explicit: Mapping[str, str]) -> dict[str, str]:
    """Explicit choices first; the remaining tick-by-tick lines go to the first other symbols in order."""
    plan = dict(explicit)
    free = tick_by_tick_limit - sum(1 for mode in plan.values() if mode == TICK_BY_TICK)
    for symbol in symbols:
        if symbol not in plan:
            plan[symbol] = TICK_BY_TICK if free > 0 else MARKET_DATA
            free -= plan[symbol] == TICK_BY_TICK
    return {symbol: plan[symbol] for symbol in symbols}


class Backoff:
    """Exponential reconnection delays: initial, 2x, 4x ... capped at maximum; reset on success."""

    def __init__(self, initial_s: float, maximum_s: float) -> None:
        self.initial_s = initial_s
        self.maximum_s = maximum_s
        self.attempt = 0

    def next_delay(self) -> float:
        delay = min(self.initial_s * 2 ** self.attempt, self.maximum_s)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


def parse_rt_volume(value: str) -> tuple[Decimal, int, int] | None:
    """RTVolume `price;size;time_ms;total_volume;vwap;single_trade` -> (price, size, ts_event ns).

    None for volume-only updates (empty price: prints that do not update the last price)."""
    parts = value.split(";")
    if len(parts) < 3 or not parts[0] or not parts[1] or not parts[2]:
        return None
    return Decimal(parts[0]), int(Decimal(parts[1])), int(parts[2]) * MS


class IbkrFeed:
    name = "ibkr"

    def __init__(self, config: IbkrFeedConfig, sink: FeedSink, wall_ns: Callable[[], int] = time.time_ns,
                 library: ModuleType | None = None) -> None:
        self.config = config
        self.sink = sink
        self.wall_ns = wall_ns
        self.lib = library or load_library(config.library)
        self.ib = self.lib.IB()
        self.ib.client.MaxRequests = config.pacing_per_second
        self.ib.client.RequestsInterval = 1.0
        self.modes = plan_modes(config.symbols, config.tick_by_tick_limit, config.modes)
        self.refused: dict[str, str] = {}
        self.connected = False
        self.received = 0
        self.last_latency_ns: int | None = None
        self._contracts: dict[str, Any] = {}
        self._disconnected = asyncio.Event()
        self._hook_wrapper()
        self.ib.errorEvent += self._on_error
        self.ib.disconnectedEvent += self._on_disconnected

    # -- wire -> our events -------------------------------------------------------------------------
    def _hook_wrapper(self) -> None:
        """Wrap the library's raw callbacks: its Ticker objects drop the exchange time we need."""
        wrapper = self.ib.wrapper
        tick_by_tick, tick_string = wrapper.tickByTickAllLast, wrapper.tickString

        def on_tick_by_tick(req_id: int, tick_type: int, time_s: int, price: float, size: float, attrib: Any,
                            exchange: str, special_conditions: str) -> None:
            tick_by_tick(req_id, tick_type, time_s, price, size, attrib, exchange, special_conditions)
            symbol = self._symbol_of(req_id)
            if symbol is not None:
                self._publish(symbol, int(time_s) * NS, Decimal(repr(price)), int(size), exchange or None,
                              tuple(special_conditions.split()))

        def on_tick_string(req_id: int, tick_type: int, value: str) -> None:
            tick_string(req_id, tick_type, value)
            if tick_type != RT_VOLUME:
                return
            symbol = self._symbol_of(req_id)
            parsed = parse_rt_volume(value)
            if symbol is not None and parsed is not None:
                price, size, ts_event = parsed
                self._publish(symbol, ts_event, price, size, None, ())

        wrapper.tickByTickAllLast = on_tick_by_tick
        wrapper.tickString = on_tick_string

    def _symbol_of(self, req_id: int) -> str | None:
        ticker = self.ib.wrapper.reqId2Ticker.get(req_id)
        return None if ticker is None else ticker.contract.symbol

    def _publish(self, symbol: str, ts_event: int, price: Decimal, size: int, exchange: str | None,
                 conditions: tuple[str, ...]) -> None:
        now = self.wall_ns()
        self.received += 1
        self.last_latency_ns = now - ts_event
        self.sink.on_trade(TradeTick(symbol=symbol, ts_event=ts_event, ts_init=now, price=price, size=size,
                                     feed=self.name, exchange=exchange, conditions=conditions))

    def _status(self, event: str, detail: str, messages_per_second: float = 0.0) -> None:
        subscribed = tuple(s for s in self.config.symbols if s not in self.refused)
        self.sink.on_status(FeedStatusChanged(
            feed=self.name, ts_init=self.wall_ns(), connected=self.connected, active=True,
            messages_per_second=messages_per_second, event=event, subscribed_symbols=subscribed,
            last_latency_ns=self.last_latency_ns, detail=detail))

    # -- subscriptions ------------------------------------------------------------------------------
    def _subscribe(self, symbol: str) -> None:
        contract = self.lib.Stock(symbol, self.config.exchange, self.config.currency)
        self._contracts[symbol] = contract
        if self.modes[symbol] == TICK_BY_TICK:
            self.ib.reqTickByTickData(contract, "AllLast", 0, False)
        else:
            self.ib.reqMktData(contract, RT_VOLUME_GENERIC_TICK, False, False)

    def _unsubscribe(self, symbol: str) -> None:
        contract = self._contracts.pop(symbol, None)
        if contract is None or not self.ib.isConnected():
            return
        if self.modes[symbol] == TICK_BY_TICK:
            self.ib.cancelTickByTickData(contract, "AllLast")
        else:
            self.ib.cancelMktData(contract)

    def subscribe_all(self) -> None:
        symbols = [s for s in self.config.symbols if s not in self.refused]
        for symbol in symbols:
            self._subscribe(symbol)
        plan = ", ".join(f"{s}:{self.modes[s]}" for s in symbols)
        self._status("subscribed", f"{len(symbols)} symbols ({plan})")
        log.info("IBKR subscribed %s", plan)

    def resubscribe_all(self) -> None:
        for symbol in list(self._contracts):
            self._unsubscribe(symbol)
        self.subscribe_all()

    # -- library events -----------------------------------------------------------------------------
    def _on_error(self, req_id: int, code: int, message: str, contract: Any = None) -> None:
        symbol = getattr(contract, "symbol", None) or self._symbol_of(req_id)
        if code == CONNECTIVITY_LOST:
            self.connected = False
            self._status("disconnected", f"IBKR {code}: TWS lost its connection to IB ({message})")
            log.warning("IBKR %s: connectivity lost; waiting for 1101/1102", code)
        elif code == RESTORED_DATA_LOST:
            self.connected = True
            log.warning("IBKR %s: connectivity restored, data lost: resubscribing", code)
            self._status("connected", f"IBKR {code}: connectivity restored, data lost; resubscribing")
            self.resubscribe_all()
        elif code == RESTORED_DATA_KEPT:
            self.connected = True
            self._status("connected", f"IBKR {code}: connectivity restored, subscriptions kept")
        elif code == TICK_BY_TICK_LIMIT_REACHED and symbol in self.modes:
            self._contracts.pop(symbol, None)
            self.modes[symbol] = MARKET_DATA
            self._subscribe(symbol)
            self._status("mode_changed", f"{symbol}: tick-by-tick limit reached (IBKR {code}); using market data")
            log.warning("IBKR %s: tick-by-tick limit reached, %s moved to market data", code, symbol)
        elif (code in PERMISSION_ERRORS or code == UNKNOWN_CONTRACT) and symbol in self.modes:
            reason = PERMISSION_ERRORS.get(code, "unknown contract")
            self.refused[symbol] = f"IBKR {code}: {reason}"
            self._unsubscribe(symbol)
            self._status("error", f"{symbol} dropped: {reason} (IBKR {code}: {message})")
            log.error("IBKR %s for %s: %s (%s); the symbol is dropped from the feed", code, symbol, reason, message)

    def _on_disconnected(self) -> None:
        self.connected = False
        self._contracts.clear()
        self._disconnected.set()

    # -- run loop -----------------------------------------------------------------------------------
    async def _wait(self, stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _heartbeats(self, stop: asyncio.Event) -> None:
        previous = self.received
        while not stop.is_set():
            await self._wait(stop, self.config.status_interval_s)
            rate = (self.received - previous) / self.config.status_interval_s
            previous = self.received
            self._status("heartbeat", "", rate)

    async def run(self, stop: asyncio.Event) -> int:
        """Connect, subscribe, and keep doing so across disconnections until `stop` is set."""
        backoff = Backoff(self.config.reconnect_initial_s, self.config.reconnect_max_s)
        heartbeats = asyncio.ensure_future(self._heartbeats(stop))
        address = f"{self.config.host}:{self.config.port}"
        try:
            while not stop.is_set():
                self._disconnected.clear()
                try:
                    await self.ib.connectAsync(self.config.host, self.config.port, self.config.client_id,
                                               timeout=self.config.connect_timeout_s, readonly=True)
                except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
                    delay = backoff.next_delay()
                    self.connected = False
                    self._status("reconnecting", f"cannot reach TWS/IB Gateway at {address} "
                                                 f"({type(exc).__name__}); retry {backoff.attempt} in {delay:.1f} s")
                    log.warning("IBKR connect to %s failed (%s); retry in %.1f s", address, type(exc).__name__, delay)
                    await self._wait(stop, delay)
                    continue
                backoff.reset()
                self.connected = True
                self._status("connected", f"TWS/IB Gateway at {address}, server version "
                                          f"{self.ib.client.serverVersion()}")
                self.subscribe_all()
                waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._disconnected.wait())]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                if self._disconnected.is_set() and not stop.is_set():
                    self._status("disconnected", f"TWS/IB Gateway at {address} closed the connection; reconnecting")
                    log.warning("IBKR connection to %s closed; reconnecting", address)
        finally:
            heartbeats.cancel()
            if self.ib.isConnected():
                self.ib.disconnect()
            self.connected = False
            self._status("disconnected", f"stopped after {self.received} ticks")
        return self.received

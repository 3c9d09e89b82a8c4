"""The IBKR feed with the real ib_insync client against a fake TWS speaking the socket protocol."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

import pytest

from connectors.base import ListFeedSink
from connectors.ibkr.feed import (
    MARKET_DATA,
    TICK_BY_TICK,
    Backoff,
    IbkrFeed,
    IbkrFeedConfig,
    parse_rt_volume,
    plan_modes,
)
from tests.connectors.fake_tws import FakeTws
from schemas.errors import ConfigError

NS = 1_000_000_000


class WaitingSink(ListFeedSink):
    """A list sink a test can await: `until(predicate)` returns once the predicate holds."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def on_trade(self, tick) -> None:  # noqa: ANN001
        super().on_trade(tick)
        self.changed.set()

    def on_status(self, status) -> None:  # noqa: ANN001
        super().on_status(status)
        self.changed.set()

    async def until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def events(self) -> list[str]:
        return [s.event for s in self.statuses if s.event != "heartbeat"]


class Running:
    """A fake TWS and a feed running against it, stopped at exit."""

    def __init__(self, symbols: tuple[str, ...], tws: FakeTws | None = None, **config: object) -> None:
        self.tws = tws or FakeTws()
        self.symbols = symbols
        self.config = config
        self.sink = WaitingSink()
        self.stop = asyncio.Event()

    async def __aenter__(self) -> Running:
        await self.tws.start()
        config = IbkrFeedConfig(symbols=self.symbols, port=self.tws.port, reconnect_initial_s=0.05,
                                reconnect_max_s=0.2, connect_timeout_s=5, **self.config)
        self.feed = IbkrFeed(config, self.sink, wall_ns=lambda: 1_764_000_000 * NS + 5)
        self.task = asyncio.ensure_future(self.feed.run(self.stop))
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        await asyncio.wait_for(self.task, 10)
        await self.tws.stop()

    async def subscribed(self, count: int) -> None:
        await self.tws.wait_for(lambda: len(self.tws.subscriptions) == count)


async def test_tick_by_tick_and_market_data_ticks_become_trade_ticks() -> None:
    async with Running(("SPY", "QQQ"), tick_by_tick_limit=1) as run:
        await run.subscribed(2)
        kinds = {s.symbol: s.kind for s in run.tws.subscriptions.values()}
        assert kinds == {"SPY": "tick_by_tick", "QQQ": "market_data"}
        run.tws.trade_tick_by_tick("SPY", 1_764_000_000, "600.01", 100, "ARCA", "T I")
        run.tws.rt_volume("QQQ", "510.25", 300, 1_764_000_000_250)
        await run.sink.until(lambda: len(run.sink.trades) == 2)
    spy, qqq = sorted(run.sink.trades, key=lambda t: t.symbol, reverse=True)
    assert (spy.symbol, spy.ts_event, spy.price, spy.size, spy.exchange, spy.conditions, spy.feed) == (
        "SPY", 1_764_000_000 * NS, Decimal("600.01"), 100, "ARCA", ("T", "I"), "ibkr")
    assert (qqq.symbol, qqq.ts_event, qqq.price, qqq.size) == ("QQQ", 1_764_000_000_250_000_000, Decimal("510.25"), 300)
    assert spy.ts_init == 1_764_000_000 * NS + 5 and run.feed.last_latency_ns == 5 - 250_000_000
    subscribed = next(s for s in run.sink.statuses if s.event == "subscribed")
    assert "SPY:tick_by_tick" in subscribed.detail and "QQQ:market_data" in subscribed.detail
    assert run.sink.events()[-1] == "disconnected" and run.tws.subscriptions == {}


async def test_tick_by_tick_limit_reached_moves_the_symbol_to_market_data() -> None:
    async with Running(("SPY", "QQQ", "IWM"), FakeTws(refuse_tick_by_tick_beyond=1), tick_by_tick_limit=3) as run:
        await run.sink.until(lambda: sum(s.event == "mode_changed" for s in run.sink.statuses) == 2)
        await run.subscribed(3)
        kinds = {s.symbol: s.kind for s in run.tws.subscriptions.values()}
        assert kinds == {"SPY": "tick_by_tick", "QQQ": "market_data", "IWM": "market_data"}
        assert run.feed.modes == {"SPY": TICK_BY_TICK, "QQQ": MARKET_DATA, "IWM": MARKET_DATA}
        changed = [s.detail for s in run.sink.statuses if s.event == "mode_changed"]
        assert all("10190" in d for d in changed) and {d.split(":")[0] for d in changed} == {"QQQ", "IWM"}


async def test_a_permission_error_drops_the_symbol_with_a_clear_status() -> None:
    async with Running(("SPY", "QQQ"), FakeTws(permission_denied={"QQQ"})) as run:
        await run.sink.until(lambda: "error" in run.sink.events())
        await run.subscribed(1)
        (error,) = [s for s in run.sink.statuses if s.event == "error"]
        assert error.detail.startswith("QQQ dropped: market data not subscribed (IBKR 354")
        assert error.subscribed_symbols == ("SPY",) and run.feed.refused == {"QQQ": "IBKR 354: market data not subscribed"}
        run.tws.trade_tick_by_tick("SPY", 1_764_000_001, "600.00", 10)
        await run.sink.until(lambda: len(run.sink.trades) == 1)


async def test_the_daily_gateway_restart_is_survived_with_backoff_and_resubscription() -> None:
    async with Running(("SPY", "QQQ")) as run:
        await run.subscribed(2)
        port = run.tws.port
        await run.tws.stop()
        await run.sink.until(lambda: run.sink.events().count("reconnecting") >= 2)
        assert not run.feed.connected
        retries = [s.detail for s in run.sink.statuses if s.event == "reconnecting"]
        assert "retry 1 in 0.1 s" in retries[0] and "retry 2 in 0.1 s" in retries[1]  # 0.05, then 0.1
        run.tws.port = port
        await run.tws.start()
        await run.subscribed(2)
        await run.sink.until(lambda: run.sink.events().count("subscribed") == 2)
        assert run.tws.connections == 2 and run.feed.connected
        run.tws.trade_tick_by_tick("QQQ", 1_764_000_002, "510.00", 5)
        await run.sink.until(lambda: len(run.sink.trades) == 1)


async def test_connectivity_codes_1100_1101_1102() -> None:
    async with Running(("SPY",)) as run:
        await run.subscribed(1)
        first = run.tws.req_id("SPY")
        run.tws.error(-1, 1100, "Connectivity between IB and TWS has been lost.")
        await run.sink.until(lambda: not run.feed.connected)
        assert run.sink.statuses[-1].connected is False and "1100" in run.sink.statuses[-1].detail
        requests = len(run.tws.requests)
        market_data = {"1", "2", "97", "98"}
        run.tws.error(-1, 1102, "Connectivity between IB and TWS has been restored - data maintained.")
        await run.sink.until(lambda: run.feed.connected)
        run.tws.error(-1, 1100, "Connectivity between IB and TWS has been lost.")
        await run.sink.until(lambda: not run.feed.connected)
        # 1102 keeps the subscriptions: no market-data request is re-sent (ib_insync refreshes the account summary)
        assert not [f for _, f in run.tws.requests[requests:] if f[0] in market_data]
        requests = len(run.tws.requests)
        run.tws.error(-1, 1101, "Connectivity between IB and TWS has been restored - data lost.")
        await run.tws.wait_for(lambda: run.tws.subscriptions and run.tws.req_id("SPY") != first)
        assert [f[0] for _, f in run.tws.requests[requests:] if f[0] in market_data] == ["98", "97"]  # cancel, then request again
        assert run.feed.connected


async def test_requests_are_paced_to_50_messages_per_second() -> None:
    """Measured where messages leave our process: the fake server shares the test's event loop, so its
    own receipt times are delayed by the client's work and would overstate bursts."""
    symbols = tuple(f"S{i:03d}" for i in range(120))
    sent: list[float] = []
    async with Running(symbols, tick_by_tick_limit=0) as run:  # default pacing
        connection = run.feed.ib.client.conn
        send = connection.sendMsg

        def recording(message: bytes) -> None:
            if not message.startswith(b"API"):  # the handshake precedes the API session
                sent.append(asyncio.get_running_loop().time())
            send(message)

        connection.sendMsg = recording
        await run.subscribed(120)
    busiest = max(sum(1 for u in sent if t <= u < t + 1.0) for t in sent)
    assert 40 <= busiest <= 50
    assert sent[-1] - sent[0] >= 2.0  # 125 requests (start-up and 120 subscriptions) need three windows


def test_mode_plan_honours_explicit_choices_and_the_limit() -> None:
    assert plan_modes(("A", "B", "C", "D"), 2, {"C": TICK_BY_TICK}) == {
        "A": TICK_BY_TICK, "B": MARKET_DATA, "C": TICK_BY_TICK, "D": MARKET_DATA}
    assert plan_modes(("A", "B"), 0, {}) == {"A": MARKET_DATA, "B": MARKET_DATA}


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.next_delay() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next_delay() == 1.0


def test_rt_volume_parsing() -> None:
    assert parse_rt_volume("701.28;1;1348075471534;67854;701.46918464;true") == (
        Decimal("701.28"), 1, 1348075471534 * 1_000_000)
    assert parse_rt_volume(";0;1348075471534;67854;701.46;false") is None


@pytest.mark.parametrize(("env", "message"), [
    ({"IBKR_PACING_PER_SECOND": "80"}, "IBKR_PACING_PER_SECOND must be 1-50"),
    ({"IBKR_MODES": "SPY:fast"}, "IBKR_MODES: SPY:fast is not one of"),
    ({"IBKR_MODES": "TSLA:market_data"}, "IBKR_MODES names TSLA"),
    ({"IBKR_PORT": "gateway"}, "IBKR_PORT='gateway' is not an integer"),
    ({"IBKR_API_LIBRARY": "ibapi"}, "IBKR_API_LIBRARY must be one of"),
])
def test_configuration_errors_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config = IbkrFeedConfig.from_env(env, ("SPY",))
        IbkrFeed(config, ListFeedSink())

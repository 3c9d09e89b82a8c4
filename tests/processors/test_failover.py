"""Fail-over decisions on a fake clock, and no tick lost or duplicated across a switch and hand-back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from processors.failover import PRIMARY, SECONDARY, FailoverController
from processors.model import TradeTick

S = 1_000_000_000


def tick(i: int, feed: str, trade_id: bool = True) -> TradeTick:
    return TradeTick(symbol="SPY", ts_event=i * S, ts_init=i * S, price=Decimal("600") + i, size=100, feed=feed,
                     trade_id=str(i) if trade_id else None)


def test_silence_beyond_threshold_fails_over_only_while_the_market_is_open() -> None:
    control = FailoverController(silence_ns=5 * S, recovery_ns=10 * S)
    control.on_connection(PRIMARY, True, 0)
    control.on_connection(SECONDARY, True, 0)
    assert control.evaluate(5 * S, market_open=True) is None           # exactly at the threshold: not yet
    assert control.evaluate(6 * S, market_open=False) is None          # closed market: silence is normal
    switch = control.evaluate(6 * S, market_open=True)
    assert switch is not None and (switch.to, switch.event) == (SECONDARY, "failover")
    assert "silent for 6.0 s" in switch.reason


def test_disconnect_fails_over_and_hand_back_waits_for_recovery_time() -> None:
    control = FailoverController(silence_ns=5 * S, recovery_ns=10 * S)
    control.on_connection(PRIMARY, True, 0)
    control.on_connection(SECONDARY, True, 0)
    control.on_connection(PRIMARY, False, 1 * S)
    assert control.evaluate(1 * S, market_open=True).event == "failover"
    control.on_connection(PRIMARY, True, 20 * S)
    control.on_tick(PRIMARY, tick(20, "p"), 20 * S)
    assert control.evaluate(29 * S, market_open=True) is None
    control.on_tick(PRIMARY, tick(29, "p"), 29 * S)
    back = control.evaluate(30 * S, market_open=True)
    assert back is not None and (back.to, back.event) == (PRIMARY, "handback")


def test_no_failover_without_a_connected_secondary() -> None:
    control = FailoverController()
    control.on_connection(PRIMARY, False, 0)
    assert control.evaluate(10 * S, market_open=True) is None and control.active == PRIMARY


@pytest.mark.parametrize("with_ids", [True, False])
def test_no_tick_lost_or_duplicated_across_failover_and_handback(with_ids: bool) -> None:
    """Both feeds see the same trades; the primary is cut for a while mid-session, then recovers."""
    control = FailoverController(silence_ns=3 * S, recovery_ns=5 * S)
    control.on_connection(PRIMARY, True, 0)
    control.on_connection(SECONDARY, True, 0)
    published: list[int] = []
    switches = []
    for second in range(60):
        now = second * S
        if second == 20:
            control.on_connection(PRIMARY, False, now)
        if second == 35:
            control.on_connection(PRIMARY, True, now)
        # The secondary lags the primary by one second; the primary delivers nothing while cut.
        if not 20 <= second < 35:
            if control.on_tick(PRIMARY, tick(second, "p", with_ids), now):
                published.append(second)
        if second >= 1 and control.on_tick(SECONDARY, tick(second - 1, "s", with_ids), now):
            published.append(second - 1)
        switch = control.evaluate(now, market_open=True)
        if switch:
            switches.append((second, switch.event))
            published += [int(t.ts_event // S) for t in switch.backlog]
    assert switches == [(20, "failover"), (40, "handback")]
    assert published == sorted(set(published)) and published == list(range(60))


def test_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="silence_ns"):
        FailoverController(silence_ns=0)


def test_feeds_with_different_ids_and_time_precision_are_matched_by_occurrence() -> None:
    """IBKR: whole seconds, no ids; Polygon: milliseconds and SIP ids. Two identical prints in one second
    are two trades and both survive; the one the primary published before it was cut is not repeated."""
    ms = 1_000_000

    def ib(ts_s: int, price: str) -> TradeTick:
        return TradeTick("SPY", ts_s * S, 0, Decimal(price), 100, "ibkr")

    def poly(ts_ms: int, price: str, trade_id: str) -> TradeTick:
        return TradeTick("SPY", ts_ms * ms, 0, Decimal(price), 100, "polygon", trade_id=trade_id)

    control = FailoverController(silence_ns=2 * S, recovery_ns=5 * S)
    control.on_connection(PRIMARY, True, 0)
    control.on_connection(SECONDARY, True, 0)
    published = []
    # Second 10: three prints; two are identical (600.00 x 100). The primary delivers the first two only.
    for t in (ib(10, "600.00"), ib(10, "600.00")):
        if control.on_tick(PRIMARY, t, 10 * S):
            published.append(t)
    for t in (poly(10_100, "600.00", "a"), poly(10_400, "600.00", "b"), poly(10_900, "600.01", "c")):
        assert not control.on_tick(SECONDARY, t, 11 * S)
    switch = control.evaluate(13 * S, market_open=True)
    assert switch is not None and switch.event == "failover"
    published += switch.backlog
    assert [(t.feed, t.price) for t in published] == [("ibkr", Decimal("600.00")), ("ibkr", Decimal("600.00")),
                                                     ("polygon", Decimal("600.01"))]
    # A third identical print in the same second is a new trade.
    assert control.on_tick(SECONDARY, poly(10_950, "600.00", "d"), 13 * S)


def test_a_primary_still_connecting_at_start_gets_the_silence_threshold_before_failover() -> None:
    control = FailoverController(silence_ns=5 * S, recovery_ns=10 * S)
    control.on_connection(SECONDARY, True, 0)
    assert control.evaluate(5 * S, market_open=True) is None
    switch = control.evaluate(5 * S + 1, market_open=True)
    assert switch is not None and switch.reason == "primary disconnected"

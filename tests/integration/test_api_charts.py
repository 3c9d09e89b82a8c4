"""The charts page's data against the real PostgreSQL: a symbol's newest bars in start order with indicators worked
out by hand (Donchian channel, ATR, a swing high), the caller's signals and trades of the symbol in the bars' range
(not another user's), and each bad parameter a 400 naming it."""

from __future__ import annotations

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
T0 = 1_773_149_400_000_000_000  # 2026-03-10 13:30 UTC, 09:30 ET
STEP = 5 * 60 * 10**9
# (high, low, close) of 8 five-minute bars; bar 3's high (14) is a swing high with 2 bars each side.
BARS = [(11, 9, 10), (12, 10, 11), (13, 11, 12), (14, 12, 13), (13, 11, 12), (12, 10, 11), (12, 9, 10), (11, 8, 9)]


def insert_bars(conn: psycopg.Connection, symbol: str) -> None:
    for i, (high, low, close) in enumerate(BARS):
        start = T0 + i * STEP
        conn.execute("insert into bars (symbol, timeframe, start, \"end\", start_ns, end_ns, session, open, high, low, "
                     "close, volume, vwap, trades, ts_init_ns) values (%s, '5m', to_timestamp(%s / 1e9), "
                     "to_timestamp(%s / 1e9), %s, %s, 'regular', %s, %s, %s, %s, 100, %s, 3, %s)",
                     (symbol, start, start + STEP, start, start + STEP, close, high, low, close, close, start))


def test_bars_indicators_and_the_callers_markers(settings: Settings, unique: str) -> None:
    symbol = f"C{unique[:6].upper()}"
    mine, theirs = f"strat-a-{unique}", f"strat-b-{unique}"
    a = make_user(settings.database_url, f"charts-a-{unique}", accounts=[f"acct-a-{unique}"], strategies=[mine])
    make_user(settings.database_url, f"charts-b-{unique}", strategies=[theirs])
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        insert_bars(conn, symbol)
        for strategy, at in ((mine, T0 + 3 * STEP), (theirs, T0 + 4 * STEP), (mine, T0 + 100 * STEP)):
            conn.execute("insert into signals (signal_id, strategy, symbol, side, ts, ts_event_ns, ts_init_ns, price, "
                         "reason) values (%s, %s, %s, 'BUY', to_timestamp(%s / 1e9), %s, %s, 13.5, 'breakout')",
                         (f"{strategy}-{at}", strategy, symbol, at, at, at))
        conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, "
                     "symbol, direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, "
                     "initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns) values (%s, 1, "
                     "'OPENED', %s, %s, 'intraday', 'long', %s, 'long', 'Running', %s, %s, 10, 0, 13.5, 12, 12, 0, 0, "
                     "0, 0, %s)", (f"{unique}-t", f"acct-a-{unique}", mine, symbol, T0 + 4 * STEP, T0 + 4 * STEP,
                                   T0 + 4 * STEP))

    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(a.headers)
        body = client.get("/api/bars", params={"symbol": symbol.lower(), "limit": 7, "donchian": 3, "atr": 2,
                                               "swing": 2, "fractal": 1}).json()
        assert body["symbol"] == symbol and [bar["start_ns"] for bar in body["bars"]] == [
            T0 + i * STEP for i in range(1, 8)]  # the newest 7, oldest first
        assert body["bars"][0]["close"] == "11.00000000"
        indicators = body["indicators"]
        # Donchian(3) over bars 1..7: highs 12 13 14 13 12 12 11, lows 10 11 12 11 10 9 8.
        assert indicators["dc_upper"] == [None, None, 14, 14, 14, 13, 12]
        assert indicators["dc_lower"] == [None, None, 10, 11, 10, 9, 8]
        # ATR(2): true ranges from the second bar on: 2, 2, 2, 2, 3, 3; the first mean at index 2, then Wilder's.
        assert indicators["atr"][:2] == [None, None] and indicators["atr"][2] == 2.0
        assert indicators["atr"][3] == pytest.approx((2.0 * 1 + 2) / 2)
        # The swing high of bar 3 (14) is known two bars later (index 4 of the answer) and carried forward.
        assert indicators["swing_high"] == [None, None, None, None, 14, 14, 14]
        assert [s["signal_id"] for s in body["signals"]] == [f"{mine}-{T0 + 3 * STEP}"]
        assert [(t["trade_id"], t["entry_price"]) for t in body["trades"]] == [(f"{unique}-t", "13.50000000")]

        empty = client.get("/api/bars", params={"symbol": f"NONE{unique[:4]}"}).json()
        assert empty["bars"] == [] and empty["indicators"]["atr"] == [] and empty["signals"] == []
        for bad, name in (({}, "symbol"), ({"symbol": "A B"}, "symbol"), ({"symbol": "SPY", "timeframe": "5x"},
                                                                           "timeframe"),
                          ({"symbol": "SPY", "limit": 0}, "limit"), ({"symbol": "SPY", "donchian": 501}, "donchian"),
                          ({"symbol": "SPY", "swing": "x"}, "swing")):
            refused = client.get("/api/bars", params=bad)
            assert refused.status_code == 400 and name in refused.text, (bad, refused.text)
        assert client.get("/api/bars", params={"symbol": symbol}, headers={"Authorization": ""}).status_code == 401

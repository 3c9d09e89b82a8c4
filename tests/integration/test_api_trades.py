"""The trades page's first answers against the real PostgreSQL: the caller's Waiting and Running trades (not a
closed one, not another user's), each with its multiplier from its fills and its symbol's last bar close, and the
newest event of each of the caller's orders, newest first; a bad limit is a 400 naming it."""

from __future__ import annotations

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
T0 = 1_773_150_300_000_000_000  # 2026-03-10 13:45 UTC


def insert_trade(conn: psycopg.Connection, trade_id: str, account: str, symbol: str, status: str) -> None:
    conn.execute(
        "insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, symbol, "
        "direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, initial_stop, stop_price, "
        "target_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns, closed_ns) values (%s, 3, %s, %s, 'breakout', "
        "'intraday', 'long', %s, 'long', %s, %s, %s, 2, 0, 4.5, 4, 4.2, 5, 0, 1, -1, 0, %s, %s)",
        (trade_id, "CLOSED" if status == "Closed" else "OPENED", account, symbol, status, T0, T0, T0,
         T0 + 1 if status == "Closed" else None))


def insert_order(conn: psycopg.Connection, order_id: str, sequence: int, account: str, event: str, status: str,
                 ts: int) -> None:
    conn.execute(
        "insert into order_events (client_order_id, sequence, account_id, strategy, trade_id, event, status, "
        "ts_event_ns, ts_init_ns, symbol, side, order_type, quantity, stop_price, broker) values (%s, %s, %s, "
        "'breakout', 't', %s, %s, %s, %s, 'SPX', 'SELL', 'STOP', 2, 4.2, 'paper')",
        (order_id, sequence, account, event, status, ts, ts))


def test_open_trades_and_orders_of_the_caller(settings: Settings, unique: str) -> None:
    mine, theirs = f"acct-a-{unique}", f"acct-b-{unique}"
    a = make_user(settings.database_url, f"trades-a-{unique}", accounts=[mine])
    b = make_user(settings.database_url, f"trades-b-{unique}", accounts=[theirs])
    symbol = f"O{unique[:6].upper()}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        insert_trade(conn, f"{unique}-run", mine, symbol, "Running")
        insert_trade(conn, f"{unique}-done", mine, symbol, "Closed")
        insert_trade(conn, f"{unique}-other", theirs, symbol, "Running")
        conn.execute("insert into fills (exec_id, client_order_id, account_id, strategy, trade_id, ts_event_ns, "
                     "ts_init_ns, symbol, side, quantity, price, filled_quantity, leaves_quantity, multiplier, "
                     "commission, regulatory_fees, broker) values (%s, 'o', %s, 'breakout', %s, %s, %s, %s, 'BUY', 2, "
                     "4.5, 2, 0, 100, 1, 0, 'paper')", (f"{unique}-x", mine, f"{unique}-run", T0, T0, symbol))
        for minute, close in ((0, "4.6"), (1, "4.75")):
            start = T0 + minute * 60 * 10**9
            conn.execute("insert into bars (symbol, timeframe, start, \"end\", start_ns, end_ns, session, open, high, "
                         "low, close, volume, vwap, trades, ts_init_ns) values (%s, '1m', to_timestamp(%s / 1e9), "
                         "to_timestamp(%s / 1e9), %s, %s, 'regular', %s, %s, %s, %s, 1, %s, 1, %s)",
                         (symbol, start, start + 60 * 10**9, start, start + 60 * 10**9, close, close, close, close,
                          close, start))
        insert_order(conn, f"{unique}-o1", 0, mine, "ACCEPTED", "Placed", T0)
        insert_order(conn, f"{unique}-o1", 1, mine, "MODIFIED", "Placed", T0 + 5)
        insert_order(conn, f"{unique}-o2", 0, mine, "CANCELLED", "Cancelled", T0 + 3)
        insert_order(conn, f"{unique}-o3", 0, theirs, "ACCEPTED", "Placed", T0 + 9)

    with TestClient(app=create_app(api_settings(settings))) as client:
        (running,) = client.get("/api/trades/open", headers=a.headers).json()
        assert (running["trade_id"], running["status"], running["multiplier"]) == (f"{unique}-run", "Running", 100)
        assert (running["entry_price"], running["stop_price"], running["target_price"], running["last_price"]) == (
            "4.50000000", "4.20000000", "5.00000000", "4.75000000")
        assert [t["trade_id"] for t in client.get("/api/trades/open", headers=b.headers).json()] == [f"{unique}-other"]

        orders = client.get("/api/orders", headers=a.headers).json()
        assert [(o["client_order_id"], o["sequence"], o["event"]) for o in orders] == [
            (f"{unique}-o1", 1, "MODIFIED"), (f"{unique}-o2", 0, "CANCELLED")]
        assert [o["client_order_id"] for o in client.get("/api/orders", params={"limit": 1},
                                                         headers=a.headers).json()] == [f"{unique}-o1"]
        assert [o["client_order_id"] for o in client.get("/api/orders", headers=b.headers).json()] == [f"{unique}-o3"]
        for bad in ("0", "501", "x"):
            refused = client.get("/api/orders", params={"limit": bad}, headers=a.headers)
            assert refused.status_code == 400 and "limit" in refused.text, refused.text
        assert client.get("/api/trades/open").status_code == 401

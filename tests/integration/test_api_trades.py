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


def insert_fill(conn: psycopg.Connection, exec_id: str, order_id: str, account: str, quantity: int, price: str,
                filled: int, commission: str, fees: str, ts: int) -> None:
    conn.execute("insert into fills (exec_id, client_order_id, account_id, strategy, trade_id, ts_event_ns, "
                 "ts_init_ns, symbol, side, quantity, price, filled_quantity, leaves_quantity, commission, "
                 "regulatory_fees, broker) values (%s, %s, %s, 'breakout', 't', %s, %s, 'SPX', 'BUY', %s, %s, %s, 0, "
                 "%s, %s, 'paper')", (exec_id, order_id, account, ts, ts, quantity, price, filled, commission, fees))


def test_orders_with_their_fills(settings: Settings, unique: str) -> None:
    """A fill is not an order status event: each order's row adds its fills up (units, value, exact average price,
    charges, last fill) and says its status now; another user's orders and fills never show, and a fill of
    another account under the same order id is not counted."""
    mine, theirs = f"acct-a-{unique}", f"acct-b-{unique}"
    a = make_user(settings.database_url, f"fills-a-{unique}", accounts=[mine])
    b = make_user(settings.database_url, f"fills-b-{unique}", accounts=[theirs])
    filled, partly, cancelled, waiting = (f"{unique}-{name}" for name in ("filled", "partly", "cancelled", "waiting"))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for order_id, ts in ((filled, T0), (partly, T0 + 1), (cancelled, T0 + 2), (waiting, T0 + 3)):
            insert_order(conn, order_id, 0, mine, "ACCEPTED", "Placed", ts)  # quantity 2, filled 0 as accepted
        insert_order(conn, cancelled, 1, mine, "CANCELLED", "Cancelled", T0 + 20)
        insert_order(conn, f"{unique}-theirs", 0, theirs, "ACCEPTED", "Placed", T0 + 4)
        # 1 @ 10.00 and 1 @ 10.01: average 10.005 (exact), charges 1.0035 + 0.02
        insert_fill(conn, f"{filled}-1", filled, mine, 1, "10.00", 1, "1.0035", "0", T0 + 10)
        insert_fill(conn, f"{filled}-2", filled, mine, 1, "10.01", 2, "0", "0.02", T0 + 11)
        insert_fill(conn, f"{partly}-1", partly, mine, 1, "4.3333", 1, "0.35", "0", T0 + 12)
        insert_fill(conn, f"{cancelled}-1", cancelled, mine, 1, "7", 1, "0.35", "0", T0 + 13)
        insert_fill(conn, f"{unique}-theirs-1", f"{unique}-theirs", theirs, 2, "9", 2, "1", "0", T0 + 14)
        insert_fill(conn, f"{unique}-stray", waiting, theirs, 2, "9", 2, "1", "0", T0 + 15)  # their account

    with TestClient(app=create_app(api_settings(settings))) as client:
        orders = {o["client_order_id"]: o for o in client.get("/api/orders", headers=a.headers).json()}
        theirs_seen = client.get("/api/orders", headers=b.headers).json()
        schema = client.get("/schema/openapi.json").json()
    figures = ("event", "status", "filled_quantity", "fills", "fill_quantity", "fill_value", "average_price",
               "charges", "last_fill_ns", "order_status")
    assert {order_id: tuple(order[name] for name in figures) for order_id, order in orders.items()} == {
        filled: ("ACCEPTED", "Placed", 0, 2, 2, "20.01000000", "10.005", "1.02350000", T0 + 11, "Success"),
        partly: ("ACCEPTED", "Placed", 0, 1, 1, "4.33330000", "4.3333", "0.35000000", T0 + 12, "Pending"),
        cancelled: ("CANCELLED", "Cancelled", 0, 1, 1, "7.00000000", "7.00", "0.35000000", T0 + 13, "Cancelled"),
        waiting: ("ACCEPTED", "Placed", 0, 0, 0, "0", None, "0", None, "Placed"),
    }
    assert list(orders) == [cancelled, waiting, partly, filled]   # newest status event first, as before
    assert [(o["client_order_id"], o["fill_quantity"], o["order_status"]) for o in theirs_seen] == [
        (f"{unique}-theirs", 2, "Success")]
    orders_route = schema["paths"]["/api/orders"]["get"]
    assert [p["name"] for p in orders_route["parameters"]] == ["limit"]
    assert orders_route["responses"]["200"]["content"]["application/json"]["schema"]["type"] == "array"

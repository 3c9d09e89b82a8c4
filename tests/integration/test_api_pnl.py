"""The P&L page's data against the real PostgreSQL: the caller's closed trades by New York day of their close (a
close at 23:30 ET counts on its own day, not the UTC one), by strategy and in total, with the running net P&L;
another user's, a running trade's and one closed outside the range do not count; bad dates are 400s naming them."""

from __future__ import annotations

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.streams.trading_events import ns
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration


def insert(conn: psycopg.Connection, trade_id: str, account: str, strategy: str, status: str, closed: str | None,
           pnl: str, charges: str, net: str) -> None:
    conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, symbol, "
                 "direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, initial_stop, "
                 "stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns, closed_ns) values (%s, 2, %s, %s, %s, "
                 "'intraday', 'long', 'SPY', 'long', %s, 1, 1, 10, %s, 10, 9, 9, %s, %s, %s, 0, %s, %s)",
                 (trade_id, "CLOSED" if closed else "OPENED", account, strategy, status, 10 if closed else 0, pnl,
                  charges, net, ns("2026-03-02T14:00:00+00:00"), ns(closed) if closed else None))


def test_pnl_by_day_and_strategy(settings: Settings, unique: str) -> None:
    mine, theirs = f"acct-a-{unique}", f"acct-b-{unique}"
    a = make_user(settings.database_url, f"pnl-a-{unique}", accounts=[mine])
    make_user(settings.database_url, f"pnl-b-{unique}", accounts=[theirs])
    s1, s2 = f"S1-{unique}", f"S2-{unique}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        insert(conn, f"{unique}-1", mine, s1, "Closed", "2026-03-02T15:00:00+00:00", "100", "2", "98")
        # Closed at 23:30 ET on 2 March (04:30 UTC on the 3rd): a trade of the 2nd.
        insert(conn, f"{unique}-2", mine, s2, "Closed", "2026-03-03T04:30:00+00:00", "-50", "1.5", "-51.5")
        insert(conn, f"{unique}-3", mine, s1, "Closed", "2026-03-04T15:00:00+00:00", "30", "1", "29")
        insert(conn, f"{unique}-4", mine, s1, "Closed", "2026-03-09T15:00:00+00:00", "999", "0", "999")  # not in range
        insert(conn, f"{unique}-5", mine, s1, "Running", None, "5", "1", "4")
        insert(conn, f"{unique}-6", theirs, s1, "Closed", "2026-03-02T15:00:00+00:00", "7", "0", "7")

    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(a.headers)
        body = client.get("/api/pnl", params={"from": "2026-03-02", "to": "2026-03-06"}).json()
        assert [(d["day"], d["trades"], d["pnl"], d["charges"], d["net_pnl"], d["cumulative_net_pnl"])
                for d in body["by_day"]] == [
            ("2026-03-02", 2, "50.00000000", "3.50000000", "46.50000000", "46.50000000"),
            ("2026-03-04", 1, "30.00000000", "1.00000000", "29.00000000", "75.50000000")]
        assert [(s["strategy"], s["trades"], s["net_pnl"], s["wins"], s["losses"]) for s in body["by_strategy"]] == [
            (s1, 2, "127.00000000", 2, 0), (s2, 1, "-51.50000000", 0, 1)]
        assert (body["total"]["trades"], body["total"]["net_pnl"], body["total"]["charges"]) == (
            3, "75.50000000", "4.50000000")
        only = client.get("/api/pnl", params={"from": "2026-03-02", "to": "2026-03-06", "strategy": s2}).json()
        assert [d["net_pnl"] for d in only["by_day"]] == ["-51.50000000"]
        none = client.get("/api/pnl", params={"from": "2026-03-02", "to": "2026-03-06", "account": theirs}).json()
        assert none["by_day"] == [] and none["total"] == {"trades": 0, "pnl": "0", "charges": "0", "net_pnl": "0",
                                                          "wins": 0, "losses": 0}
        for query, field in (({"from": "2026-03-32", "to": "2026-03-06"}, "from"),
                             ({"from": "2026-03-06", "to": "2026-03-02"}, "to"),
                             ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
                             ({"from": "2262-04-10", "to": "2262-04-11"}, "to"),
                             ({"from": "1969-12-31", "to": "1970-01-01"}, "from")):
            for route in ("/api/pnl", "/api/deals"):  # the same check of the dates (api.deals.deals_filter)
                refused = client.get(route, params=query)
                assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == field, refused.text
        assert client.get("/api/pnl", params={"to": "2026-03-02"}).status_code == 400

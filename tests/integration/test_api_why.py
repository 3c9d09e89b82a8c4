"""Why did this happen, against the real PostgreSQL: a trade of the caller's leads to its entry order's intent, the
risk decision on it and the signal that fired it (the rule, the value of each of its terms, the bars it read with
their indicators) and to the replay command of its day; a signal of the caller's alone likewise. Another user
reads neither (404, as for a missing one), and no caller reads anything (401)."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
MINUTE_NS = 60 * 10**9
# 2026-03-12 10:45 New York (EDT): the end of the 15-minute bar 10:30-10:45 that fired the rule.
FIRED = int(dt.datetime(2026, 3, 12, 14, 45, tzinfo=dt.timezone.utc).timestamp()) * 10**9


def insert_bar(conn: psycopg.Connection, symbol: str, timeframe: str, end_ns: int, close: str) -> None:
    length = int(timeframe[:-1]) * MINUTE_NS
    start_ns = end_ns - length
    conn.execute("insert into bars (symbol, timeframe, start, \"end\", start_ns, end_ns, session, open, high, low, "
                 "close, volume, vwap, trades, ts_init_ns) values (%s, %s, to_timestamp(%s / 1e9), "
                 "to_timestamp(%s / 1e9), %s, %s, 'regular', %s, %s, %s, %s, 100, %s, 3, %s)",
                 (symbol, timeframe, start_ns, end_ns, start_ns, end_ns, close, close, close, close, close, end_ns))


def test_a_trade_and_a_signal_are_explained_to_their_owner_only(settings: Settings, unique: str) -> None:
    account, strategy, other = f"acct-why-{unique}", f"strat-why-{unique}", f"strat-other-{unique}"
    symbol, peer = f"W{unique[:5]}".upper(), f"Q{unique[:5]}".upper()
    a = make_user(settings.database_url, f"why-a-{unique}", accounts=[account], strategies=[strategy])
    b = make_user(settings.database_url, f"why-b-{unique}", strategies=[other])
    signal_id, trade_id = f"sig-{unique}", f"coid-{unique}"
    rule_values = {f"price({symbol})": 101.5, f"swing_high({symbol},15m)": 101.2,
                   f"correlation({symbol},{peer},15m,20)": 0.83}
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, "
                     "price, reason, rule_values) values (%s, %s, %s, 'BUY', 'ENTRY', to_timestamp(%s / 1e9), %s, %s, "
                     "101.5, %s, %s)",
                     (signal_id, strategy, symbol, FIRED, FIRED, FIRED + 1000,
                      f"price({symbol}) > swing_high({symbol}, 15m)", json.dumps(rule_values)))
        conn.execute("insert into order_intents (client_order_id, signal_id, strategy, mode, symbol, instrument, "
                     "contract, side, ts, ts_event_ns, ts_init_ns, exchange, order_type, tick_size, reference_price, "
                     "product, quantity, multiplier) values (%s, %s, %s, 'VIRTUAL', %s, 'EQUITY', %s, 'BUY', "
                     "to_timestamp(%s / 1e9), %s, %s, 'SMART', 'MARKET', 0.01, 101.5, 'MARGIN', 10, 1)",
                     (trade_id, signal_id, strategy, symbol, symbol, FIRED, FIRED, FIRED))
        conn.execute("insert into risk_decisions (intent_id, account_id, strategy, symbol, side, action, ts_event_ns, "
                     "ts_init_ns, outcome, quantity, requested_quantity, signal_price, check_names, check_values, "
                     "check_limits, check_outcomes, check_details, check_allowed_quantities) values (%s, %s, %s, %s, "
                     "'BUY', 'ENTRY', %s, %s, 'ACCEPT', 10, 10, 101.5, '{max_loss_per_trade_pct}', '{0.4}', '{1}', "
                     "'{PASS}', '{within the limit}', '{10}')", (trade_id, account, strategy, symbol, FIRED, FIRED))
        conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, "
                     "symbol, direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, "
                     "initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns) values (%s, 1, 'OPENED', "
                     "%s, %s, 'intraday', 'long', %s, 'long', 'Running', %s, %s, 10, 0, 101.5, 100, 100, 0, 1, -1, "
                     "-0.01, %s)", (trade_id, account, strategy, symbol, FIRED + 5, FIRED + 5, FIRED + 5))
        for timeframe in ("5m", "15m"):
            insert_bar(conn, symbol, timeframe, FIRED, "101.5")
            insert_bar(conn, symbol, timeframe, FIRED - int(timeframe[:-1]) * MINUTE_NS, "100.9")
            insert_bar(conn, symbol, timeframe, FIRED + int(timeframe[:-1]) * MINUTE_NS, "99")  # after: not an input
        insert_bar(conn, peer, "15m", FIRED, "55.25")
        conn.execute("insert into indicator_snapshots (symbol, timeframe, start, \"end\", start_ns, close, atr_period, "
                     "atr, donchian_period, fractal_k, swing_left, swing_right, swing_high, ts_init_ns) values (%s, "
                     "'15m', to_timestamp(%s / 1e9), to_timestamp(%s / 1e9), %s, 101.5, 14, 0.6, 20, 2, 3, 3, 101.2, %s)",
                     (symbol, FIRED - 15 * MINUTE_NS, FIRED, FIRED - 15 * MINUTE_NS, FIRED))

    with TestClient(app=create_app(api_settings(settings))) as client:
        why = client.get(f"/api/trades/{trade_id}/why", headers=a.headers)
        assert why.status_code == 200, why.text
        body = why.json()
        signal = body["signal"]
        assert (signal["signal_id"], signal["reason"], signal["rule_values"], signal["price"]) == (
            signal_id, f"price({symbol}) > swing_high({symbol}, 15m)", rule_values, "101.50000000")
        assert signal["ts_event"] == "2026-03-12T10:45:00-04:00"
        assert body["inputs"]["symbols"] == [symbol, peer]
        bars = [(b["symbol"], b["timeframe"], b["end_ns"], b["close"]) for b in body["inputs"]["bars"]]
        assert bars == [(symbol, "5m", FIRED, "101.50000000"), (symbol, "15m", FIRED, "101.50000000"),
                        (peer, "15m", FIRED, "55.25000000")]
        fifteen = body["inputs"]["bars"][1]
        assert (fifteen["atr"], fifteen["swing_high"], body["inputs"]["bars"][0]["atr"]) == (0.6, 101.2, None)
        assert (body["intent"]["client_order_id"], body["intent"]["quantity"]) == (trade_id, 10)
        assert body["risk_decision"]["outcome"] == "ACCEPT"
        assert body["risk_decision"]["checks"] == [{"name": "max_loss_per_trade_pct", "value": "0.40000000",
                                                    "limit": "1.00000000", "outcome": "PASS",
                                                    "detail": "within the limit"}]
        assert (body["trade"]["trade_id"], body["trade"]["account_id"]) == (trade_id, account)
        assert body["replay"] == {
            "from": "2026-03-12", "to": "2026-03-12", "strategy": strategy, "account": account,
            "command": f"tradestream audit replay --from 2026-03-12 --to 2026-03-12 --config {strategy}.yaml "
                       f"--account {account}.yaml --out replay-{trade_id[:12]}"}

        alone = client.get(f"/api/signals/{signal_id}/why", headers=a.headers).json()
        assert (alone["signal"], alone["inputs"]) == (signal, body["inputs"])
        assert alone["replay"]["account"] is None and "--account" not in alone["replay"]["command"]

        for path in (f"/api/trades/{trade_id}/why", f"/api/signals/{signal_id}/why"):
            refused = client.get(path, headers=b.headers)
            assert refused.status_code == 404, refused.text
            assert str(rule_values[f"price({symbol})"]) not in refused.text and symbol not in refused.text
            assert client.get(path).status_code == 401
        assert client.get(f"/api/trades/missing-{unique}/why", headers=a.headers).status_code == 404
        assert client.get(f"/api/signals/{'x' * 201}/why", headers=a.headers).status_code == 400

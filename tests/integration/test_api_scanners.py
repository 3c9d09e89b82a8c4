"""Scanners through the API against the real PostgreSQL: validation with precise 400s, create, read,
replace, delete, each change recorded with who made it; signals listed in ET; the correlation matrix computed
from stored bars. Every request is a trader's, with their API token."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import psycopg
import pytest
import yaml
from litestar.testing import TestClient

from api.app import create_app
from api.scanners import SIGNALS, correlation_matrix, signal_row
from tests.users import ApiUser, make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def example(name: str) -> dict:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    data["name"] = name
    return data


def test_scanner_lifecycle_and_validation_errors(settings: Settings, unique: str, api_user: ApiUser) -> None:
    name = f"scan-{unique}"
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(api_user.headers)
        bad = example(name) | {"interval": "7x", "exit_rules": ["price(SPY) > > 1"], "colour": "red"}
        response = client.post("/api/scanners", json=bad)
        assert response.status_code == 400
        fields = {e["field"]: e["message"] for e in response.json()["errors"]}
        assert {"interval", "exit_rules[0]", "colour"} <= set(fields)
        assert "position 13" in fields["exit_rules[0]"]
        assert client.post("/api/scanners/validate", json=example(name)).json()["valid"] is True

        created = client.post("/api/scanners", json=example(name))
        assert created.status_code == 201 and created.json()["version"] == 1
        assert client.post("/api/scanners", json=example(name)).status_code == 409
        replaced = client.put(f"/api/scanners/{name}", json=example(name) | {"max_signals_per_day": 3,
                                                                             "max_signals_per_symbol": 3})
        assert replaced.status_code == 200 and replaced.json()["version"] == 2
        stored = client.get(f"/api/scanners/{name}").json()
        assert stored["config"]["max_signals_per_day"] == 3 and stored["config"]["days"] == [
            "mon", "tue", "wed", "thu", "fri"]
        assert name in [s["name"] for s in client.get("/api/scanners").json()]
        assert client.put(f"/api/scanners/other-{unique}", json=example(name)).status_code == 400
        assert client.delete(f"/api/scanners/{name}").status_code == 204
        assert client.get(f"/api/scanners/{name}").status_code == 404
        assert client.delete(f"/api/scanners/{name}").status_code == 404
    with psycopg.connect(settings.database_url) as conn:
        changes = conn.execute("select actor, action, detail from user_changes where subject = %s order by change_id",
                               (name,)).fetchall()
    assert changes == [(api_user.name, "strategy_created", {"version": 1}),
                       (api_user.name, "strategy_replaced", {"version": 2}),
                       (api_user.name, "strategy_deleted", {})]


def test_signals_are_listed_in_eastern_time(settings: Settings, unique: str) -> None:
    ts = dt.datetime(2026, 11, 24, 15, 1, tzinfo=dt.timezone.utc)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, "
                     "price, reason) values (%s, %s, 'SPY', 'BUY', 'ENTRY', %s, 1, 2, 600.5, 'r')",
                     (f"sig-{unique}", f"st-{unique}", ts))
    owner = make_user(settings.database_url, f"trader-{unique}", strategies=[f"st-{unique}"])
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(owner.headers)
        (signal,) = client.get("/api/signals", params={"strategy": f"st-{unique}"}).json()
        assert client.get("/api/signals").json() == [signal]  # only the signals of the caller's strategies
        assert client.get("/api/signals", params={"limit": 0}).status_code == 400
    assert signal["ts"] == "2026-11-24T10:01:00-05:00" and signal["price"] == "600.50000000"


def test_signals_built_as_json_by_the_database_read_as_python_formats_them(settings: Settings, unique: str) -> None:
    """Summer and winter time, whole and fractional seconds, across midnight UTC: the JSON the database
    builds equals `signal_row` of the typed rows."""
    strategy = f"st-{unique}"
    times = [dt.datetime(2026, 7, 1, 13, 30, tzinfo=dt.timezone.utc),  # 09:30 EDT (-04:00)
             dt.datetime(2026, 12, 1, 14, 30, 0, 250, tzinfo=dt.timezone.utc),  # 09:30:00.000250 EST (-05:00)
             dt.datetime(2026, 3, 8, 6, 59, 59, 999999, tzinfo=dt.timezone.utc),  # the night clocks go forward
             dt.datetime(2026, 11, 2, 3, 0, tzinfo=dt.timezone.utc)]  # 22:00 the previous day in ET
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for index, ts in enumerate(times):
            conn.execute("insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, "
                         "price, reason, rule_values) values (%s, %s, 'SPY', 'SELL', 'EXIT', %s, 1, 2, %s, 'r', %s)",
                         (f"sig-{unique}-{index}", strategy, ts, Decimal("123.45678901") * (index + 1),
                          json.dumps({"price(SPY)": 1.5 * index})))
        rows = conn.execute("select signal_id, strategy, symbol, side, action, ts, price, reason, rule_values from "
                            "signals where strategy = %s order by ts desc, signal_id", (strategy,)).fetchall()
        (text,) = conn.execute(SIGNALS.format(where="where strategy = %s"), (strategy, 10)).fetchone()
    assert json.loads(text) == [signal_row(row) for row in rows]
    assert {item["ts"][-6:] for item in json.loads(text)} == {"-04:00", "-05:00"}
    owner = make_user(settings.database_url, f"trader-{unique}", strategies=[strategy])
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(owner.headers)
        assert client.get("/api/signals", params={"strategy": strategy}).json() == json.loads(text)


def test_correlation_matrix_from_stored_bars(settings: Settings, unique: str, api_user: ApiUser) -> None:
    a, b = f"A{unique[:6]}".upper(), f"B{unique[:6]}".upper()
    rng = np.random.default_rng(3)
    returns = rng.normal(0, 0.01, 30)
    prices = {a: 100 * np.cumprod(1 + returns), b: 50 * np.cumprod(1 - returns)}  # perfectly anti-correlated
    start = int(dt.datetime(2026, 11, 24, 14, 30, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    with psycopg.connect(settings.database_url) as conn:
        for symbol, closes in prices.items():
            for i, close in enumerate(closes):
                s = start + i * 300 * 10**9
                c = Decimal(f"{close:.4f}")
                conn.execute("insert into bars (symbol, timeframe, start, \"end\", start_ns, end_ns, session, open, "
                             "high, low, close, volume, vwap, trades, ts_init_ns) values (%s, '5m', to_timestamp(%s / 1e9), "
                             "to_timestamp(%s / 1e9), %s, %s, 'regular', %s, %s, %s, %s, 1, %s, 1, 0)",
                             (symbol, s, s + 300 * 10**9, s, s + 300 * 10**9, c, c, c, c, c))
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(api_user.headers)
        body = client.get("/api/correlation", params={"symbols": f"{a},{b}", "bars": 20}).json()
        assert client.get("/api/correlation", params={"symbols": a}).status_code == 400
    assert body["symbols"] == [a, b]
    assert body["matrix"][0][0] == pytest.approx(1.0) and body["matrix"][0][1] == pytest.approx(-1.0, abs=1e-3)


def test_correlation_matrix_needs_enough_shared_bars() -> None:
    closes = {"A": {1: 1.0, 2: 2.0, 3: 1.5}, "B": {1: 1.0, 2: 1.1, 3: 1.0}}
    assert correlation_matrix(closes, 5) == [[None, None], [None, None]]
    assert correlation_matrix(closes, 2)[0][1] == pytest.approx(1.0)


def test_rule_errors_give_their_position_and_a_scanner_is_disabled_and_enabled(settings: Settings, unique: str,
                                                                                api_user: ApiUser) -> None:
    from tradestream.commands.strategy import stored_scanner

    name = f"scan-{unique}"
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(api_user.headers)
        bad = example(name) | {"exit_rules": ["price(SPY) < 1", "price(SPY) > > 1"], "interval": "7x"}
        errors = client.post("/api/scanners", json=bad).json()["errors"]
        assert {"field": "exit_rules[1]", "message": "expected a number, a function call, true, false or '(', found "
                "'>' at position 13", "position": 13} in errors
        assert [e for e in errors if e["field"] == "interval" and "position" not in e]

        assert client.post("/api/scanners", json=example(name)).status_code == 201
        assert client.get(f"/api/scanners/{name}").json()["enabled"] is True
        assert stored_scanner(settings, name).name == name
        for body, field in (({}, "enabled"), ({"enabled": "no"}, "enabled"), ({"enabled": False, "x": 1}, "x")):
            refused = client.put(f"/api/scanners/{name}/enabled", json=body)
            assert refused.status_code == 400 and field in {e["field"] for e in refused.json()["errors"]}
        assert client.put(f"/api/scanners/missing-{unique}/enabled", json={"enabled": False}).status_code == 404
        disabled = client.put(f"/api/scanners/{name}/enabled", json={"enabled": False})
        assert disabled.status_code == 200 and disabled.json() == {"name": name, "enabled": False}
        assert [s["enabled"] for s in client.get("/api/scanners").json() if s["name"] == name] == [False]
        with pytest.raises(SystemExit, match="is disabled"):
            stored_scanner(settings, name)
        assert client.put(f"/api/scanners/{name}/enabled", json={"enabled": True}).json()["enabled"] is True
        assert client.get(f"/api/scanners/{name}").json()["enabled"] is True
    with psycopg.connect(settings.database_url) as conn:
        actions = conn.execute("select action from user_changes where subject = %s order by change_id",
                               (name,)).fetchall()
    assert actions == [("strategy_created",), ("strategy_disabled",), ("strategy_enabled",)]

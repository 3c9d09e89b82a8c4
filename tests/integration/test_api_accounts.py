"""The caller's accounts, their risk settings and the kill-switch reset through the API, against the real
PostgreSQL, Kafka and registry: a change is an AccountChanged on the accounts topic (the test's own) with the reason
and the caller as operator, recorded with who and when; no reason, settings with errors (every one named), another
user's account or a viewer are refused before anything is published."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import psycopg
import pytest
import yaml
from litestar.testing import TestClient

from api.app import create_app
from processors.model import AccountChanged
from processors.risk.account_file import read_account, write_account
from schemas.topics import spec
from tests.account_changes import changes_on
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings
from tradestream.topics import ensure_topics

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def test_accounts_and_the_kill_switch_reset(settings: Settings, unique: str) -> None:
    prefix = f"acc{unique}."
    ensure_topics(settings, prefix=prefix, catalogue=(spec("accounts"),))
    account = f"acct-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}", accounts=[account])
    other = make_user(settings.database_url, f"other-{unique}", accounts=[f"other-{unique}"])
    viewer = make_user(settings.database_url, f"viewer-{unique}", role="viewer", accounts=[f"seen-{unique}"])
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("insert into account_changes (account_id, ts_event_ns, kind, ts_init_ns, reason, operator) values "
                     "(%s, 5, 'KILL_SWITCH_RESET', 6, 'earlier reset', 'ops')", (account,))
    api = dataclasses.replace(api_settings(settings), kafka=settings.kafka(prefix))
    reset = f"/api/accounts/{account}/kill-switch/reset"
    with TestClient(app=create_app(api)) as client:
        listed = client.get("/api/accounts", headers=owner.headers).json()
        since = listed[0]["closed_today"]["since_ns"]
        assert listed == [{"account_id": account, "last_settings_change": None, "last_kill_switch_trip": None,
                           "last_kill_switch_reset": {"ts_event_ns": 5, "reason": "earlier reset", "operator": "ops"},
                           "last_risk_decision": None,
                           "closed_today": {"net_pnl": "0", "trades": 0, "since_ns": since, "last_closed_ns": None}}]
        assert [a["account_id"] for a in client.get("/api/accounts", headers=other.headers).json()] == [f"other-{unique}"]

        missing = client.post(reset, json={}, headers=owner.headers)
        assert missing.status_code == 400 and missing.json()["errors"] == [
            {"field": "reason", "message": "required: say why trading may resume"}]
        blank = client.post(reset, json={"reason": "  ", "colour": 1}, headers=owner.headers)
        assert {e["field"] for e in blank.json()["errors"]} == {"reason", "colour"}
        assert client.post(reset, json={"reason": "x"}, headers=other.headers).status_code == 404
        assert client.post(f"/api/accounts/seen-{unique}/kill-switch/reset", json={"reason": "x"},
                           headers=viewer.headers).status_code == 403

        done = client.post(reset, json={"reason": " drawdown reviewed with the desk "}, headers=owner.headers)
        assert done.status_code == 202, done.text
        body = done.json()
        assert body["reason"] == "drawdown reviewed with the desk" and body["operator"] == owner.name

    (published,) = changes_on(settings, f"{prefix}accounts", account, wanted=1)
    assert published == AccountChanged(account_id=account, kind="KILL_SWITCH_RESET", ts_event=body["ts_event_ns"],
                                       ts_init=body["ts_event_ns"], reason="drawdown reviewed with the desk",
                                       operator=owner.name)
    with psycopg.connect(settings.database_url) as conn:
        recorded = conn.execute("select actor, action, detail->>'reason' from user_changes where subject = %s",
                                (account,)).fetchall()
    assert recorded == [(owner.name, "kill_switch_reset", "drawdown reviewed with the desk")]


def test_the_kill_switch_tripped_by_hand(settings: Settings, unique: str) -> None:
    prefix = f"trip{unique}."
    ensure_topics(settings, prefix=prefix, catalogue=(spec("accounts"),))
    account = f"acct-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}", accounts=[account])
    other = make_user(settings.database_url, f"other-{unique}", accounts=[f"other-{unique}"])
    viewer = make_user(settings.database_url, f"viewer-{unique}", role="viewer", accounts=[f"seen-{unique}"])
    api = dataclasses.replace(api_settings(settings), kafka=settings.kafka(prefix))
    trip = f"/api/accounts/{account}/kill-switch/trip"
    with TestClient(app=create_app(api)) as client:
        missing = client.post(trip, json={"note": "x"}, headers=owner.headers)
        assert missing.status_code == 400 and missing.json()["errors"] == [
            {"field": "note", "message": "unknown field; the body has reason"},
            {"field": "reason", "message": "required: say why trading stops"}]
        assert client.post(trip, json={"reason": 3}, headers=owner.headers).json()["errors"] == [
            {"field": "reason", "message": "must be a string"}]
        assert client.post(trip, json={"reason": "x"}, headers=other.headers).status_code == 404
        assert client.post(f"/api/accounts/seen-{unique}/kill-switch/trip", json={"reason": "x"},
                           headers=viewer.headers).status_code == 403
        done = client.post(trip, json={"reason": "news halt on the desk's names"}, headers=owner.headers)
        assert done.status_code == 202, done.text
        body = done.json()
        assert (body["kind"], body["operator"]) == ("KILL_SWITCH_TRIPPED", owner.name)

    (published,) = changes_on(settings, f"{prefix}accounts", account, wanted=1)
    assert published == AccountChanged(account_id=account, kind="KILL_SWITCH_TRIPPED", ts_event=body["ts_event_ns"],
                                       ts_init=body["ts_event_ns"], reason="news halt on the desk's names",
                                       operator=owner.name)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        recorded = conn.execute("select actor, action, detail->>'reason' from user_changes where subject = %s",
                                (account,)).fetchall()
        assert recorded == [(owner.name, "kill_switch_tripped", "news halt on the desk's names")]
        conn.execute("insert into account_changes (account_id, ts_event_ns, kind, ts_init_ns, reason, operator) values "
                     "(%s, %s, 'KILL_SWITCH_TRIPPED', %s, 'news halt', %s)",
                     (account, body["ts_event_ns"], body["ts_event_ns"], owner.name))
    with TestClient(app=create_app(api)) as client:
        (listed,) = client.get("/api/accounts", headers=owner.headers).json()
    assert listed["last_kill_switch_trip"] == {"ts_event_ns": body["ts_event_ns"], "reason": "news halt",
                                               "operator": owner.name}


def test_account_figures_on_the_overview(settings: Settings, unique: str) -> None:
    from api.accounts import start_of_day_ns

    account = f"acct-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}", accounts=[account])
    now = time.time_ns()
    midnight = start_of_day_ns(now)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for intent, at, equity, tripped in (("i1", now - 10**9, "100000", False), ("i2", now, "99500.5", True)):
            conn.execute("insert into risk_decisions (intent_id, account_id, strategy, symbol, side, action, "
                         "ts_event_ns, ts_init_ns, outcome, quantity, equity, signal_price, open_risk_after, "
                         "kill_switch_tripped, kill_switch_reason) values (%s, %s, 's', 'SPY', 'BUY', 'entry', %s, %s, "
                         "'REJECT', 0, %s, 500, 250, %s, %s)",
                         (f"{unique}-{intent}", account, at, at, equity, tripped, "drawdown" if tripped else ""))
        for trade, status, closed, net in (("today", "Closed", now - 10**9, "12.5"),
                                           ("early", "Closed", midnight, "-2"),
                                           ("yesterday", "Closed", midnight - 1, "100"),
                                           ("open", "Running", None, "7")):
            conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, "
                         "symbol, direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, "
                         "initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns, closed_ns) values "
                         "(%s, 1, %s, %s, 's', 'intraday', 'long', 'SPY', 'long', %s, %s, %s, 1, %s, 10, 9, 9, 0, 0, "
                         "%s, 0, %s, %s)", (f"{unique}-{trade}", "CLOSED" if closed else "OPENED", account, status, now,
                                            now, 1 if closed else 0, net, midnight - 10**12, closed))
    with TestClient(app=create_app(api_settings(settings))) as client:
        (listed,) = client.get("/api/accounts", headers=owner.headers).json()
    assert listed["last_risk_decision"] == {"ts_event_ns": now, "equity": "99500.50000000", "open_risk": "250.00000000",
                                            "kill_switch_tripped": True, "kill_switch_reason": "drawdown"}
    # 12.5 - 2; not yesterday's, not open; the newest closing time among them, for the page's live refetch
    assert listed["closed_today"] == {"net_pnl": "10.50000000", "trades": 2, "since_ns": midnight,
                                      "last_closed_ns": now - 10**9}


def test_start_of_day_in_new_york() -> None:
    from api.accounts import start_of_day_ns

    assert start_of_day_ns(1_773_150_300 * 10**9) == 1_773_115_200 * 10**9  # 2026-03-10 09:45 EDT -> 04:00 UTC
    assert start_of_day_ns(1_773_115_200 * 10**9 - 1) == 1_773_028_800 * 10**9  # a nanosecond before: the day before


class Undelivered:
    """Kafka not taking the event (broker down, or no acknowledgement within the wait)."""

    def __init__(self) -> None:
        self.changes: list[AccountChanged] = []

    def publish(self, change: AccountChanged) -> bool:
        self.changes.append(change)
        return False


def test_a_reset_kafka_did_not_take_is_a_503_and_not_recorded(settings: Settings, unique: str) -> None:
    account = f"acct-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}", accounts=[account])
    kafka = Undelivered()
    with TestClient(app=create_app(api_settings(settings), account_changes=kafka)) as client:
        response = client.post(f"/api/accounts/{account}/kill-switch/reset", json={"reason": "reviewed"},
                               headers=owner.headers)
    assert response.status_code == 503 and "not delivered to Kafka" in response.json()["detail"]
    assert response.headers["retry-after"] == "5"
    assert [(c.account_id, c.reason, c.operator) for c in kafka.changes] == [(account, "reviewed", owner.name)]
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("select count(*) from user_changes where subject = %s", (account,)).fetchone() == (0,)


def account_file(account_id: str) -> dict:
    """examples/accounts/paper.yaml for `account_id`, as JSON sends it (dates as text)."""
    data = yaml.safe_load((ROOT / "examples/accounts/paper.yaml").read_text())
    return json.loads(json.dumps(data, default=str)) | {"account_id": account_id}


def test_risk_settings_read_and_changed(settings: Settings, unique: str) -> None:
    prefix = f"set{unique}."
    ensure_topics(settings, prefix=prefix, catalogue=(spec("accounts"),))
    account = f"acct-{unique}"
    owner = make_user(settings.database_url, f"owner-{unique}", accounts=[account])
    other = make_user(settings.database_url, f"other-{unique}")
    path = f"/api/accounts/{account}/settings"
    api = dataclasses.replace(api_settings(settings), kafka=settings.kafka(prefix))
    with TestClient(app=create_app(api)) as client:
        never = client.get(path, headers=owner.headers)
        assert never.status_code == 404 and "account file its runner started with" in never.json()["detail"]

        wrong = account_file(account) | {"colour": "red"}
        wrong["limits"] = wrong["limits"] | {"max_loss_per_trade": 0.5}
        refused = client.put(path, json={"settings": wrong}, headers=owner.headers)
        assert refused.status_code == 400
        fields = {error["field"] for error in refused.json()["errors"]}
        assert fields == {"reason", "settings.colour", "settings.limits.max_loss_per_trade"}
        negative = account_file(account)
        negative["limits"] = negative["limits"] | {"max_drawdown_pct": "-3"}
        out_of_range = client.put(path, json={"reason": "r", "settings": negative}, headers=owner.headers)
        assert out_of_range.json()["errors"] == [{"field": "settings.limits.max_drawdown_pct",
                                                  "message": "must be more than 0, got -3"}]
        elsewhere = client.put(path, json={"reason": "r", "settings": account_file("paper-1")}, headers=owner.headers)
        assert elsewhere.json()["errors"] == [{"field": "settings.account_id",
                                               "message": f"must be {account!r}, the account in the URL"}]
        new = account_file(account)
        new["limits"] = new["limits"] | {"max_drawdown_pct": "2"}
        assert client.put(path, json={"reason": "r", "settings": new}, headers=other.headers).status_code == 404
        assert client.get(path, headers=other.headers).status_code == 404

        done = client.put(path, json={"reason": "tighter drawdown", "settings": new}, headers=owner.headers)
        assert done.status_code == 202, done.text
        assert done.json()["settings"]["limits"]["max_drawdown_pct"] == "2"

    (published,) = changes_on(settings, f"{prefix}accounts", account, wanted=1)
    assert (published.kind, published.reason, published.operator) == ("SETTINGS_CHANGED", "tighter drawdown",
                                                                      owner.name)
    assert json.loads(published.settings) == write_account(read_account(new))
    # Once the sink has stored it, the account's settings read back.
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("insert into account_changes (account_id, ts_event_ns, kind, ts_init_ns, reason, operator, "
                     "settings) values (%s, %s, 'SETTINGS_CHANGED', %s, %s, %s, %s)",
                     (account, published.ts_event, published.ts_init, published.reason, published.operator,
                      published.settings))
    with TestClient(app=create_app(api)) as client:
        stored = client.get(path, headers=owner.headers).json()
    assert stored["settings"]["limits"]["max_drawdown_pct"] == "2" and stored["operator"] == owner.name
    assert stored["reason"] == "tighter drawdown" and stored["ts_event_ns"] == published.ts_event

"""The caller's accounts and the kill-switch reset through the API, against the real PostgreSQL, Kafka and
registry: the reset is an AccountChanged on the accounts topic (the test's own) with the reason and the caller as
operator, recorded with who and when; no reason, another user's account or a viewer are refused before anything
is published."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from processors.model import AccountChanged
from schemas.topics import spec
from tests.account_changes import changes_on
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings
from tradestream.topics import ensure_topics

pytestmark = pytest.mark.integration


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
        assert listed == [{"account_id": account, "last_settings_change": None,
                           "last_kill_switch_reset": {"ts_event_ns": 5, "reason": "earlier reset", "operator": "ops"}}]
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

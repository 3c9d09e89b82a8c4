"""The universal settings routes without Kafka or PostgreSQL (a stub settings topic): anyone reads the versions with
their state, only an admin publishes, every problem of a change is a 400 naming its field, and nothing reaches the
topic until the change is valid; the pure checks of a change by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.settings import ApiSettings
from api.universal_settings import change_of, effective_ns, template, versions_view
from api.users import Role, User
from processors.model import SettingsChanged
from processors.settings import SettingsHistory

from .conftest import StubFeedWatcher

NOW = 1_790_000_000_000_000_000
HOUR = 3600 * 10**9
TOKENS = {"tsk_admin": User(1, "ada", Role.ADMIN), "tsk_trader": User(2, "tom", Role.TRADER),
          "tsk_viewer": User(3, "vic", Role.VIEWER)}
SETTINGS = {"capital": "250000", "regular_close": "16:00", "extra_half_days": ["2026-12-31"]}


class Authenticator:
    async def by_token(self, token: str) -> User | None:
        return TOKENS.get(token)

    async def by_session(self, session: str) -> tuple[User, str] | None:
        return None


class StubVersions:
    """The settings topic in memory: its changes, and what was published."""

    def __init__(self, changes: list[SettingsChanged] | None = None) -> None:
        self.changes_on_topic = list(changes or [])
        self.published: list[SettingsChanged] = []
        self.lock = asyncio.Lock()

    def changes(self) -> list[SettingsChanged]:
        return list(self.changes_on_topic)

    def publish(self, change: SettingsChanged) -> bool:
        self.published.append(change)
        return True


def version(number: int, effective: int, reason: str = "r", capital: str = "100000") -> SettingsChanged:
    return SettingsChanged(version=number, ts_event=effective, ts_init=effective - 5, reason=reason, operator="ops",
                           settings=json.dumps({"capital": capital}))


@pytest.fixture
def topic() -> StubVersions:
    return StubVersions([version(1, NOW - 2 * HOUR, "first"), version(2, 4_000_000_000_000_000_000, "later")])


@pytest.fixture
def client(offline_settings: ApiSettings, topic: StubVersions) -> Iterator[TestClient]:
    app = create_app(offline_settings, feed_watcher=StubFeedWatcher(), authenticator=Authenticator(),
                     settings_versions=topic)
    with TestClient(app=app) as client:
        yield client


def as_(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anyone_reads_the_versions_newest_first_with_their_state(client: TestClient) -> None:
    answer = client.get("/api/settings", headers=as_("tsk_viewer"))
    assert answer.status_code == 200
    body = answer.json()
    assert [(v["version"], v["state"], v["reason"]) for v in body["versions"]] == [
        (2, "scheduled", "later"), (1, "in force", "first")]
    assert body["versions"][1]["settings"]["capital"] == "100000"
    assert body["versions"][1]["made_ns"] == NOW - 2 * HOUR - 5
    assert body["may_edit"] is False
    assert client.get("/api/settings", headers=as_("tsk_admin")).json()["may_edit"] is True
    assert client.get("/api/settings").status_code == 401


def test_only_an_admin_publishes(client: TestClient, topic: StubVersions) -> None:
    for token in ("tsk_viewer", "tsk_trader"):
        refused = client.put("/api/settings", json={"reason": "x", "settings": SETTINGS}, headers=as_(token))
        assert refused.status_code == 403
    assert topic.published == []


def test_every_problem_of_a_change_is_named_and_nothing_is_published(client: TestClient, topic: StubVersions) -> None:
    bad = {"settings": {"capital": -5, "regular_open": "25:00", "extra_closed_dates": ["2026-12-26"], "colour": 1},
           "effective_at": "2026-07-01T09:30:00", "extra": True}
    answer = client.put("/api/settings", json=bad, headers=as_("tsk_admin"))
    assert answer.status_code == 400
    fields = {e["field"] for e in answer.json()["errors"]}
    assert {"reason", "extra", "settings.capital", "settings.regular_open", "settings.extra_closed_dates[0]",
            "effective_at"} <= fields
    assert any(f.startswith("settings.colour") or f == "settings" for f in fields)
    assert client.put("/api/settings", json={"reason": "r"}, headers=as_("tsk_admin")).json()["errors"] == [
        {"field": "settings", "message": "required: the settings, in the settings file's shape"}]
    assert topic.published == []


def test_a_change_before_the_newest_versions_instant_is_refused_on_effective_at(client: TestClient,
                                                                                  topic: StubVersions) -> None:
    answer = client.put("/api/settings", json={"reason": "sooner", "settings": SETTINGS}, headers=as_("tsk_admin"))
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["field"] == "effective_at" and "version 2" in error["message"]
    assert topic.published == []


def test_the_checks_of_a_change_by_hand() -> None:
    history = SettingsHistory.of([version(1, NOW - HOUR)])
    errors, change = change_of({"reason": " holiday added ", "settings": SETTINGS}, history, NOW, "ada")
    assert errors == [] and change is not None
    assert (change.version, change.ts_event, change.ts_init, change.reason, change.operator) == (
        2, NOW, NOW, "holiday added", "ada")
    assert json.loads(change.settings)["extra_half_days"] == ["2026-12-31"]
    later = dt.datetime.fromtimestamp(NOW // 10**9 + 3600, dt.timezone.utc).isoformat()
    assert effective_ns(later, NOW) == ([], NOW + HOUR - NOW % 10**9)
    assert effective_ns(None, NOW) == ([], NOW)
    past = dt.datetime.fromtimestamp(NOW // 10**9 - 1, dt.timezone.utc).isoformat()
    assert effective_ns(past, NOW)[0][0]["field"] == "effective_at"
    assert effective_ns("tomorrow", NOW)[0][0]["field"] == "effective_at"


def test_the_view_of_the_versions_and_the_template() -> None:
    history = SettingsHistory.of([version(1, 10), version(2, 20), version(3, 30)])
    states = [(v["version"], v["state"]) for v in versions_view(history, {}, 25)]
    assert states == [(3, "scheduled"), (2, "in force"), (1, "superseded")]
    assert [v["state"] for v in versions_view(history, {}, 5)] == ["scheduled"] * 3
    assert template()["capital"] == "100000" and template()["regular_open"] == "09:30"

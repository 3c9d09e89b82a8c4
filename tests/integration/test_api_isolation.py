"""Two users of the API against the real PostgreSQL: neither reads, changes nor deletes the other's strategies
(scanners), signals (and what fired them), deals, accounts or their settings (read, changed) and kill switches through any route; a log-in gives a session whose cookies are HttpOnly and
SameSite=Strict (and Secure over TLS), whose changes need the CSRF token, and which the log-out ends; failed
log-ins are limited per user and per client address (429; sent at once: test_api_login_served.py); no password, hash, token or session value ever
appears in an answer's body or in a log line.

There is no websocket and no settings route yet: when they come, their routes join ROUTES below."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from litestar.testing import TestClient

from api.app import create_app
from api.auth import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from api.users import digest
from tests.users import PASSWORD_HASHES, ApiUser, FromAddress, make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 3, 12)


def scanner(name: str, **changes: object) -> dict:
    data = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    return data | {"name": name} | changes


@dataclasses.dataclass
class Desk:
    """Users A and B, each owning an account, a strategy with a scanner, a signal and a trade."""

    a: ApiUser
    b: ApiUser
    unique: str

    def strategy(self, user: ApiUser) -> str:
        return f"strat-{user.name}"

    def account(self, user: ApiUser) -> str:
        return f"acct-{user.name}"


def _store_signal_and_trade(conn: psycopg.Connection, user: ApiUser, desk: Desk) -> None:
    opened = int(dt.datetime(2026, 3, 12, 15, 0, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    conn.execute("insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, price, "
                 "reason) values (%s, %s, 'SPY', 'BUY', 'ENTRY', %s, 1, 2, 600, 'r')",
                 (f"sig-{user.name}", desk.strategy(user), dt.datetime(2026, 3, 12, 15, tzinfo=dt.timezone.utc)))
    conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, symbol, "
                 "direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, initial_stop, "
                 "stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns) values (%s, 1, 'OPENED', %s, %s, "
                 "'intraday', 'long', 'SPY', 'LONG', 'Running', %s, %s, 10, 0, 600, 590, 590, 0, 1, -1, -0.01, %s)",
                 (f"trade-{user.name}", desk.account(user), desk.strategy(user), opened, opened, opened))


@pytest.fixture
def desk(settings: Settings, unique: str) -> Desk:
    names = [f"a-{unique}", f"b-{unique}"]
    a, b = (make_user(settings.database_url, name, accounts=[f"acct-{name}"], strategies=[f"strat-{name}"],
                      password=f"the password of {name}") for name in names)
    made = Desk(a, b, unique)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for user in (a, b):
            _store_signal_and_trade(conn, user, made)
    return made


class Published:
    """Stands in for the accounts topic: keeps what would have been published."""

    def __init__(self) -> None:
        self.changes: list[object] = []

    def publish(self, change: object) -> bool:
        self.changes.append(change)
        return True


@pytest.fixture
def published() -> Published:
    return Published()


@pytest.fixture
def client(settings: Settings, unique: str, published: Published) -> Iterator[TestClient]:
    # A client address of its own, so that other tests' failed log-ins do not count against this one's.
    app = create_app(api_settings(settings), account_changes=published)
    with TestClient(app=FromAddress(app, f"10.0.{unique[:4]}")) as c:
        yield c


def test_a_user_neither_reads_nor_changes_nor_deletes_anothers(settings: Settings, desk: Desk, client: TestClient,
                                                               published: Published) -> None:
    a, b = desk.a, desk.b
    theirs, mine = desk.strategy(a), desk.strategy(b)
    assert client.post("/api/scanners", json=scanner(theirs), headers=a.headers).status_code == 201
    assert client.post("/api/scanners", json=scanner(mine), headers=b.headers).status_code == 201

    # Strategies: listed, read, replaced, deleted, created again under the same name.
    assert [s["name"] for s in client.get("/api/scanners", headers=b.headers).json()] == [mine]
    assert client.get(f"/api/scanners/{theirs}", headers=b.headers).status_code == 404
    changed = scanner(theirs, max_signals_per_day=1, max_signals_per_symbol=1)
    assert client.put(f"/api/scanners/{theirs}", json=changed, headers=b.headers).status_code == 404
    assert client.delete(f"/api/scanners/{theirs}", headers=b.headers).status_code == 404
    assert client.put(f"/api/scanners/{theirs}/enabled", json={"enabled": False}, headers=b.headers).status_code == 404
    taken = client.post("/api/scanners", json=changed, headers=b.headers)
    assert taken.status_code == 409 and "taken" in taken.json()["detail"]
    kept = client.get(f"/api/scanners/{theirs}", headers=a.headers).json()
    assert kept["enabled"] is True
    assert kept["version"] == 1 and kept["config"] == client.post("/api/scanners/validate", json=scanner(theirs),
                                                                  headers=a.headers).json()["config"]

    # Signals: only those of the caller's strategies, even when another's is asked for by name.
    assert [s["strategy"] for s in client.get("/api/signals", headers=b.headers).json()] == [mine]
    assert client.get("/api/signals", params={"strategy": theirs}, headers=b.headers).json() == []
    # Why did this happen: what fired another's signal or trade is not found, as a missing one.
    for path in (f"/api/signals/sig-{a.name}/why", f"/api/trades/trade-{a.name}/why"):
        assert client.get(path, headers=a.headers).status_code == 200
        assert client.get(path, headers=b.headers).status_code == 404

    # Deals: only the trades of the caller's accounts.
    query = {"from": DAY.isoformat(), "to": DAY.isoformat()}
    assert [d["strategy"] for d in client.get("/api/deals", params=query, headers=b.headers).json()] == [mine]
    assert client.get("/api/deals", params=query | {"account": desk.account(a)}, headers=b.headers).json() == []
    assert client.get("/api/deals", params=query | {"strategy": theirs}, headers=b.headers).json() == []
    csv_text = client.get("/api/deals", params=query | {"format": "csv"}, headers=b.headers).text
    assert mine in csv_text and theirs not in csv_text
    assert [d["strategy"] for d in client.get("/api/deals", params=query, headers=a.headers).json()] == [theirs]

    # Accounts: listed only to their owner; another's kill switch is not theirs to trip or reset (404, nothing
    # published).
    assert [x["account_id"] for x in client.get("/api/accounts", headers=b.headers).json()] == [desk.account(b)]
    for action in ("trip", "reset"):
        assert client.post(f"/api/accounts/{desk.account(a)}/kill-switch/{action}", json={"reason": "mine now"},
                           headers=b.headers).status_code == 404
    # Settings: another's account's are neither read nor changed (404, nothing published).
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("insert into account_changes (account_id, ts_event_ns, kind, ts_init_ns, reason, operator, "
                     "settings) values (%s, 1, 'SETTINGS_CHANGED', 1, 'r', 'ops', '{}')", (desk.account(a),))
    assert client.get(f"/api/accounts/{desk.account(a)}/settings", headers=a.headers).status_code == 200
    assert client.get(f"/api/accounts/{desk.account(a)}/settings", headers=b.headers).status_code == 404
    settings_file = yaml.safe_load((ROOT / "examples/accounts/paper.yaml").read_text())
    body = {"reason": "mine now", "settings": json.loads(json.dumps(settings_file, default=str)) |
            {"account_id": desk.account(a)}}
    assert client.put(f"/api/accounts/{desk.account(a)}/settings", json=body, headers=b.headers).status_code == 404
    assert published.changes == []

    # Their own still works for each.
    assert client.delete(f"/api/scanners/{mine}", headers=b.headers).status_code == 204
    assert client.delete(f"/api/scanners/{theirs}", headers=a.headers).status_code == 204


def test_log_in_session_csrf_and_log_out(desk: Desk, client: TestClient) -> None:
    a = desk.a
    wrong = client.post("/api/auth/login", json={"name": a.name, "password": "not it at all"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "the name or the password is wrong"
    nobody = client.post("/api/auth/login", json={"name": f"nobody-{desk.unique}", "password": "not it at all"})
    assert nobody.status_code == 401 and nobody.json() == wrong.json()  # the same answer: no name is revealed
    bad = client.post("/api/auth/login", json={"name": a.name})
    assert bad.status_code == 400 and bad.json()["errors"] == [{"field": "password", "message": "required"}]

    response = client.post("/api/auth/login", json={"name": a.name, "password": a.password})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == a.name and body["role"] == "trader"
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    assert "httponly" in cookies[SESSION_COOKIE] and "samesite=strict" in cookies[SESSION_COOKIE]
    assert "secure" not in cookies[SESSION_COOKIE]  # plain HTTP here
    assert "httponly" not in cookies[CSRF_COOKIE] and "samesite=strict" in cookies[CSRF_COOKIE]
    assert client.cookies[CSRF_COOKIE] == body["csrf_token"]

    assert client.get("/api/auth/me").json() == {"name": a.name, "role": "trader", "via": "session"}
    assert [s["name"] for s in client.get("/api/scanners").json()] == []
    assert client.post("/api/scanners", json=scanner(desk.strategy(a))).status_code == 403  # no CSRF token
    created = client.post("/api/scanners", json=scanner(desk.strategy(a)), headers={CSRF_HEADER: body["csrf_token"]})
    assert created.status_code == 201

    assert client.post("/api/auth/logout").status_code == 403  # a change too: it needs the CSRF token
    assert client.post("/api/auth/logout", headers={CSRF_HEADER: body["csrf_token"]}).status_code == 204
    assert SESSION_COOKIE not in client.cookies
    client.cookies.set(SESSION_COOKIE, response.cookies[SESSION_COOKIE])  # the old value, replayed
    assert client.get("/api/auth/me").status_code == 401


def test_the_session_cookie_is_secure_over_tls(settings: Settings, desk: Desk) -> None:
    app = FromAddress(create_app(api_settings(settings)), f"10.1.{desk.unique[:4]}")
    with TestClient(app=app, base_url="https://dashboard.example") as tls:
        response = tls.post("/api/auth/login", json={"name": desk.a.name, "password": desk.a.password})
    assert response.status_code == 200
    assert all("secure" in cookie.lower() for cookie in response.headers.get_list("set-cookie"))


def test_failed_log_ins_are_limited_per_user_and_per_client(settings: Settings, desk: Desk) -> None:
    limited = dataclasses.replace(api_settings(settings), login_failures_per_user=3, login_failures_per_client=5)
    a, b = desk.a, desk.b
    with TestClient(app=FromAddress(create_app(limited), f"10.2.{desk.unique[:4]}")) as client:
        for _ in range(3):
            assert client.post("/api/auth/login", json={"name": a.name, "password": "guess guess"}).status_code == 401
        refused = client.post("/api/auth/login", json={"name": a.name, "password": a.password})
        assert refused.status_code == 429 and "for this user" in refused.json()["detail"]
        assert 1 <= int(refused.headers["retry-after"]) <= 300
        # Another user from the same address: two more failures reach the address's limit of 5.
        assert client.post("/api/auth/login", json={"name": b.name, "password": b.password}).status_code == 200
        for _ in range(2):
            assert client.post("/api/auth/login", json={"name": b.name, "password": "guess guess"}).status_code == 401
        by_client = client.post("/api/auth/login", json={"name": b.name, "password": b.password})
        assert by_client.status_code == 429 and "for this client address" in by_client.json()["detail"]
    with TestClient(app=FromAddress(create_app(limited), f"10.3.{desk.unique[:4]}")) as elsewhere:
        # B from another address: B's own failures (2) are under the user limit.
        assert elsewhere.post("/api/auth/login", json={"name": b.name, "password": b.password}).status_code == 200


def test_no_secret_in_any_answer_or_log_line(settings: Settings, desk: Desk, client: TestClient,
                                             caplog: pytest.LogCaptureFixture) -> None:
    a = desk.a
    answers: list[str] = []
    with caplog.at_level(logging.DEBUG):
        answers.append(client.post("/api/auth/login", json={"name": a.name, "password": a.password + "x"}).text)
        answers.append(client.post("/api/auth/login", json={"name": a.password, "password": a.password}).text)
        login = client.post("/api/auth/login", json={"name": a.name, "password": a.password})
        session = login.cookies[SESSION_COOKIE]
        answers.append(login.text)
        csrf = {CSRF_HEADER: login.json()["csrf_token"]}
        for path in ("/api/auth/me", "/api/scanners", "/api/signals", "/api/metrics/latency", "/api/health",
                     f"/api/deals?from={DAY}&to={DAY}", "/schema/openapi.json", "/"):
            answers.append(client.get(path).text)
            answers.append(client.get(path, headers=a.headers).text)
        answers.append(client.post("/api/scanners", json=scanner(desk.strategy(a)), headers=csrf).text)
        answers.append(client.get("/api/auth/me", headers={"Authorization": f"Bearer {a.token}x"}).text)
        answers.append(client.post("/api/auth/logout", headers=csrf).text)
        answers.append(client.get("/api/auth/me").text)
    with psycopg.connect(settings.database_url) as conn:
        (password_hash,) = conn.execute("select password_hash from users where name = %s", (a.name,)).fetchone()
    secrets = {"password": a.password, "password hash": password_hash, "token": a.token,
               "token hash": digest(a.token), "session": session, "session hash": digest(session)}
    assert password_hash == PASSWORD_HASHES[a.password]
    lines = [record.getMessage() + (record.exc_text or "") for record in caplog.records]
    assert any(a.name in line for line in lines)  # the log-ins were logged, by name
    for what, secret in secrets.items():
        assert not [text for text in answers if secret in text], f"the {what} is in an answer"
        assert not [line for line in lines if secret in line], f"the {what} is in a log line"
    assert not [text for text in answers if "$argon2" in text]



def test_a_session_ends_when_it_expires(settings: Settings, desk: Desk, client: TestClient) -> None:
    login = client.post("/api/auth/login", json={"name": desk.b.name, "password": desk.b.password})
    assert login.status_code == 200 and client.get("/api/auth/me").status_code == 200
    session = login.cookies[SESSION_COOKIE]
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        (expires,) = conn.execute("select expires_at - created_at from sessions where session_hash = %s",
                                  (digest(session),)).fetchone()
        assert expires == dt.timedelta(hours=12)  # API_SESSION_HOURS
        conn.execute("update sessions set expires_at = now() where session_hash = %s", (digest(session),))
    ended = client.get("/api/auth/me")
    assert ended.status_code == 401 and "log in again" in ended.json()["detail"]

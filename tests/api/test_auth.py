"""Who may call what, with the callers looked up by a stub (no database): a route that shows a user's data needs
an API token or a session; a session's change needs its CSRF token; a viewer only reads; the public routes
need nothing. Passwords and secrets: argon2id hashes, SHA-256 of tokens, checks of names and passwords."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.auth import CSRF_HEADER, SESSION_COOKIE
from api.login import field_errors
from api.settings import ApiSettings
from api.users import Role, User, UserError, check_name, check_password, digest, hash_password, verify_password

from .conftest import TOKEN, TRADER, StubAuthenticator, StubFeedWatcher, equity_scanner

VIEWER_TOKEN = "tsk_a-viewer's-token"
VIEWER = User(2, "offline-viewer", Role.VIEWER)
SESSION = "a-session-value"
CSRF = "the-session's-csrf-token"


class Sessions(StubAuthenticator):
    """TOKEN (a trader), VIEWER_TOKEN (a viewer), and one session of the trader with its CSRF token."""

    async def by_token(self, token: str) -> User | None:
        return VIEWER if token == VIEWER_TOKEN else await super().by_token(token)

    async def by_session(self, session: str) -> tuple[User, str] | None:
        return (TRADER, digest(CSRF)) if session == SESSION else None


@pytest.fixture
def client(offline_settings: ApiSettings) -> Iterator[TestClient]:
    with TestClient(app=create_app(offline_settings, feed_watcher=StubFeedWatcher(), authenticator=Sessions())) as c:
        yield c


@pytest.mark.parametrize("path", ["/api/scanners", "/api/scanners/x", "/api/signals", "/api/metrics/latency",
                                  "/api/correlation?symbols=A,B", "/api/deals?from=2026-01-02&to=2026-01-02",
                                  "/api/auth/me"])
def test_data_routes_need_a_caller(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401 and "log in first" in response.json()["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("header", "detail"), [
    ("Basic dXNlcjpwYXNz", "must be 'Bearer <API token>'"),
    ("Bearer", "must be 'Bearer <API token>'"),
    ("Bearer tsk_\x7f", "must be 'Bearer <API token>'"),
    ("Bearer tsk_unknown", "unknown or revoked"),
])
def test_a_bad_or_unknown_token_is_a_401_saying_which(client: TestClient, header: str, detail: str) -> None:
    response = client.get("/api/auth/me", headers={"Authorization": header})
    assert response.status_code == 401 and detail in response.json()["detail"]


def test_the_public_routes_need_nobody(client: TestClient) -> None:
    for path in ("/", "/index.html", "/api/health/live", "/metrics", "/schema/openapi.json"):
        assert client.get(path).status_code == 200, path
    # The log-in is public (it answers 400 for a body without a name before it would need the database).
    assert client.post("/api/auth/login", json={"password": "x"}).status_code == 400


def test_a_token_names_its_user(client: TestClient) -> None:
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {TOKEN}"})
    assert me.json() == {"name": "offline-trader", "role": "trader", "via": "token"}


def test_a_session_change_needs_its_csrf_token(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, SESSION)
    assert client.get("/api/auth/me").json() == {"name": "offline-trader", "role": "trader", "via": "session"}
    body = equity_scanner()
    missing = client.post("/api/scanners/validate", json=body)
    assert missing.status_code == 403 and CSRF_HEADER in missing.json()["detail"]
    wrong = client.post("/api/scanners/validate", json=body, headers={CSRF_HEADER: CSRF + "x"})
    assert wrong.status_code == 403
    right = client.post("/api/scanners/validate", json=body, headers={CSRF_HEADER: CSRF})
    assert right.status_code == 200 and right.json()["valid"] is True
    # A token needs none: a browser never sends the Authorization header by itself.
    client.cookies.clear()
    assert client.post("/api/scanners/validate", json=body, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_an_unknown_session_is_a_401(client: TestClient) -> None:
    client.cookies.set(SESSION_COOKIE, "ended")
    response = client.get("/api/auth/me")
    assert response.status_code == 401 and "log in again" in response.json()["detail"]


def test_a_viewer_reads_and_validates_but_does_not_change(client: TestClient) -> None:
    headers = {"Authorization": f"Bearer {VIEWER_TOKEN}"}
    assert client.post("/api/scanners/validate", json=equity_scanner(), headers=headers).status_code == 200
    for method, path in (("POST", "/api/scanners"), ("PUT", "/api/scanners/SPY breakout"),
                         ("DELETE", "/api/scanners/SPY breakout")):
        response = client.request(method, path, json=equity_scanner() if method != "DELETE" else None, headers=headers)
        assert response.status_code == 403, (method, response.text)
        assert "viewer role" in response.json()["detail"]


def test_logout_with_a_token_is_a_400(client: TestClient) -> None:
    response = client.post("/api/auth/logout", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400 and "no session to end" in response.json()["detail"]


def test_log_in_field_errors() -> None:
    assert field_errors({"name": "alice", "password": "secret"}) == []
    errors = {e["field"]: e["message"] for e in field_errors({"name": 3, "colour": "red", "password": "x" * 1025})}
    assert errors == {"name": "must be a string", "colour": "unknown field; a log-in has name and password",
                      "password": "must be 1 to 1024 characters"}
    assert field_errors({"name": "a\x00", "password": ""}) == [
        {"field": "name", "message": "must not hold a NUL character"},
        {"field": "password", "message": "must be 1 to 1024 characters"}]


def test_passwords_are_argon2id_hashes_checked_in_constant_work() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$") and "correct horse" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "correct horse battery!")
    assert not verify_password(None, "correct horse battery")  # no such user: a stand-in hash is checked
    assert not verify_password("not a hash", "x")
    assert hash_password("correct horse battery") != hashed  # salted


def test_names_and_passwords_are_checked() -> None:
    assert check_name("alice.b-2@desk") == "alice.b-2@desk"
    for bad in ("", "-alice", "a b", "x" * 65, "é"):
        with pytest.raises(UserError) as caught:
            check_name(bad)
        assert caught.value.field == "name"
    for bad in ("short", "x" * 1025, "long enough\x00"):
        with pytest.raises(UserError) as caught:
            check_password(bad)
        assert caught.value.field == "password"


def test_a_token_is_kept_as_its_sha256() -> None:
    # SHA-256 of "abc" (FIPS 180-2, appendix B.1).
    assert digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_the_openapi_document_says_which_operations_need_a_caller(client: TestClient) -> None:
    document = client.get("/schema/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"api_token", "session"}
    assert document["components"]["securitySchemes"]["api_token"] == {
        "type": "http", "scheme": "bearer", "description": "an API token of `tradestream users token NAME`"}
    secured = {f"{method.upper()} {path}" for path, item in document["paths"].items()
               for method, operation in item.items() if operation.get("security")}
    public = {f"{method.upper()} {path}" for path, item in document["paths"].items()
              for method, operation in item.items() if not operation.get("security")}
    assert {"GET /api/scanners", "POST /api/scanners", "GET /api/signals", "GET /api/deals", "GET /api/accounts",
            "GET /api/metrics/latency", "GET /api/auth/me", "POST /api/auth/logout"} <= secured
    assert public == {"GET /api/health", "GET /api/health/live", "GET /api/health/ready", "GET /metrics",
                      "POST /api/auth/login"}
    # What the document says is what the middleware does.
    for operation in sorted(secured):
        method, path = operation.split(" ", 1)
        answer = client.request(method, path.replace("{name}", "x").replace("{account_id}", "x"))
        assert answer.status_code == 401, operation


def test_pages_forbid_other_origins_and_framing(client: TestClient) -> None:
    for path in ("/", "/app.js", "/app.css"):
        response = client.get(path)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"

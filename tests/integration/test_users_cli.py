"""`tradestream users` against the real PostgreSQL: a user added with the password from the environment (never
an argument), an API token printed once and kept as its hash, ownership granted once, every change recorded
with who and when; mistakes are messages, not tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from api.users import digest, verify_password
from tests.users import FromAddress
from tradestream.config import Settings

pytestmark = pytest.mark.integration
PASSWORD = "a long enough password"


def users(*args: str, password: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TRADESTREAM_NEW_PASSWORD"}
    if password is not None:
        env["TRADESTREAM_NEW_PASSWORD"] = password
    return subprocess.run([sys.executable, "-m", "tradestream.cli", "users", *args], capture_output=True, text=True,
                          timeout=120, env=env, stdin=subprocess.DEVNULL)


def test_add_token_grant_and_list(settings: Settings, unique: str) -> None:
    name, other = f"admin-{unique}", f"viewer-{unique}"
    added = users("add", "--admin", name, password=PASSWORD)
    assert added.returncode == 0, added.stderr
    assert f"user {name} added with the admin role" in added.stderr and PASSWORD not in added.stderr + added.stdout
    assert users("add", "--role", "viewer", other, password=PASSWORD).returncode == 0

    token = users("token", name)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("tsk_") and len(secret) > 40
    granted = users("grant", name, "--account", f"acct-{unique}", "--strategy", f"strat-{unique}")
    assert granted.returncode == 0, granted.stderr
    taken = users("grant", other, "--account", f"acct-{unique}")
    assert taken.returncode == 2 and f"account 'acct-{unique}' belongs to another user" in taken.stderr

    listed = [json.loads(line) for line in users("list").stdout.splitlines()]
    (mine,) = [entry for entry in listed if entry["name"] == name]
    assert mine["role"] == "admin" and mine["tokens"] == 1
    assert mine["owns"] == [f"account:acct-{unique}", f"strategy:strat-{unique}"]
    assert "$argon2id$" not in users("list").stdout

    with psycopg.connect(settings.database_url) as conn:
        (stored,) = conn.execute("select password_hash from users where name = %s", (name,)).fetchone()
        token_rows = conn.execute("select token_hash from api_tokens t join users u using (user_id) where u.name = %s",
                                  (name,)).fetchall()
        changes = conn.execute("select actor, action, detail from user_changes where subject = %s order by change_id",
                               (name,)).fetchall()
    assert stored.startswith("$argon2id$") and verify_password(stored, PASSWORD)
    assert token_rows == [(digest(secret),)]  # only the hash is kept
    assert [action for _, action, _ in changes] == ["user_added", "token_issued", "ownership_granted",
                                                    "ownership_granted"]
    assert all(actor.startswith("cli:") for actor, _, _ in changes)
    assert changes[0][2] == {"role": "admin"}

    revoked = users("revoke", name)
    assert revoked.returncode == 0 and "1 API token(s)" in revoked.stderr


def test_mistakes_are_messages(unique: str) -> None:
    no_terminal = users("add", f"u-{unique}")
    assert no_terminal.returncode == 2 and "set TRADESTREAM_NEW_PASSWORD" in no_terminal.stderr
    short = users("add", f"u-{unique}", password="short")
    assert short.returncode == 2 and "a password is 10 to 1024 characters" in short.stderr
    bad_name = users("add", "-x y", password=PASSWORD)
    assert bad_name.returncode == 2 and "a user name is 1-64 letters" in bad_name.stderr
    assert users("add", f"u-{unique}", password=PASSWORD).returncode == 0
    again = users("add", f"u-{unique}", password=PASSWORD)
    assert again.returncode == 2 and f"a user named 'u-{unique}' exists" in again.stderr
    missing = users("token", f"nobody-{unique}")
    assert missing.returncode == 2 and "no user named" in missing.stderr
    for done in (no_terminal, short, bad_name, again, missing):
        assert "Traceback" not in done.stderr


def test_role_password_and_disable_take_effect_at_the_next_request(settings: Settings, unique: str) -> None:
    from litestar.testing import TestClient

    from api.app import create_app
    from tradestream.commands.api import api_settings

    name = f"changed-{unique}"
    assert users("add", name, password=PASSWORD).returncode == 0
    token = users("token", name).stdout.strip()
    bearer = {"Authorization": f"Bearer {token}"}
    body = {"name": f"scan-{unique}"}  # invalid as a scanner: a trader gets 400, a viewer 403 before validation
    with TestClient(app=FromAddress(create_app(api_settings(settings)), f"10.5.{unique[:4]}")) as client:
        assert client.post("/api/scanners", json=body, headers=bearer).status_code == 400
        assert users("role", name, "viewer").returncode == 0
        assert client.post("/api/scanners", json=body, headers=bearer).status_code == 403
        assert client.get("/api/auth/me", headers=bearer).json()["role"] == "viewer"

        assert client.post("/api/auth/login", json={"name": name, "password": PASSWORD}).status_code == 200
        assert client.get("/api/auth/me").status_code == 200  # the session
        assert users("password", name, password=PASSWORD + " changed").returncode == 0
        assert client.get("/api/auth/me").status_code == 401  # the session ended with the old password
        assert client.post("/api/auth/login", json={"name": name, "password": PASSWORD}).status_code == 401
        assert client.post("/api/auth/login", json={"name": name, "password": PASSWORD + " changed"}).status_code == 200

        disabled = users("disable", name)
        assert disabled.returncode == 0, disabled.stderr
        assert client.get("/api/auth/me").status_code == 401
        assert client.get("/api/auth/me", headers=bearer).status_code == 401
        assert client.post("/api/auth/login", json={"name": name, "password": PASSWORD + " changed"}).status_code == 401
    with psycopg.connect(settings.database_url) as conn:
        actions = [row[0] for row in conn.execute("select action from user_changes where subject = %s order by "
                                                  "change_id", (name,)).fetchall()]
    assert actions == ["user_added", "token_issued", "role_changed", "logged_in", "password_changed", "logged_in",
                       "user_disabled"]

"""Users for tests of the API: created straight in PostgreSQL (sql/010_users.sql) with a password, an API token
and what they own, as `tradestream users add|token|grant` would make them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import psycopg

from api.users import digest, hash_password, new_secret

PASSWORD_HASHES: dict[str, str] = {}
"""One argon2id hash per password the tests use (a hash costs about 50 ms of CPU)."""


@dataclass(frozen=True, slots=True)
class ApiUser:
    user_id: int
    name: str
    role: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_user(database_url: str, name: str, role: str = "trader", accounts: Iterable[str] = (),
              strategies: Iterable[str] = (), password: str = "a test password, long enough") -> ApiUser:
    """A new user of `role` owning `accounts` and `strategies`, with one API token."""
    if password not in PASSWORD_HASHES:
        PASSWORD_HASHES[password] = hash_password(password)
    token = new_secret("tsk_")
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        (user_id,) = conn.execute("insert into users (name, role, password_hash) values (%s, %s, %s) returning user_id",
                                  (name, role, PASSWORD_HASHES[password])).fetchone()
        conn.execute("insert into api_tokens (token_hash, user_id) values (%s, %s)", (digest(token), user_id))
        for kind, ids in (("account", accounts), ("strategy", strategies)):
            for resource_id in ids:
                conn.execute("insert into ownerships (kind, resource_id, user_id) values (%s, %s, %s)",
                             (kind, resource_id, user_id))
    return ApiUser(user_id, name, role, password, token)


class FromAddress:
    """The app as reached from another client address (the test client's is always "testclient"): a test that
    logs in counts its failed log-ins against an address of its own, not the one every other test shares."""

    def __init__(self, app, host: str) -> None:  # noqa: ANN001 - an ASGI app
        self.app, self.host = app, host

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001 - ASGI
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (self.host, 40000)}
        await self.app(scope, receive, send)

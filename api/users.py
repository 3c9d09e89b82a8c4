"""Users of the API and the dashboard, over PostgreSQL (sql/010_users.sql): roles, passwords, API tokens,
what each user owns, and the record of every change of them (`user_changes`: who, when, what).

    viewer   reads what they own
    trader   reads and changes what they own (strategies, and what later routes add)
    admin    a trader who also manages users (`tradestream users ...`)

A user sees and changes only the accounts and strategies they own (`ownerships`, one owner each): a trade
belongs to its account's owner, a signal to its strategy's. A strategy created through the API is its
creator's; an account is given to a user with `tradestream users grant`.

Secrets are never stored or logged as they are:
- a password only as its argon2id hash (argon2-cffi's defaults: RFC 9106's second recommended parameter
  set, 64 MiB, 3 passes; about 50 ms a check on the development machine, so it runs off the event loop);
- an API token or a session's value is 256 random bits, shown once, kept as its SHA-256: a value that
  random cannot be found from a fast hash, and a request looks its caller up with one index read.

No web framework here: the `tradestream users` command uses it as the API does. Every function takes an
async connection; a change and its record are written in one transaction.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from psycopg import AsyncConnection
from psycopg.errors import UniqueViolation

from schemas.errors import TradestreamError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
TOKEN_PREFIX = "tsk_"
KINDS = ("account", "strategy")


class UserError(TradestreamError, ValueError):
    """A user, password, role or grant that cannot be used; `.field` names it. Fix it and try again."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Role(enum.StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def may_change(self) -> bool:
        """Whether the role changes what its user owns (a viewer only reads)."""
        return self is not Role.VIEWER


@dataclass(frozen=True, slots=True)
class User:
    user_id: int
    name: str
    role: Role


def check_name(name: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise UserError("name", "a user name is 1-64 letters, digits or . _ @ -, starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise UserError("password", f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if "\x00" in password:
        raise UserError("password", "a password may not hold a NUL character")
    return password


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with RFC 9106's low-memory recommended parameters


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of a checked password."""
    return _hasher().hash(check_password(password))


@cache
def _stand_in_hash() -> str:
    """Checked against when the user does not exist, so an unknown name costs as long as a wrong password."""
    return _hasher().hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one `password_hash` was made of (None: no such user; always False)."""
    try:
        _hasher().verify(password_hash or _stand_in_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def new_secret(prefix: str = "") -> str:
    """256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored of a token or session value: its SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


async def record(conn: AsyncConnection, actor: str, action: str, subject: str, **detail: object) -> None:
    """One change in `user_changes` (in the caller's transaction)."""
    await conn.execute("insert into user_changes (actor, action, subject, detail) values (%s, %s, %s, %s)",
                       (actor, action, subject, json.dumps(detail, default=str)))


async def add_user(conn: AsyncConnection, name: str, role: Role, password_hash: str, actor: str) -> User:
    """A new user; UserError when the name is taken."""
    check_name(name)
    try:
        async with conn.transaction():
            cursor = await conn.execute("insert into users (name, role, password_hash) values (%s, %s, %s) "
                                        "returning user_id", (name, role.value, password_hash))
            (user_id,) = await cursor.fetchone()
            await record(conn, actor, "user_added", name, role=role.value)
    except UniqueViolation:
        raise UserError("name", f"a user named {name!r} exists") from None
    return User(user_id, name, role)


async def find_user(conn: AsyncConnection, name: str) -> User | None:
    row = await (await conn.execute("select user_id, name, role from users where name = %s and disabled_at is null",
                                    (name,))).fetchone()
    return None if row is None else User(row[0], row[1], Role(row[2]))


async def credentials(conn: AsyncConnection, name: str) -> tuple[User, str] | None:
    """The enabled user of that name and their password hash."""
    row = await (await conn.execute("select user_id, name, role, password_hash from users where name = %s and "
                                    "disabled_at is null", (name,))).fetchone()
    return None if row is None else (User(row[0], row[1], Role(row[2])), row[3])


async def list_users(conn: AsyncConnection) -> list[dict[str, object]]:
    """Every user with their role, when they were added, live tokens and what they own (no hash)."""
    rows = await (await conn.execute("""
        select u.name, u.role, u.created_at, u.disabled_at,
               (select count(*) from api_tokens t where t.user_id = u.user_id and t.revoked_at is null),
               coalesce((select array_agg(o.kind || ':' || o.resource_id order by o.kind, o.resource_id)
                         from ownerships o where o.user_id = u.user_id), '{}')
        from users u order by u.name""")).fetchall()
    return [{"name": name, "role": role, "created_at": created.isoformat(), "disabled": disabled is not None,
             "tokens": tokens, "owns": list(owns)} for name, role, created, disabled, tokens, owns in rows]


async def issue_token(conn: AsyncConnection, name: str, actor: str) -> str:
    """A new API token of the user (shown once; only its hash is kept)."""
    user = await find_user(conn, name)
    if user is None:
        raise UserError("name", f"no user named {name!r} (`tradestream users list` shows them)")
    token = new_secret(TOKEN_PREFIX)
    async with conn.transaction():
        await conn.execute("insert into api_tokens (token_hash, user_id) values (%s, %s)", (digest(token), user.user_id))
        await record(conn, actor, "token_issued", name, token_sha256_prefix=digest(token)[:8])
    return token


async def revoke_tokens(conn: AsyncConnection, name: str, actor: str) -> int:
    """Revoke every live API token of the user; how many there were."""
    user = await find_user(conn, name)
    if user is None:
        raise UserError("name", f"no user named {name!r}")
    async with conn.transaction():
        count = (await conn.execute("update api_tokens set revoked_at = now() where user_id = %s and revoked_at is "
                                    "null", (user.user_id,))).rowcount
        await record(conn, actor, "tokens_revoked", name, count=count)
    return count


async def user_by_token(conn: AsyncConnection, token: str) -> User | None:
    row = await (await conn.execute(
        "select u.user_id, u.name, u.role from api_tokens t join users u using (user_id) where t.token_hash = %s "
        "and t.revoked_at is null and u.disabled_at is null", (digest(token),))).fetchone()
    return None if row is None else User(row[0], row[1], Role(row[2]))


async def set_role(conn: AsyncConnection, name: str, role: Role, actor: str) -> Role:
    """Give the user another role (in force from their next request); the role they had."""
    user = await find_user(conn, name)
    if user is None:
        raise UserError("name", f"no user named {name!r}")
    async with conn.transaction():
        await conn.execute("update users set role = %s where user_id = %s", (role.value, user.user_id))
        await record(conn, actor, "role_changed", name, role=role.value, previous=user.role.value)
    return user.role


async def set_password(conn: AsyncConnection, name: str, password_hash: str, actor: str) -> None:
    """Replace the user's password; their sessions end (their API tokens stay)."""
    user = await find_user(conn, name)
    if user is None:
        raise UserError("name", f"no user named {name!r}")
    async with conn.transaction():
        await conn.execute("update users set password_hash = %s where user_id = %s", (password_hash, user.user_id))
        ended = (await conn.execute("delete from sessions where user_id = %s", (user.user_id,))).rowcount
        await record(conn, actor, "password_changed", name, sessions_ended=ended)


async def disable_user(conn: AsyncConnection, name: str, actor: str) -> None:
    """Disable the user: no log-in, and their sessions and API tokens are refused from the next request on."""
    user = await find_user(conn, name)
    if user is None:
        raise UserError("name", f"no enabled user named {name!r}")
    async with conn.transaction():
        await conn.execute("update users set disabled_at = now() where user_id = %s", (user.user_id,))
        await conn.execute("delete from sessions where user_id = %s", (user.user_id,))
        await conn.execute("update api_tokens set revoked_at = now() where user_id = %s and revoked_at is null",
                           (user.user_id,))
        await record(conn, actor, "user_disabled", name)


async def grant(conn: AsyncConnection, name: str, kind: str, resource_id: str, actor: str) -> None:
    """Make the user the owner of an account or strategy; UserError when another user owns it."""
    if kind not in KINDS:
        raise UserError("kind", f"kind must be one of {', '.join(KINDS)}")
    if not resource_id or len(resource_id) > 200 or "\x00" in resource_id:
        raise UserError(kind, f"an {kind} id is 1-200 characters")
    user = await find_user(conn, name)
    if user is None:
        raise UserError("name", f"no user named {name!r}")
    async with conn.transaction():
        cursor = await conn.execute(
            "insert into ownerships (kind, resource_id, user_id) values (%s, %s, %s) on conflict (kind, resource_id) "
            "do update set user_id = excluded.user_id where ownerships.user_id = excluded.user_id returning user_id",
            (kind, resource_id, user.user_id))
        if await cursor.fetchone() is None:
            raise UserError(kind, f"{kind} {resource_id!r} belongs to another user")
        await record(conn, actor, "ownership_granted", name, kind=kind, resource_id=resource_id)


OWNED = "select resource_id from ownerships where kind = %s and user_id = %s"
"""The ids of what a user owns of a kind: `... in (OWNED)` with the parameters (kind, user_id)."""


async def open_session(conn: AsyncConnection, user: User, hours: float, client: str) -> tuple[str, str]:
    """A new log-in session: (its cookie value, its CSRF token), both shown once, kept as hashes."""
    session, csrf = new_secret(), new_secret()
    async with conn.transaction():
        await conn.execute("delete from sessions where expires_at < now()")
        # Expiry on the database's clock, the one every look-up compares it with.
        await conn.execute("insert into sessions (session_hash, user_id, csrf_hash, expires_at) values (%s, %s, %s, "
                           "now() + make_interval(secs => %s))", (digest(session), user.user_id, digest(csrf),
                                                                 hours * 3600))
        await record(conn, user.name, "logged_in", user.name, client=client)
    return session, csrf


async def session_user(conn: AsyncConnection, session: str) -> tuple[User, str] | None:
    """The user of a live session and the hash of its CSRF token."""
    row = await (await conn.execute(
        "select u.user_id, u.name, u.role, s.csrf_hash from sessions s join users u using (user_id) "
        "where s.session_hash = %s and s.expires_at > now() and u.disabled_at is null", (digest(session),))).fetchone()
    return None if row is None else (User(row[0], row[1], Role(row[2])), row[3])


async def close_session(conn: AsyncConnection, session: str, user: User) -> None:
    async with conn.transaction():
        await conn.execute("delete from sessions where session_hash = %s", (digest(session),))
        await record(conn, user.name, "logged_out", user.name)

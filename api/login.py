"""Log-in and log-out of the dashboard, and who the caller is.

    POST /api/auth/login   {"name": ..., "password": ...}: 200 with the user's name, role and CSRF token, and
                           the session cookie (HttpOnly, SameSite=Strict, Secure over TLS) and the CSRF cookie;
                           400 naming a missing or malformed field; 401 for a wrong name or password (the same
                           answer for both, after the same work); 429 with Retry-After when too many log-ins failed
    POST /api/auth/logout  ends the session (204) and clears its cookies
    GET  /api/auth/me      the caller's name and role, and how they proved who they are

The rate limit counts failed log-ins in PostgreSQL (`login_attempts`), so every API worker process shares it:
more than `login_failures_per_user` for one name, or `login_failures_per_client` from one client address,
within `login_window_s` refuse further log-ins of that name or from that address, with or without the right
password, until the oldest failure leaves the window. A refused log-in is not counted (an attacker cannot
lengthen the lock-out), and a successful one clears its name's failures. An admitted attempt is counted as a
failure before its password is checked, under transaction-scoped advisory locks on its name and its address,
so guesses sent at once are admitted one after the other and never more than the limit of them. Log lines name the user only when
the name is a user's (a password typed into the name field is not logged).
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.status_codes import (HTTP_400_BAD_REQUEST, HTTP_401_UNAUTHORIZED, HTTP_429_TOO_MANY_REQUESTS)
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.auth import CSRF_COOKIE, PUBLIC, SECURITY, SESSION_COOKIE, Caller
from api.database import POOL
from api.settings import ApiSettings
from api.users import MAX_PASSWORD, close_session, credentials, open_session, verify_password

log = logging.getLogger(__name__)

FIELDS = ("name", "password")

LIMITS = """
    select count(*) filter (where user_name = %(name)s),
           count(*) filter (where client = %(client)s),
           extract(epoch from min(ts) filter (where user_name = %(name)s) - now())::float8 + %(window)s,
           extract(epoch from min(ts) filter (where client = %(client)s) - now())::float8 + %(window)s
    from login_attempts
    where not succeeded and ts > now() - make_interval(secs => %(window)s)
      and (user_name = %(name)s or client = %(client)s)
"""


def field_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    """What is wrong with a log-in body, field by field."""
    errors = [{"field": key, "message": "unknown field; a log-in has name and password"}
              for key in data if key not in FIELDS]
    for key in FIELDS:
        value = data.get(key)
        if value is None:
            errors.append({"field": key, "message": "required"})
        elif not isinstance(value, str):
            errors.append({"field": key, "message": "must be a string"})
        elif not 1 <= len(value) <= (MAX_PASSWORD if key == "password" else 64):
            errors.append({"field": key, "message": f"must be 1 to {MAX_PASSWORD if key == 'password' else 64} "
                                                    "characters"})
        elif "\x00" in value:
            errors.append({"field": key, "message": "must not hold a NUL character"})
    return errors


async def refused_for(conn: AsyncConnection, name: str, client: str, settings: ApiSettings) -> tuple[str, int] | None:
    """(whose limit, seconds until a log-in may be tried again) when the limit refuses this log-in, else None."""
    row = await (await conn.execute(LIMITS, {"name": name, "client": client, "window": settings.login_window_s})).fetchone()
    by_user, by_client, user_wait, client_wait = row
    if by_user >= settings.login_failures_per_user:
        return "this user", max(1, math.ceil(user_wait or 1))
    if by_client >= settings.login_failures_per_client:
        return "this client address", max(1, math.ceil(client_wait or 1))
    return None


async def admit(conn: AsyncConnection, name: str, client: str, settings: ApiSettings) -> tuple[str, int] | None:
    """Count the attempt as a failure unless the limits refuse it: None when admitted, else what `refused_for`
    says. The name's and the address's advisory locks (always in that order) serialise concurrent attempts."""
    async with conn.transaction():
        await conn.execute("select pg_advisory_xact_lock(hashtextextended('login user ' || %s, 0)), "
                           "pg_advisory_xact_lock(hashtextextended('login client ' || %s, 0))", (name, client))
        await conn.execute("delete from login_attempts where ts < now() - make_interval(secs => %s)",
                           (settings.login_window_s,))
        refused = await refused_for(conn, name, client, settings)
        if refused is None:
            await conn.execute("insert into login_attempts (user_name, client, succeeded) values (%s, %s, false)",
                               (name, client))
    return refused


def _cookies(request: Request, session: str, csrf: str, max_age: int) -> list[Cookie]:
    secure = request.url.scheme == "https"
    return [Cookie(key=SESSION_COOKIE, value=session, max_age=max_age, path="/", httponly=True, samesite="strict",
                   secure=secure),
            Cookie(key=CSRF_COOKIE, value=csrf, max_age=max_age, path="/", httponly=False, samesite="strict",
                   secure=secure)]


def _error(status: int, detail: str, **extra: object) -> Response[dict[str, object]]:
    return Response({"status_code": status, "detail": detail, **extra}, status_code=status)


class AuthController(Controller):
    path = "/api/auth"

    @post("/login", opt=PUBLIC, status_code=200)
    async def login(self, request: Request, data: dict[str, Any], settings: ApiSettings,
                    pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Log in with a name and password: the session cookie and the CSRF token to send as X-CSRF-Token with
        each change. 400 names a bad field, 401 a wrong name or password, 429 too many failed log-ins
        (Retry-After)."""
        errors = field_errors(data)
        if errors:
            return _error(HTTP_400_BAD_REQUEST, "invalid log-in", errors=errors)
        name, password = data["name"], data["password"]
        client = request.client.host if request.client else "unknown"
        async with pool.connection() as conn:
            refused = await admit(conn, name, client, settings)
            found = None if refused else await credentials(conn, name)
        if refused:
            whose, wait_s = refused
            log.warning("login refused by the rate limit client=%s limit=%s retry_after_s=%d", client,
                        whose.replace(" ", "_"), wait_s)
            return Response({"status_code": 429, "detail": f"too many failed log-ins for {whose}; try again in "
                                                           f"{wait_s} s"},
                            status_code=HTTP_429_TOO_MANY_REQUESTS, headers={"Retry-After": str(wait_s)})
        valid = await asyncio.to_thread(verify_password, found[1] if found else None, password)
        if not valid or found is None:
            log.warning("login failed user=%s client=%s", found[0].name if found else "(no such user)", client)
            return _error(HTTP_401_UNAUTHORIZED, "the name or the password is wrong")
        user = found[0]
        async with pool.connection() as conn:
            # The attempt was counted as a failure when admitted: a success clears the name's failures.
            await conn.execute("delete from login_attempts where user_name = %s", (name,))
            session, csrf = await open_session(conn, user, settings.session_hours, client)
        log.info("login user=%s role=%s client=%s", user.name, user.role.value, client)
        return Response({"name": user.name, "role": user.role.value, "csrf_token": csrf},
                        cookies=_cookies(request, session, csrf, int(settings.session_hours * 3600)))

    @post("/logout", status_code=204, security=SECURITY)
    async def logout(self, caller: Caller, pool: AsyncConnectionPool = POOL) -> Response[None]:
        """End the caller's session and clear its cookies (204); 400 when the caller used an API token, which
        `tradestream users revoke` ends instead."""
        if caller.session is None:
            return _error(HTTP_400_BAD_REQUEST, "signed in with an API token: there is no session to end "
                                                "(`tradestream users revoke NAME` revokes tokens)")  # type: ignore[return-value]
        async with pool.connection() as conn:
            await close_session(conn, caller.session, caller.user)
        log.info("logout user=%s", caller.user.name)
        return Response(None, status_code=204,
                        cookies=[Cookie(key=name, value="", max_age=0, path="/", samesite="strict",
                                        httponly=name == SESSION_COOKIE) for name in (SESSION_COOKIE, CSRF_COOKIE)])

    @get("/me", security=SECURITY)
    async def me(self, caller: Caller) -> dict[str, object]:
        """The caller's name and role, and whether they came with a session or an API token."""
        return {"name": caller.user.name, "role": caller.user.role.value, "via": caller.via}

"""Who is calling: every route but the public ones (health probes, /metrics, the OpenAPI document, the static
pages and the log-in) needs a caller, found by the authentication middleware before the handler runs.

    Authorization: Bearer tsk_...      an API token for scripts (`tradestream users token NAME`)
    Cookie: tradestream_session=...    a dashboard log-in (`POST /api/auth/login`, `api.login`)

A session's state-changing request (POST, PUT, PATCH, DELETE) must also carry the session's CSRF token in
the `X-CSRF-Token` header: the log-in answers it and sets it in the `tradestream_csrf` cookie, which the page's
script (and only a page of this origin) can read. The session cookie is HttpOnly and SameSite=Strict, so a
script cannot read it and another site's page does not send it; the CSRF token is the second lock, checked
against its hash in the session. A request with an API token needs none: a browser never adds that header by
itself.

401 when there is no caller or the token/session is unknown, ended or revoked; 403 for a missing or wrong CSRF
token, or a viewer asking for a change. The handler gets the caller by dependency injection (`caller`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any, Protocol

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.datastructures import State
from litestar.openapi.spec import SecurityScheme
from psycopg_pool import AsyncConnectionPool

from api.users import User, digest, session_user, user_by_token

SESSION_COOKIE = "tradestream_session"
CSRF_COOKIE = "tradestream_csrf"
CSRF_HEADER = "X-CSRF-Token"
PUBLIC = {"exclude_from_auth": True}
"""`opt` of a handler or router anyone may call."""
SECURITY_SCHEMES = {
    "api_token": SecurityScheme(type="http", scheme="bearer",
                                description="an API token of `tradestream users token NAME`"),
    "session": SecurityScheme(type="apiKey", name=SESSION_COOKIE, security_scheme_in="cookie",
                              description="the dashboard's log-in (POST /api/auth/login); a change also needs "
                                          "the X-CSRF-Token header"),
}
SECURITY = [{"api_token": []}, {"session": []}]
"""`security` of the controllers and handlers that need a caller, as the OpenAPI document states it."""
PAGE_HEADERS = {
    # The pages load scripts, styles and data from this origin only, and no other site may frame them.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def page_headers(response: Response) -> Response:
    """after_request of the static pages: PAGE_HEADERS."""
    response.headers.update(PAGE_HEADERS)
    return response
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tradestream"'}


@dataclass(frozen=True, slots=True)
class Caller:
    """The user of a request, and how they proved it: "token" or "session" (with the session's cookie value)."""

    user: User
    via: str
    session: str | None = None


class Authenticator(Protocol):
    """Finds the user of an API token or a session value (the database's; tests give a stub)."""

    async def by_token(self, token: str) -> User | None: ...

    async def by_session(self, session: str) -> tuple[User, str] | None:
        """The user and the hash of the session's CSRF token."""
        ...


class DatabaseAuthenticator:
    """Looks tokens and sessions up in PostgreSQL through the app's pool (one index read each)."""

    def __init__(self, state: State) -> None:
        self._state = state

    async def by_token(self, token: str) -> User | None:
        pool: AsyncConnectionPool = self._state.pool
        async with pool.connection() as conn:
            return await user_by_token(conn, token)

    async def by_session(self, session: str) -> tuple[User, str] | None:
        pool: AsyncConnectionPool = self._state.pool
        async with pool.connection() as conn:
            return await session_user(conn, session)


def _well_formed(secret: str) -> bool:
    return 0 < len(secret) <= 200 and secret.isascii() and secret.isprintable()


class AuthenticationMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        if connection.scope["type"] != "websocket":
            return await self._authenticate(connection)
        # A websocket is refused with a close code saying why (4401: who are you, 4403: not from this origin)
        # before it is accepted: the browser sees the handshake fail.
        try:
            result = await self._authenticate(connection)
        except NotAuthorizedException as exc:
            raise WebSocketException(detail=exc.detail, code=4401) from None
        if result.user.via == "session" and not _same_origin(connection):
            raise WebSocketException(detail="a websocket with the session cookie must come from a page of this origin",
                                     code=4403)
        return result

    async def _authenticate(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        authenticator: Authenticator = connection.app.state.authenticator
        header = connection.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.strip().partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not _well_formed(token):
                raise NotAuthorizedException("the Authorization header must be 'Bearer <API token>'", headers=CHALLENGE)
            user = await authenticator.by_token(token)
            if user is None:
                raise NotAuthorizedException("the API token is unknown or revoked; `tradestream users token NAME` "
                                             "issues a new one", headers=CHALLENGE)
            return AuthenticationResult(user=Caller(user, "token"), auth=None)
        session = connection.cookies.get(SESSION_COOKIE)
        if not session:
            raise NotAuthorizedException("log in first (POST /api/auth/login), or send 'Authorization: Bearer <API "
                                         "token>'", headers=CHALLENGE)
        found = await authenticator.by_session(session) if _well_formed(session) else None
        if found is None:
            raise NotAuthorizedException("the session has ended or is unknown; log in again", headers=CHALLENGE)
        user, csrf_hash = found
        if connection.scope.get("method", "GET") not in SAFE_METHODS:  # a websocket has none: it changes nothing
            sent = connection.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(digest(sent), csrf_hash):
                raise PermissionDeniedException(f"a change made with a session needs the {CSRF_HEADER} header: the "
                                                f"value of the {CSRF_COOKIE} cookie the log-in set")
        return AuthenticationResult(user=Caller(user, "session", session), auth=None)


def _same_origin(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    """Whether the websocket's Origin names the host it was sent to (a browser always sends Origin with one)."""
    origin = connection.headers.get("origin")
    host = connection.headers.get("host")
    return origin is not None and host is not None and origin.partition("://")[2] == host


def provide_caller(request: Request[Caller, Any, Any]) -> Caller:
    return request.user


def may_change(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the routes that change something: a viewer may only read."""
    caller: Caller = connection.user
    if not caller.user.role.may_change:
        raise PermissionDeniedException(f"user {caller.user.name!r} has the viewer role, which only reads; an admin "
                                        "can give the trader role")

"""The API's PostgreSQL connection pool: opened in the app's lifespan, handed to handlers by DI.

A handler that declares `conn: AsyncConnection` gets a pooled connection for the request; the request's
transaction commits when the handler returns and rolls back when it raises. Handlers that must answer
even when the database is down (health, /metrics) declare `pool` instead and catch the failure.

The pool opens without waiting (`open(wait=False)`): a database that is down at start-up does not stop
the API; the pool keeps reconnecting in the background, and meanwhile a request that needs a connection
waits `database_wait_s` and answers 503 with what is down (`database_unavailable`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Callable

import psycopg
from litestar import Request, Response
from litestar.datastructures import State
from litestar.params import Dependency
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from api.settings import ApiSettings

log = logging.getLogger(__name__)


def new_pool(settings: ApiSettings) -> AsyncConnectionPool:
    """A closed pool for `settings`; the lifespan opens it (`await pool.open(wait=False)`) and closes it."""
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.database_wait_s,
        # A connection the server dropped (restart, idle kill) is replaced before a request gets it.
        check=AsyncConnectionPool.check_connection,
        kwargs={"connect_timeout": max(1, math.ceil(settings.database_wait_s)),
                "application_name": "tradestream-api"},
        name="tradestream-api",
        open=False,
    )


# The pool parameter of a handler. Not validated: the signature model cannot introspect the pool's generic
# class (its annotations name types imported only for type checkers).
POOL = Dependency(skip_validation=True)


async def provide_pool(state: State) -> AsyncConnectionPool:
    return state.pool


async def provide_connection(state: State) -> AsyncIterator[AsyncConnection]:
    """One pooled connection per request; commit on success, roll back when the handler raises."""
    pool: AsyncConnectionPool = state.pool
    async with pool.connection() as conn:
        yield conn


def unavailable_handler(
        settings: ApiSettings) -> Callable[[Request, psycopg.OperationalError], Response[dict[str, object]]]:
    """Map a database that cannot be reached (no pooled connection in time, connection lost) to 503."""

    def handle(request: Request, exc: psycopg.OperationalError) -> Response[dict[str, object]]:
        if isinstance(exc, PoolTimeout):
            reason = (f"no connection to PostgreSQL ({settings.database_url_redacted}) within "
                      f"{settings.database_wait_s:g} s: the database is down or every pooled connection is busy")
        else:
            reason = f"the connection to PostgreSQL ({settings.database_url_redacted}) failed: {type(exc).__name__}"
        log.warning("path=%s database unavailable: %s", request.url.path, reason)
        return Response({"status_code": 503, "detail": f"{reason}; retry when the database is back"},
                        status_code=HTTP_503_SERVICE_UNAVAILABLE,
                        headers={"Retry-After": str(max(1, math.ceil(settings.database_wait_s)))})

    return handle

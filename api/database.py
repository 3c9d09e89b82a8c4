"""The API's PostgreSQL connection pool: opened in the app's lifespan, handed to handlers by DI.

A handler that declares `conn: AsyncConnection` gets a pooled connection for the request. Handlers that
must answer even when the database is down (health, /metrics), or that should take a connection only
after some work (a scanner is validated first), declare `pool` instead.

Two choices keep a database-backed request to one round trip to PostgreSQL where it took four:

- The connections are in autocommit mode: every handler runs a single statement, which commits by
  itself, without BEGIN and COMMIT. A handler that needs several statements to commit together opens
  `async with conn.transaction():`.
- A connection is checked (an empty query) before a request gets it only when it was last handed out
  RECENTLY_USED_S or longer ago: one that answered a moment ago is alive, and under load every
  connection is one. A connection the server dropped (restart, idle kill) is still replaced before a
  request gets it once it has rested; one dropped within RECENTLY_USED_S of its last use fails that
  request with a 503, and the pool replaces it. The time is noted when the pool hands a connection out
  (its `check` callback), not when it comes back: with a `reset` callback the pool returns every
  connection through a background task, and an authenticated request, which takes a connection to find
  its caller and then another for its handler, often found the pool empty and had it open one more.

Measured in-process on the signals route (CPU of the API per request, `benchmarks/bench_api.py` for the
served figures): 0.75 ms with the four round trips, 0.67 ms in autocommit, 0.41 ms with the check skipped
for recently used connections.

The pool opens without waiting (`open(wait=False)`): a database that is down at start-up does not stop
the API; the pool keeps reconnecting in the background, and meanwhile a request that needs a connection
waits `database_wait_s` and answers 503 with what is down (`database_unavailable`).
"""

from __future__ import annotations

import logging
import math
import time
import weakref
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


RECENTLY_USED_S = 2.0
"""A connection returned to the pool less than this long ago is handed out without a check."""


class RestChecks:
    """The pool's `check` callback: check a connection only when it was last handed out a while ago."""

    def __init__(self, recently_s: float = RECENTLY_USED_S) -> None:
        self.recently_s = recently_s
        self._handed_out: weakref.WeakKeyDictionary[AsyncConnection, float] = weakref.WeakKeyDictionary()
        self.checks = 0
        """Checks that went to the server (the others were skipped)."""

    async def check(self, conn: AsyncConnection) -> None:
        """Called by the pool before it hands a connection out; raises when it is dead (the pool replaces it)."""
        now = time.monotonic()
        last = self._handed_out.get(conn)
        self._handed_out[conn] = now
        if last is not None and now - last < self.recently_s and not conn.closed:
            return
        self.checks += 1
        await AsyncConnectionPool.check_connection(conn)


def new_pool(settings: ApiSettings) -> AsyncConnectionPool:
    """A closed pool for `settings`; the lifespan opens it (`await pool.open(wait=False)`) and closes it."""
    rest = RestChecks()
    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.database_wait_s,
        # A connection the server dropped (restart, idle kill) is replaced before a request gets it, once rested.
        check=rest.check,
        kwargs={"connect_timeout": max(1, math.ceil(settings.database_wait_s)),
                "application_name": "tradestream-api", "autocommit": True},
        name="tradestream-api",
        open=False,
    )


# The pool parameter of a handler. Not validated: the signature model cannot introspect the pool's generic
# class (its annotations name types imported only for type checkers).
POOL = Dependency(skip_validation=True)


async def provide_pool(state: State) -> AsyncConnectionPool:
    return state.pool


async def provide_connection(state: State) -> AsyncIterator[AsyncConnection]:
    """One pooled connection per request (autocommit: each statement commits by itself)."""
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

"""Scanners (strategy configurations), their signals, and the correlation matrix for the heatmap.

Every scanner is validated by `processors.scanner.ScannerConfig` before it is stored, in a worker
process with a time limit (`api.validation`: the event loop never compiles a rule): an invalid one gets a
400 whose body lists every field error (`field`, `message`), rule errors with their position. Stored as
the normalised mapping (`to_mapping`), so what is read back is exactly what runs.
Reads use the pooled connection DI gives them (`conn`, see `api.database`); writes take a connection
from the pool only once the settings are valid, so a validation never holds one. Either way, one
transaction per request, and a 503 when PostgreSQL cannot be reached.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.database import POOL
from api.validation import Invalid, ScannerValidator, Valid
from processors.rules import rolling_correlation
from processors.scanner.config.choices import MAX_NAME_LENGTH

ET = ZoneInfo("America/New_York")
# A scanner's name in a path: no stored scanner has a longer one, so a longer one is refused (400) before
# it reaches the database.
NAME = Parameter(max_length=MAX_NAME_LENGTH, description=f"the scanner's name (at most {MAX_NAME_LENGTH} characters)")


def _invalid(errors: list[dict[str, str]]) -> Response[dict[str, object]]:
    return Response({"status_code": 400, "detail": "invalid scanner configuration", "errors": errors},
                    status_code=HTTP_400_BAD_REQUEST)


async def validate(validator: ScannerValidator, request: Request) -> Valid | Response[dict[str, object]]:
    """The request's scanner validated off the event loop: Valid, or the 400 listing every problem."""
    outcome = await validator.validate(await request.body())
    return _invalid(outcome.errors) if isinstance(outcome, Invalid) else outcome


async def _store(conn: AsyncConnection, scanner: Valid, create: bool) -> int | None:
    """Insert (create) or update; the new version, or None when the name exists (create) / is missing (update)."""
    body = json.dumps(scanner.config)
    if create:
        cursor = await conn.execute("insert into scanners (name, config) values (%s, %s) on conflict (name) "
                                    "do nothing returning version", (scanner.name, body))
    else:
        cursor = await conn.execute("update scanners set config = %s, version = version + 1, updated_at = now() "
                                    "where name = %s returning version", (body, scanner.name))
    row = await cursor.fetchone()
    return None if row is None else row[0]


def _row(row: tuple) -> dict[str, object]:
    return {"name": row[0], "version": row[1], "config": row[2], "updated_at": row[3].isoformat()}


# The list as one JSON text built by PostgreSQL: the stored configurations are passed through as they are
# instead of being parsed into Python and encoded again (0.69 -> 0.30 ms of the API's CPU per request with
# a dozen scanners, growing with their number). Same JSON as `_row` gives for each.
LIST = """select coalesce(json_agg(json_build_object('name', name, 'version', version, 'config', config,
                                              'updated_at', updated_at) order by name), '[]')::text
          from scanners"""


async def _list(conn: AsyncConnection) -> bytes:
    """Every scanner as the JSON array the API answers, encoded."""
    (text,) = await (await conn.execute(LIST)).fetchone()
    return text.encode()


async def _one(conn: AsyncConnection, name: str) -> dict[str, object] | None:
    cursor = await conn.execute("select name, version, config, updated_at from scanners where name = %s", (name,))
    row = await cursor.fetchone()
    return None if row is None else _row(row)


async def _delete(conn: AsyncConnection, name: str) -> bool:
    return (await conn.execute("delete from scanners where name = %s", (name,))).rowcount == 1


class ScannerController(Controller):
    path = "/api/scanners"

    @post("/validate", status_code=200)
    async def check(self, request: Request, validator: ScannerValidator,
                    data: dict[str, Any]) -> Response[dict[str, object]]:
        """Validate without storing; 200 with the normalised settings, 400 with every field error, 422 when the
        settings take too long to validate, 503 when every validation worker is busy."""
        result = await validate(validator, request)
        if isinstance(result, Response):
            return result
        return Response({"valid": True, "config": result.config})

    @post("/")
    async def create(self, request: Request, validator: ScannerValidator, data: dict[str, Any],
                     pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Create a scanner; 201, 400 with field errors, or 409 when the name is taken (use PUT)."""
        result = await validate(validator, request)
        if isinstance(result, Response):
            return result
        async with pool.connection() as conn:
            version = await _store(conn, result, True)
        if version is None:
            return Response({"status_code": 409, "detail": f"scanner {result.name!r} exists; PUT "
                                                             f"/api/scanners/{result.name} replaces it"},
                            status_code=HTTP_409_CONFLICT)
        return Response({"name": result.name, "version": version, "config": result.config},
                        status_code=HTTP_201_CREATED)

    @put("/{name:str}")
    async def replace(self, request: Request, validator: ScannerValidator, data: dict[str, Any],
                      name: str = NAME, pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Replace a scanner's settings (the version increases); 404 when it does not exist."""
        result = await validate(validator, request)
        if isinstance(result, Response):
            return result
        if result.name != name:
            return _invalid([{"field": "name", "message": f"must be {name!r}, the scanner in the URL"}])
        async with pool.connection() as conn:
            version = await _store(conn, result, False)
        if version is None:
            raise NotFoundException(f"no scanner named {name!r}; POST /api/scanners creates it")
        return Response({"name": name, "version": version, "config": result.config})

    @get("/")
    async def list_scanners(self, conn: AsyncConnection) -> Response[list[dict[str, object]]]:
        """Every stored scanner (name, version, normalised settings, last change), by name."""
        return Response(await _list(conn), media_type=MediaType.JSON)

    @get("/{name:str}")
    async def get_scanner(self, conn: AsyncConnection, name: str = NAME) -> dict[str, object]:
        """One scanner's stored settings and version; 404 when there is none of that name."""
        found = await _one(conn, name)
        if found is None:
            raise NotFoundException(f"no scanner named {name!r}")
        return found

    @delete("/{name:str}")
    async def delete_scanner(self, conn: AsyncConnection, name: str = NAME) -> None:
        """Delete a scanner; 204, or 404 when there is none of that name."""
        if not await _delete(conn, name):
            raise NotFoundException(f"no scanner named {name!r}")


def signal_row(row: tuple) -> dict[str, object]:
    """One signal as the API shows it: its time in ET (ISO 8601 with the offset), its price as written."""
    return {"signal_id": row[0], "strategy": row[1], "symbol": row[2], "side": row[3], "action": row[4],
            "ts": row[5].astimezone(ET).isoformat(), "price": str(row[6]), "reason": row[7], "rule_values": row[8]}


# The signals as one JSON text built by PostgreSQL, each object what `signal_row` makes of its row (a test
# compares them). Measured on 50 rows: typecasting them to Python and formatting them took 0.38 ms of the
# API's CPU, the one text value takes 0.08 ms; PostgreSQL spends about 0.1 ms more on the query, in its own
# process per connection, while the API's one event loop serves every request. `ts` is converted in the query, not
# with `set time zone`, which would outlive the request on the pooled connection; it is written as Python's
# isoformat writes it (the fraction only when there is one; the offset -04:00 or -05:00).
SIGNALS = """
    select coalesce(json_agg(json_build_object(
               'signal_id', signal_id, 'strategy', strategy, 'symbol', symbol, 'side', side, 'action', action,
               'ts', replace(to_char(local, 'YYYY-MM-DD"T"HH24:MI:SS.US'), '.000000', '')
                     || case offset_s when -14400 then '-04:00' when -18000 then '-05:00'
                        else case when offset_s < 0 then '-' else '+' end
                             || to_char(make_interval(secs => abs(offset_s)::float8), 'HH24:MI') end,
               'price', price::text, 'reason', reason, 'rule_values', rule_values) order by ts desc, signal_id),
           '[]')::text
    from (select * from signals {where} order by ts desc, signal_id limit %s) newest,
         lateral (select ts at time zone 'America/New_York' as local,
                         extract(epoch from (ts at time zone 'America/New_York') - (ts at time zone 'UTC'))
                             as offset_s) zone
"""


async def _signals(conn: AsyncConnection, strategy: str | None, limit: int) -> bytes:
    """The newest `limit` signals (of `strategy`) as the JSON array the API answers, encoded."""
    query = SIGNALS.format(where="where strategy = %s" if strategy else "")
    params: tuple = (strategy, limit) if strategy else (limit,)
    (text,) = await (await conn.execute(query, params)).fetchone()
    return text.encode()


def correlation_matrix(closes: dict[str, dict[int, float]], bars: int) -> list[list[float | None]]:
    """Pearson correlation of close-to-close returns over the last `bars` bars every pair shares."""
    symbols = list(closes)
    matrix: list[list[float | None]] = []
    for a in symbols:
        row: list[float | None] = []
        for b in symbols:
            common = sorted(closes[a].keys() & closes[b].keys())[-(bars + 1):]
            if len(common) < bars + 1:
                row.append(None)
                continue
            value = rolling_correlation(np.array([closes[a][t] for t in common]),
                                        np.array([closes[b][t] for t in common]), bars)[-1]
            row.append(None if np.isnan(value) else round(float(value), 6))
        matrix.append(row)
    return matrix


async def _correlation(conn: AsyncConnection, symbols: list[str], timeframe: str, bars: int) -> dict[str, object]:
    cursor = await conn.execute(
        "select symbol, start_ns, close from (select symbol, start_ns, close, row_number() over "
        "(partition by symbol order by start_ns desc) as n from bars where symbol = any(%s) and timeframe = %s) "
        "recent where n <= %s", (symbols, timeframe, bars * 4 + 1))
    rows = await cursor.fetchall()
    closes: dict[str, dict[int, float]] = {s: {} for s in symbols}
    for symbol, start, close in rows:
        closes[symbol][start] = float(close)
    last = max((start for _, start, _ in rows), default=None)
    # Up to 50 x 50 pairs of rolling correlations: off the event loop.
    matrix = await asyncio.to_thread(correlation_matrix, closes, bars)
    return {"symbols": symbols, "timeframe": timeframe, "bars": bars, "matrix": matrix,
            "as_of": None if last is None else dt.datetime.fromtimestamp(last / 1e9, dt.timezone.utc).isoformat()}


class SignalsController(Controller):
    path = "/api"

    @get("/signals")
    async def signals(self, conn: AsyncConnection,
                      strategy: str | None = Parameter(default=None, max_length=MAX_NAME_LENGTH),
                      limit: int = Parameter(default=100, ge=1, le=1000)) -> Response[list[dict[str, object]]]:
        """The newest signals (times in ET), optionally of one strategy."""
        return Response(await _signals(conn, strategy, limit), media_type=MediaType.JSON)

    @get("/correlation")
    async def correlation(self, conn: AsyncConnection, symbols: str = Parameter(max_length=1000),
                          timeframe: str = Parameter(default="5m", max_length=8),
                          bars: int = Parameter(default=20, ge=2, le=500)) -> Response[dict[str, object]]:
        """Rolling correlation matrix of the symbols' bar returns, for the dashboard heatmap."""
        names = [s.strip().upper() for s in symbols.split(",") if s.strip()]
        if not 2 <= len(names) <= 50 or len(set(names)) != len(names):
            return Response({"status_code": 400, "detail": "symbols must list 2 to 50 distinct symbols, "
                                                           "comma-separated"}, status_code=HTTP_400_BAD_REQUEST)
        return Response(await _correlation(conn, names, timeframe, bars))

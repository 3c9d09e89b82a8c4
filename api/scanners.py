"""Scanners (strategy configurations), their signals, and the correlation matrix for the heatmap.

Every scanner is validated by `processors.scanner.ScannerConfig` before it is stored, in a worker
process with a time limit (`api.validation`: the event loop never compiles a rule): an invalid one gets a
400 whose body lists every field error (`field`, `message`), rule errors with their position. Stored as
the normalised mapping (`to_mapping`), so what is read back is exactly what runs.
Reads use the pooled connection DI gives them (`conn`, see `api.database`); writes take a connection
from the pool only once the settings are valid, so a validation never holds one. Either way, one
transaction per request, and a 503 when PostgreSQL cannot be reached.

A scanner is enabled when created; `PUT /api/scanners/{name}/enabled` disables or enables it again (migration 012),
and `tradestream strategy run` refuses to start a disabled one.

Each caller sees and changes only the scanners (strategies) they own, and the signals of those (`api.users`):
another user's scanner answers 404 as a missing one does. Creating a scanner makes the caller its owner; a name
another user owns is taken (409), also once its scanner is deleted, since its signals and trades keep the name.
A viewer may read and validate, not change (403). Every change is recorded in `user_changes` with who and when,
and is a StrategyChanged event on the strategies topic (keyed by the strategy, with the caller as operator and the
configuration of a creation or replacement), so an audit reads every change as it reads the accounts' and the
settings'. The event is published inside the change's transaction, before it commits: Kafka not taking it within
PUBLISH_WAIT_S rolls the change back and answers 503, so the table never holds a change the topic lacks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
from litestar import Controller, MediaType, Request, Response, delete, get, post, put
from litestar.exceptions import NotFoundException, ServiceUnavailableException
from litestar.params import Dependency, Parameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.auth import SECURITY, Caller, may_change
from api.database import POOL
from api.users import OWNED, User, record
from api.validation import Invalid, ScannerValidator, Valid
from connectors.kafka.codec import AvroCodec
from connectors.kafka.publisher import EventPublisher
from connectors.kafka.settings import KafkaSettings
from processors.model import StrategyChanged
from processors.rules import rolling_correlation
from processors.scanner.config.choices import MAX_NAME_LENGTH

ET = ZoneInfo("America/New_York")
# A scanner's name in a path: no stored scanner has a longer one, so a longer one is refused (400) before
# it reaches the database.
NAME = Parameter(max_length=MAX_NAME_LENGTH, description=f"the scanner's name (at most {MAX_NAME_LENGTH} characters)")
PUBLISH_WAIT_S = 10.0
CHANGES = Dependency(skip_validation=True)


class StrategyChangePublisher(Protocol):
    """Publishes a strategy change and waits until Kafka has it; False when it was not delivered."""

    def publish(self, change: StrategyChanged) -> bool: ...


class KafkaStrategyChanges:
    """The strategies topic's producer, made at the first change (the API starts without Kafka)."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self._publisher: EventPublisher | None = None

    def publish(self, change: StrategyChanged) -> bool:
        if self._publisher is None:
            self._publisher = EventPublisher(self.kafka, AvroCodec(self.kafka.registry_config()),
                                             client_id="tradestream-api-strategies")
        failed_before = self._publisher.failed
        self._publisher.publish(self.kafka.topic("strategies"), change.strategy, change)
        return self._publisher.flush(PUBLISH_WAIT_S) == 0 and self._publisher.failed == failed_before


async def _publish(publisher: StrategyChangePublisher, name: str, kind: str, user: User, version: int = 0,
                   config: str = "") -> None:
    """The change as a StrategyChanged, in the caller's transaction: ServiceUnavailableException (503, the
    transaction rolled back) when Kafka does not take it."""
    now = time.time_ns()
    change = StrategyChanged(strategy=name, kind=kind, ts_event=now, ts_init=now, operator=user.name, version=version,
                             config=config)
    if not await asyncio.to_thread(publisher.publish, change):
        raise ServiceUnavailableException(f"the change of strategy {name!r} was not delivered to Kafka, so nothing "
                                          "was changed; try again when it is back")


def _invalid(errors: list[dict[str, str]]) -> Response[dict[str, object]]:
    return Response({"status_code": 400, "detail": "invalid scanner configuration", "errors": errors},
                    status_code=HTTP_400_BAD_REQUEST)


async def validate(validator: ScannerValidator, request: Request) -> Valid | Response[dict[str, object]]:
    """The request's scanner validated off the event loop: Valid, or the 400 listing every problem."""
    outcome = await validator.validate(await request.body())
    return _invalid(outcome.errors) if isinstance(outcome, Invalid) else outcome


async def _claim(conn: AsyncConnection, name: str, user: User) -> bool:
    """Make the user the owner of the strategy name unless another user owns it; whether they own it now."""
    cursor = await conn.execute(
        "insert into ownerships (kind, resource_id, user_id) values ('strategy', %s, %s) on conflict (kind, "
        "resource_id) do update set user_id = excluded.user_id where ownerships.user_id = excluded.user_id "
        "returning user_id", (name, user.user_id))
    return await cursor.fetchone() is not None


async def _store(conn: AsyncConnection, scanner: Valid, create: bool, user: User,
                 publisher: StrategyChangePublisher) -> int | None:
    """Insert (create) or update the user's scanner, recording the change; the new version, or None when the name
    exists or is another user's (create) / is missing or another user's (update)."""
    body = json.dumps(scanner.config)
    async with conn.transaction():
        if create:
            if not await _claim(conn, scanner.name, user):
                return None
            cursor = await conn.execute("insert into scanners (name, config) values (%s, %s) on conflict (name) "
                                        "do nothing returning version", (scanner.name, body))
        else:
            cursor = await conn.execute("update scanners set config = %s, version = version + 1, updated_at = now() "
                                        f"where name = %s and name in ({OWNED}) returning version",
                                        (body, scanner.name, "strategy", user.user_id))
        row = await cursor.fetchone()
        if row is not None:
            await record(conn, user.name, "strategy_created" if create else "strategy_replaced", scanner.name,
                         version=row[0])
            await _publish(publisher, scanner.name, "CREATED" if create else "REPLACED", user, row[0],
                           json.dumps(scanner.config, sort_keys=True))
    return None if row is None else row[0]


def _row(row: tuple) -> dict[str, object]:
    return {"name": row[0], "version": row[1], "config": row[2], "updated_at": row[3].isoformat(), "enabled": row[4]}


# The list as one JSON text built by PostgreSQL: the stored configurations are passed through as they are
# instead of being parsed into Python and encoded again (0.69 -> 0.30 ms of the API's CPU per request with
# a dozen scanners, growing with their number). Same JSON as `_row` gives for each.
LIST = f"""select coalesce(json_agg(json_build_object('name', name, 'version', version, 'config', config,
                                               'updated_at', updated_at, 'enabled', enabled) order by name), '[]')::text
           from scanners where name in ({OWNED})"""


async def _list(conn: AsyncConnection, user: User) -> bytes:
    """Every scanner of the user as the JSON array the API answers, encoded."""
    (text,) = await (await conn.execute(LIST, ("strategy", user.user_id))).fetchone()
    return text.encode()


async def _one(conn: AsyncConnection, name: str, user: User) -> dict[str, object] | None:
    cursor = await conn.execute(f"select name, version, config, updated_at, enabled from scanners where name = %s and "
                                f"name in ({OWNED})", (name, "strategy", user.user_id))
    row = await cursor.fetchone()
    return None if row is None else _row(row)


async def _enable(conn: AsyncConnection, name: str, enabled: bool, user: User,
                  publisher: StrategyChangePublisher) -> bool:
    async with conn.transaction():
        changed = (await conn.execute(f"update scanners set enabled = %s, updated_at = now() where name = %s and name "
                                      f"in ({OWNED})", (enabled, name, "strategy", user.user_id))).rowcount == 1
        if changed:
            await record(conn, user.name, "strategy_enabled" if enabled else "strategy_disabled", name)
            await _publish(publisher, name, "ENABLED" if enabled else "DISABLED", user)
    return changed


def enabled_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    errors = [{"field": key, "message": "unknown field; the body has enabled"} for key in data if key != "enabled"]
    if "enabled" not in data:
        errors.append({"field": "enabled", "message": "required: true to run the strategy, false to stop it"})
    elif not isinstance(data["enabled"], bool):
        errors.append({"field": "enabled", "message": "must be true or false"})
    return errors


async def _delete(conn: AsyncConnection, name: str, user: User, publisher: StrategyChangePublisher) -> bool:
    async with conn.transaction():
        deleted = (await conn.execute(f"delete from scanners where name = %s and name in ({OWNED})",
                                      (name, "strategy", user.user_id))).rowcount == 1
        if deleted:
            await record(conn, user.name, "strategy_deleted", name)
            await _publish(publisher, name, "DELETED", user)
    return deleted


class ScannerController(Controller):
    path = "/api/scanners"
    security = SECURITY

    @post("/validate", status_code=200)
    async def check(self, request: Request, validator: ScannerValidator,
                    data: dict[str, Any]) -> Response[dict[str, object]]:
        """Validate without storing; 200 with the normalised settings, 400 with every field error, 422 when the
        settings take too long to validate, 503 when every validation worker is busy."""
        result = await validate(validator, request)
        if isinstance(result, Response):
            return result
        return Response({"valid": True, "config": result.config})

    @post("/", guards=[may_change])
    async def create(self, request: Request, validator: ScannerValidator, data: dict[str, Any], caller: Caller,
                     pool: AsyncConnectionPool = POOL,
                     strategy_changes: StrategyChangePublisher = CHANGES) -> Response[dict[str, object]]:
        """Create a scanner, owned by the caller; 201, 400 with field errors, 403 for a viewer, or 409 when the
        name is taken (PUT replaces the caller's own)."""
        result = await validate(validator, request)
        if isinstance(result, Response):
            return result
        async with pool.connection() as conn:
            version = await _store(conn, result, True, caller.user, strategy_changes)
        if version is None:
            return Response({"status_code": 409, "detail": f"the scanner name {result.name!r} is taken; choose "
                                                           f"another, or PUT /api/scanners/{result.name} to replace "
                                                           "your own"},
                            status_code=HTTP_409_CONFLICT)
        return Response({"name": result.name, "version": version, "config": result.config},
                        status_code=HTTP_201_CREATED)

    @put("/{name:str}", guards=[may_change])
    async def replace(self, request: Request, validator: ScannerValidator, data: dict[str, Any], caller: Caller,
                      name: str = NAME, pool: AsyncConnectionPool = POOL,
                      strategy_changes: StrategyChangePublisher = CHANGES) -> Response[dict[str, object]]:
        """Replace one of the caller's scanners (the version increases); 404 when they have none of that name."""
        result = await validate(validator, request)
        if isinstance(result, Response):
            return result
        if result.name != name:
            return _invalid([{"field": "name", "message": f"must be {name!r}, the scanner in the URL"}])
        async with pool.connection() as conn:
            version = await _store(conn, result, False, caller.user, strategy_changes)
        if version is None:
            raise NotFoundException(f"no scanner named {name!r}; POST /api/scanners creates it")
        return Response({"name": name, "version": version, "config": result.config})

    @get("/")
    async def list_scanners(self, conn: AsyncConnection, caller: Caller) -> Response[list[dict[str, object]]]:
        """The caller's scanners (name, version, normalised settings, last change), by name."""
        return Response(await _list(conn, caller.user), media_type=MediaType.JSON)

    @get("/{name:str}")
    async def get_scanner(self, conn: AsyncConnection, caller: Caller, name: str = NAME) -> dict[str, object]:
        """One of the caller's scanners, its settings and version; 404 when they have none of that name."""
        found = await _one(conn, name, caller.user)
        if found is None:
            raise NotFoundException(f"no scanner named {name!r}")
        return found

    @put("/{name:str}/enabled", guards=[may_change])
    async def enable(self, data: dict[str, Any], caller: Caller, name: str = NAME, pool: AsyncConnectionPool = POOL,
                     strategy_changes: StrategyChangePublisher = CHANGES) -> Response[dict[str, object]]:
        """Enable or disable one of the caller's scanners ({"enabled": true|false}; `tradestream strategy run` refuses
        a disabled one): 200, 400 naming a bad field, 404 when they have none of that name."""
        errors = enabled_errors(data)
        if errors:
            return Response({"status_code": 400, "detail": "invalid change", "errors": errors},
                            status_code=HTTP_400_BAD_REQUEST)
        async with pool.connection() as conn:
            if not await _enable(conn, name, data["enabled"], caller.user, strategy_changes):
                raise NotFoundException(f"no scanner named {name!r}")
        return Response({"name": name, "enabled": data["enabled"]})

    @delete("/{name:str}", guards=[may_change])
    async def delete_scanner(self, conn: AsyncConnection, caller: Caller, name: str = NAME,
                             strategy_changes: StrategyChangePublisher = CHANGES) -> None:
        """Delete one of the caller's scanners; 204, or 404 when they have none of that name."""
        if not await _delete(conn, name, caller.user, strategy_changes):
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


async def _signals(conn: AsyncConnection, user: User, strategy: str | None, limit: int) -> bytes:
    """The newest `limit` signals of the user's strategies (of `strategy`) as the JSON array the API answers."""
    owned = f"where strategy in ({OWNED})"
    query = SIGNALS.format(where=owned + " and strategy = %s" if strategy else owned)
    params: tuple = ("strategy", user.user_id, strategy, limit) if strategy else ("strategy", user.user_id, limit)
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
    security = SECURITY

    @get("/signals")
    async def signals(self, conn: AsyncConnection, caller: Caller,
                      strategy: str | None = Parameter(default=None, max_length=MAX_NAME_LENGTH),
                      limit: int = Parameter(default=100, ge=1, le=1000)) -> Response[list[dict[str, object]]]:
        """The newest signals of the caller's strategies (times in ET), optionally of one of them."""
        return Response(await _signals(conn, caller.user, strategy, limit), media_type=MediaType.JSON)

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

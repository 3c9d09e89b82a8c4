"""The universal settings page's routes: every version of the settings, and a new version published by an admin.

    GET /api/settings    every version on the settings topic, newest first, each with when it takes effect and
                         whether it is in force, scheduled or superseded; the template of a first version; and
                         whether the caller may publish one (an admin)
    PUT /api/settings    {"reason": ..., "settings": {settings file}, "effective_at": ISO-8601 or null}: publish the
                         next version (202), in force from `effective_at` (default now)

A version is the event `tradestream settings change` publishes, read and published the same way
(`connectors.kafka.settings_topic`): a SettingsChanged on the settings topic, numbered one more than the newest
there, with the reason, the caller's name as operator and the instant it was made (`ts_init`). It is never
back-dated: `effective_at` must not be before now nor at or before the newest version's effective instant.
Every problem is a 400 naming its field: `settings.capital`, `settings.extra_half_days[0]`, `reason`,
`effective_at`. Anyone logged in may read the versions (they are the same for every user); only an admin publishes
(403 otherwise). The change is recorded in `user_changes` too, with who and when; Kafka not taking the event within
its wait is a 503 and nothing is recorded.

One API process numbers the versions it publishes one at a time (a lock around reading the topic and publishing):
a version published at the same instant by the command line is refused by every reader of the topic as out of
sequence, as two command-line changes at once would be.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Any, Protocol

from litestar import Controller, Response, get, put
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException, ServiceUnavailableException
from litestar.handlers import BaseRouteHandler
from litestar.params import Dependency
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_400_BAD_REQUEST, HTTP_503_SERVICE_UNAVAILABLE
from psycopg_pool import AsyncConnectionPool

from api.accounts import reason_errors
from api.auth import SECURITY, Caller
from api.database import POOL
from api.users import Role, record
from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings import KafkaSettings
from connectors.kafka.settings_topic import SettingsTopicPublisher, read_settings_changes
from processors.model import SettingsChanged
from processors.settings import (SettingsError, SettingsHistory, SettingsVersion, read_settings, settings_of,
                                 write_settings)
from schemas.errors import StackError

log = logging.getLogger(__name__)

FIELDS = ("reason", "settings", "effective_at")
TEMPLATE_CAPITAL = Decimal(100_000)
VERSIONS = Dependency(skip_validation=True)


class SettingsVersions(Protocol):
    """The settings topic as the routes need it: every change on it in order, and a new version published (False
    when Kafka did not take it); `lock` held from reading the changes to publishing the next."""

    lock: asyncio.Lock

    def changes(self) -> list[SettingsChanged]: ...

    def publish(self, change: SettingsChanged) -> bool: ...


class KafkaSettingsVersions:
    """The settings topic, read and written as `tradestream settings` does."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self.codec = AvroCodec(kafka.registry_config())
        self.publisher = SettingsTopicPublisher(kafka, self.codec, client_id="tradestream-api-settings")
        self.lock = asyncio.Lock()

    def changes(self) -> list[SettingsChanged]:
        return read_settings_changes(self.kafka, self.codec, group_id="tradestream-api-settings")

    def publish(self, change: SettingsChanged) -> bool:
        return self.publisher.publish(change)


def is_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard of the universal settings' change: they hold for every account, so only an admin changes them."""
    caller: Caller = connection.user
    if caller.user.role is not Role.ADMIN:
        raise PermissionDeniedException(f"user {caller.user.name!r} has the {caller.user.role.value} role; only an "
                                        "admin changes the universal settings")


def _iso(ns: int) -> str:
    return dt.datetime.fromtimestamp(ns // 10**9, dt.timezone.utc).isoformat()


def version_view(version: SettingsVersion, made_ns: int, in_force: SettingsVersion | None) -> dict[str, object]:
    """One version as the page shows it; `in_force` is the version in force now."""
    if in_force is not None and version.version == in_force.version:
        state = "in force"
    elif in_force is None or version.version > in_force.version:
        state = "scheduled"
    else:
        state = "superseded"
    return {"version": version.version, "effective_ns": version.effective_ns, "effective_at": _iso(version.effective_ns),
            "made_ns": made_ns, "reason": version.reason, "operator": version.operator, "state": state,
            "settings": write_settings(version.settings)}


def versions_view(history: SettingsHistory, made_ns: dict[int, int], now_ns: int) -> list[dict[str, object]]:
    """Every version, newest first, with its state at `now_ns` (`made_ns`: each version's ts_init)."""
    in_force = history.version_at(now_ns)
    return [version_view(v, made_ns.get(v.version, 0), in_force) for v in reversed(history.versions)]


def effective_ns(raw: Any, now_ns: int) -> tuple[list[dict[str, str]], int]:
    """The instant a change takes effect: `effective_at` as an ISO-8601 instant with its offset (null or missing:
    now); the field errors, or none and the instant in nanoseconds UTC."""
    if raw is None or raw == "":
        return [], now_ns
    if not isinstance(raw, str) or len(raw) > 40:
        return [{"field": "effective_at", "message": "must be an ISO-8601 instant with its offset, e.g. "
                                                     "2026-07-01T09:30:00-04:00, or null for now"}], 0
    try:
        instant = dt.datetime.fromisoformat(raw)
    except ValueError:
        return [{"field": "effective_at", "message": f"{raw!r} is not an ISO-8601 instant, e.g. "
                                                     "2026-07-01T09:30:00-04:00"}], 0
    if instant.tzinfo is None:
        return [{"field": "effective_at", "message": "must give its offset from UTC (e.g. -04:00 or Z): a time "
                                                     "alone is ambiguous"}], 0
    if not dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) <= instant <= dt.datetime(2262, 4, 10, tzinfo=dt.timezone.utc):
        return [{"field": "effective_at", "message": "must be from 1970-01-01 to 2262-04-10"}], 0
    ns = int(instant.timestamp()) * 10**9 + instant.microsecond * 1000
    if ns < now_ns:
        return [{"field": "effective_at", "message": "must not be in the past: a change is not back-dated, decisions "
                                                     "already made stand"}], 0
    return [], ns


def change_of(data: dict[str, Any], history: SettingsHistory, now_ns: int,
              operator: str) -> tuple[list[dict[str, str]], SettingsChanged | None]:
    """The next version a request asks for, or every field error of it (paths under `settings` for the settings,
    `effective_at` for the instant)."""
    errors = reason_errors(data, FIELDS, "why the settings change")
    settings = None
    if data.get("settings") is None:
        errors.append({"field": "settings", "message": "required: the settings, in the settings file's shape"})
    else:
        try:
            settings = read_settings(data["settings"])
        except SettingsError as exc:
            errors += [{"field": f"settings.{e.field}" if e.field != "settings" else "settings",
                        "message": e.message} for e in exc.errors]
    instant_errors, at = effective_ns(data.get("effective_at"), now_ns)
    errors += instant_errors
    if errors or settings is None:
        return errors, None
    try:
        return [], history.next_change(settings, ts_event=at, ts_init=now_ns, reason=data["reason"], operator=operator)
    except SettingsError as exc:  # after the newest version's instant
        return [{"field": "effective_at" if e.field == "ts_event" else e.field, "message": e.message}
                for e in exc.errors], None


def template() -> dict[str, Any]:
    """The settings a first version starts from: the defaults, with an example capital."""
    return write_settings(read_settings({"capital": str(TEMPLATE_CAPITAL)}))


class UniversalSettingsController(Controller):
    path = "/api/settings"
    security = SECURITY

    @get("/")
    async def versions(self, caller: Caller,
                       settings_versions: SettingsVersions = VERSIONS) -> Response[dict[str, object]]:
        """Every version of the universal settings, newest first: the settings, when each takes effect (`effective_ns`,
        `effective_at` in UTC), when it was made, by whom and why, and whether it is in force now, scheduled or
        superseded; `template` for a first version; `may_edit` whether the caller may publish one (an admin).
        503 when the settings topic cannot be read."""
        history, made = await _read(settings_versions)
        return Response({"versions": versions_view(history, made, time.time_ns()), "template": template(),
                         "may_edit": caller.user.role is Role.ADMIN})

    @put("/", guards=[is_admin], status_code=HTTP_202_ACCEPTED)
    async def change(self, data: dict[str, Any], caller: Caller, settings_versions: SettingsVersions = VERSIONS,
                     pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Publish the next version of the universal settings, in force from `effective_at` (default now; never in the
        past nor at or before the newest version's instant), with the reason: 202 once it is on the settings topic.
        400 lists every field error (`settings.capital`, `effective_at`, `reason`...), 403 for a caller who is not
        an admin, 503 when Kafka did not take it."""
        async with settings_versions.lock:
            history, _ = await _read(settings_versions)
            errors, change = change_of(data, history, time.time_ns(), caller.user.name)
            if change is None:
                return Response({"status_code": 400, "detail": "invalid settings change", "errors": errors},
                                status_code=HTTP_400_BAD_REQUEST)
            if not await asyncio.to_thread(settings_versions.publish, change):
                log.error("settings version=%d not delivered to Kafka user=%s", change.version, caller.user.name)
                return Response({"status_code": 503, "detail": "the settings change was not delivered to Kafka; try "
                                                               "again when it is back"},
                                status_code=HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
        async with pool.connection() as conn:
            await record(conn, caller.user.name, "universal_settings_changed", "universal", version=change.version,
                         reason=change.reason, ts_event_ns=change.ts_event)
        log.info("settings version=%d published user=%s ts_event_ns=%d", change.version, caller.user.name,
                 change.ts_event)
        version = SettingsVersion(change.version, change.ts_event, settings_of(change), change.reason, change.operator)
        state = "in force" if change.ts_event <= time.time_ns() else "scheduled"
        return Response({**version_view(version, change.ts_init, None), "state": state}, status_code=HTTP_202_ACCEPTED)


async def _read(versions: SettingsVersions) -> tuple[SettingsHistory, dict[int, int]]:
    """The history of the changes on the topic (off the event loop) and when each version was made."""
    try:
        changes = await asyncio.to_thread(versions.changes)
    except StackError as exc:
        raise ServiceUnavailableException(str(exc)) from None
    return SettingsHistory.of(changes), {change.version: change.ts_init for change in changes}

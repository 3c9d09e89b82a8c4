"""The caller's accounts: their risk settings, and the reset of an account's latched kill switch.

    GET  /api/accounts                               the accounts the caller owns, each with its last kill-switch
                                                     trip and reset, settings change, risk decision (equity, open
                                                     risk) and today's realised P&L (as the sink stored them)
    GET  /api/accounts/{account_id}/settings         the newest settings change of the account
    PUT  /api/accounts/{account_id}/settings         {"reason": ..., "settings": {account file}}: publish (202)
    POST /api/accounts/{account_id}/kill-switch/trip    {"reason": ...}: publish the trip (202)
    POST /api/accounts/{account_id}/kill-switch/reset   {"reason": ...}: publish the reset (202)

New settings are the same event `tradestream account change` publishes (AccountChanged SETTINGS_CHANGED, in
force from now: never back-dated), read by `processors.risk.account_file` first: every problem is a 400 field
error (`settings.limits.max_drawdown_pct`, ...), and the settings must name the account of the path.

A reset is the same event `tradestream account reset-kill-switch` publishes: an `AccountChanged` of kind
KILL_SWITCH_RESET on the accounts topic, keyed by the account, with the reason and the caller's name as its
operator; the strategy runner trading the account applies it in order with the prints, so an audit replay sees
it too. The API answers 202 once Kafka has the event (acks=all), and records the reset in `user_changes`.
Another user's account is a 404, as a missing one; a viewer gets 403; a reason that is missing, blank or over
MAX_REASON characters is a 400 naming `reason`; Kafka not taking the event within PUBLISH_WAIT_S is a 503.

A trip is the event `tradestream account trip-kill-switch` publishes (AccountChanged KILL_SWITCH_TRIPPED): the
account's entries are refused at once and its open trades are closed at the next sweep; it is guarded and
answered as a reset is, recorded as `kill_switch_tripped`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post, put
from litestar.exceptions import NotFoundException
from litestar.params import Dependency, Parameter
from litestar.status_codes import HTTP_202_ACCEPTED, HTTP_400_BAD_REQUEST, HTTP_503_SERVICE_UNAVAILABLE
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api.auth import SECURITY, Caller, may_change
from api.database import POOL
from api.users import OWNED, record
from connectors.kafka.codec import AvroCodec
from connectors.kafka.publisher import EventPublisher
from connectors.kafka.settings import KafkaSettings
from processors.model import AccountChanged, TradeActionRequested
from processors.risk.account_file import read_account, write_account
from processors.risk.errors import RiskConfigError

log = logging.getLogger(__name__)

ET = ZoneInfo("America/New_York")
MAX_REASON = 500
PUBLISH_WAIT_S = 10.0
ACCOUNT = Parameter(max_length=200, description="the account's id (account_id of its account file)")
PUBLISHER = Dependency(skip_validation=True)


class AccountChangePublisher(Protocol):
    """Publishes an operator's event (an account change, or a manual trade action: `api.trade_actions`) and waits
    until Kafka has it; False when it was not delivered."""

    def publish(self, change: AccountChanged | TradeActionRequested) -> bool: ...


class KafkaAccountChanges:
    """The operators' topics' producer (accounts, trades.actions; each event keyed by its account), made at the
    first change (the API starts without Kafka)."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self._publisher: EventPublisher | None = None

    def publish(self, change: AccountChanged | TradeActionRequested) -> bool:
        if self._publisher is None:
            self._publisher = EventPublisher(self.kafka, AvroCodec(self.kafka.registry_config()),
                                             client_id="tradestream-api-accounts")
        failed_before = self._publisher.failed
        topic = "trades.actions" if isinstance(change, TradeActionRequested) else "accounts"
        self._publisher.publish(self.kafka.topic(topic), change.account_id, change)
        return self._publisher.flush(PUBLISH_WAIT_S) == 0 and self._publisher.failed == failed_before


ACCOUNTS = """
    select o.resource_id,
           (select json_build_object('ts_event_ns', c.ts_event_ns, 'reason', c.reason, 'operator', c.operator)
            from account_changes c where c.account_id = o.resource_id and c.kind = 'KILL_SWITCH_RESET'
            order by c.ts_event_ns desc limit 1),
           (select json_build_object('ts_event_ns', c.ts_event_ns, 'reason', c.reason, 'operator', c.operator)
            from account_changes c where c.account_id = o.resource_id and c.kind = 'KILL_SWITCH_TRIPPED'
            order by c.ts_event_ns desc limit 1),
           (select json_build_object('ts_event_ns', c.ts_event_ns, 'reason', c.reason, 'operator', c.operator)
            from account_changes c where c.account_id = o.resource_id and c.kind = 'SETTINGS_CHANGED'
            order by c.ts_event_ns desc limit 1),
           (select json_build_object('ts_event_ns', d.ts_event_ns, 'equity', d.equity::text,
                                     'open_risk', d.open_risk_after::text, 'kill_switch_tripped', d.kill_switch_tripped,
                                     'kill_switch_reason', d.kill_switch_reason)
            from risk_decisions d where d.account_id = o.resource_id order by d.ts_event_ns desc limit 1),
           (select json_build_object('net_pnl', coalesce(sum(t.net_pnl), 0)::text, 'trades', count(*),
                                     'since_ns', %s::bigint, 'last_closed_ns', max(t.closed_ns))
            from trades t where t.account_id = o.resource_id and t.status = 'Closed' and t.closed_ns >= %s)
    from ownerships o where o.kind = 'account' and o.user_id = %s
    order by o.resource_id
"""


def start_of_day_ns(now_ns: int) -> int:
    """Midnight in New York of the day holding `now_ns`, in nanoseconds UTC."""
    day = dt.datetime.fromtimestamp(now_ns // 10**9, ET).date()  # whole seconds: a float rounds up to midnight
    return int(dt.datetime.combine(day, dt.time(), ET).timestamp()) * 10**9


def reason_errors(data: dict[str, Any], fields: tuple[str, ...] = ("reason",),
                  why: str = "why trading may resume") -> list[dict[str, str]]:
    errors = [{"field": key, "message": f"unknown field; the body has {' and '.join(fields)}"}
              for key in data if key not in fields]
    reason = data.get("reason")
    if reason is None:
        errors.append({"field": "reason", "message": f"required: say {why}"})
    elif not isinstance(reason, str):
        errors.append({"field": "reason", "message": "must be a string"})
    elif not reason.strip():
        errors.append({"field": "reason", "message": f"must say {why} (it is kept with the change)"})
    elif len(reason) > MAX_REASON or "\x00" in reason:
        errors.append({"field": "reason", "message": f"must be at most {MAX_REASON} characters, without NUL"})
    return errors


def settings_errors(account_id: str, settings: Any) -> tuple[list[dict[str, str]], str]:
    """The field errors of new settings for the account, and the settings as the event carries them."""
    if settings is None:
        return [{"field": "settings", "message": "required: the account's settings, as in its account file"}], ""
    try:
        account = read_account(settings)
    except RiskConfigError as exc:
        problems = getattr(exc, "problems", None) or [(exc.field, str(exc))]
        return [{"field": f"settings.{field}", "message": message} for field, message in problems], ""
    if account.account_id != account_id:
        return [{"field": "settings.account_id", "message": f"must be {account_id!r}, the account in the URL"}], ""
    return [], json.dumps(write_account(account), sort_keys=True)


def _bad(errors: list[dict[str, str]], what: str) -> Response[dict[str, object]]:
    return Response({"status_code": 400, "detail": f"invalid {what}", "errors": errors},
                    status_code=HTTP_400_BAD_REQUEST)


def _undelivered(account_id: str, caller: Caller, what: str) -> Response[dict[str, object]]:
    log.error("account=%s %s not delivered to Kafka user=%s", account_id, what, caller.user.name)
    return Response({"status_code": 503, "detail": f"the {what} was not delivered to Kafka; try again when it is "
                                                   "back"}, status_code=HTTP_503_SERVICE_UNAVAILABLE,
                    headers={"Retry-After": "5"})


async def _owns(conn: AsyncConnection, caller: Caller, account_id: str) -> bool:
    cursor = await conn.execute(f"select 1 where %s in ({OWNED})", (account_id, "account", caller.user.user_id))
    return await cursor.fetchone() is not None


class AccountsController(Controller):
    path = "/api/accounts"
    security = SECURITY

    @get("/")
    async def accounts(self, conn: AsyncConnection, caller: Caller) -> list[dict[str, object]]:
        """The caller's accounts, each with its last kill-switch reset, last trip by hand and last settings change,
        its figures as of its last risk decision (equity, open risk after it, whether the switch was tripped) and
        its P&L realised today (the net P&L of its trades closed since midnight in New York, `since_ns`, and the
        newest of their closing times, `last_closed_ns`, for a page to tell whether a trade it saw close is in
        the sum yet); null when none."""
        day_start = start_of_day_ns(time.time_ns())
        rows = await (await conn.execute(ACCOUNTS, (day_start, day_start, caller.user.user_id))).fetchall()
        return [{"account_id": account, "last_kill_switch_reset": reset, "last_kill_switch_trip": trip,
                 "last_settings_change": change, "last_risk_decision": decision, "closed_today": closed}
                for account, reset, trip, change, decision, closed in rows]

    @get("/{account_id:str}/settings")
    async def settings(self, conn: AsyncConnection, caller: Caller, account_id: str = ACCOUNT) -> dict[str, object]:
        """The newest settings change of one of the caller's accounts: the settings, from when, why and by whom;
        404 for an account the caller does not own, or one whose settings were never changed (the account file
        its runner started with is in force)."""
        if not await _owns(conn, caller, account_id):
            raise NotFoundException(f"you have no account {account_id!r}")
        row = await (await conn.execute(
            "select settings, ts_event_ns, reason, operator from account_changes where account_id = %s and kind = "
            "'SETTINGS_CHANGED' order by ts_event_ns desc limit 1", (account_id,))).fetchone()
        if row is None:
            raise NotFoundException(f"no settings change of {account_id!r} is recorded: the account file its "
                                    "runner started with is in force")
        settings, ts_event_ns, reason, operator = row
        return {"account_id": account_id, "settings": settings, "ts_event_ns": ts_event_ns, "reason": reason,
                "operator": operator}

    @put("/{account_id:str}/settings", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def change_settings(self, data: dict[str, Any], caller: Caller, account_id: str = ACCOUNT,
                              publisher: AccountChangePublisher = PUBLISHER,
                              pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """New risk settings for one of the caller's accounts, in force from now, with the reason: 202 once the
        change is on the accounts topic. 400 lists every field error of the settings (`settings.limits...`),
        404 for an account the caller does not own, 503 when Kafka did not take the change."""
        errors = reason_errors(data, ("reason", "settings"), "why the settings change")
        settings_problems, settings = settings_errors(account_id, data.get("settings"))
        if errors or settings_problems:
            return _bad(errors + settings_problems, "settings change")
        async with pool.connection() as conn:
            if not await _owns(conn, caller, account_id):
                raise NotFoundException(f"you have no account {account_id!r}")
        now = time.time_ns()
        change = AccountChanged(account_id=account_id, kind="SETTINGS_CHANGED", ts_event=now, ts_init=now,
                                reason=data["reason"].strip(), operator=caller.user.name, settings=settings)
        if not await asyncio.to_thread(publisher.publish, change):
            return _undelivered(account_id, caller, "settings change")
        async with pool.connection() as conn:
            await record(conn, caller.user.name, "account_settings_changed", account_id, reason=change.reason,
                         ts_event_ns=now)
        log.info("account=%s settings change published user=%s ts_event_ns=%d", account_id, caller.user.name, now)
        return Response({"account_id": account_id, "kind": change.kind, "ts_event_ns": now, "reason": change.reason,
                         "operator": change.operator, "settings": json.loads(settings)},
                        status_code=HTTP_202_ACCEPTED)

    @post("/{account_id:str}/kill-switch/trip", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def trip_kill_switch(self, data: dict[str, Any], caller: Caller, account_id: str = ACCOUNT,
                               publisher: AccountChangePublisher = PUBLISHER,
                               pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Trip the account's kill switch by hand, with the reason (kept with the event): entries are refused
        from then on and the open trades are closed at the next sweep, until a reset. 202 once the trip is on the
        accounts topic; 400 names a missing reason, 404 for an account the caller does not own, 503 when Kafka did
        not take the event."""
        return await _switch(SwitchChange("KILL_SWITCH_TRIPPED", "kill_switch_tripped", "trip", "why trading stops"),
                             data, caller, account_id, publisher, pool)

    @post("/{account_id:str}/kill-switch/reset", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def reset_kill_switch(self, data: dict[str, Any], caller: Caller, account_id: str = ACCOUNT,
                                publisher: AccountChangePublisher = PUBLISHER,
                                pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Reset the account's latched kill switch, with the reason (kept with the event): 202 once the reset is
        on the accounts topic, applied by the runner trading the account. 400 names a missing reason, 404 for an
        account the caller does not own, 503 when Kafka did not take the event."""
        return await _switch(SwitchChange("KILL_SWITCH_RESET", "kill_switch_reset", "reset", "why trading may resume"),
                             data, caller, account_id, publisher, pool)


@dataclass(frozen=True, slots=True)
class SwitchChange:
    """A change of the kill switch: the event's kind, its record's action, its name in messages and what its
    reason must say."""

    kind: str
    action: str
    name: str
    why: str


async def _switch(what: SwitchChange, data: dict[str, Any], caller: Caller, account_id: str,
                  publisher: AccountChangePublisher, pool: AsyncConnectionPool) -> Response[dict[str, object]]:
    errors = reason_errors(data, why=what.why)
    if errors:
        return _bad(errors, f"kill-switch {what.name}")
    async with pool.connection() as conn:
        if not await _owns(conn, caller, account_id):
            raise NotFoundException(f"you have no account {account_id!r}")
    now = time.time_ns()
    change = AccountChanged(account_id=account_id, kind=what.kind, ts_event=now, ts_init=now,
                            reason=data["reason"].strip(), operator=caller.user.name)
    if not await asyncio.to_thread(publisher.publish, change):
        return _undelivered(account_id, caller, what.name)
    async with pool.connection() as conn:
        await record(conn, caller.user.name, what.action, account_id, reason=change.reason, ts_event_ns=now)
    log.info("account=%s kill switch %s published user=%s ts_event_ns=%d", account_id, what.name, caller.user.name, now)
    return Response({"account_id": account_id, "kind": change.kind, "ts_event_ns": now, "reason": change.reason,
                     "operator": change.operator}, status_code=HTTP_202_ACCEPTED)

"""The caller's accounts, and the reset of an account's latched kill switch.

    GET  /api/accounts                               the accounts the caller owns, each with its last kill-switch
                                                     reset and settings change (as the sink stored them)
    POST /api/accounts/{account_id}/kill-switch/reset   {"reason": ...}: publish the reset (202)

A reset is the same event `tradestream account reset-kill-switch` publishes: an `AccountChanged` of kind
KILL_SWITCH_RESET on the accounts topic, keyed by the account, with the reason and the caller's name as its
operator; the strategy runner trading the account applies it in order with the prints, so an audit replay sees
it too. The API answers 202 once Kafka has the event (acks=all), and records the reset in `user_changes`.
Another user's account is a 404, as a missing one; a viewer gets 403; a reason that is missing, blank or over
MAX_REASON characters is a 400 naming `reason`; Kafka not taking the event within PUBLISH_WAIT_S is a 503.

Tripping the switch by hand needs a new kind of AccountChanged that the risk stage latches on; until then the
switch trips only on the account's drawdown limit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Protocol

from litestar import Controller, Response, get, post
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
from processors.model import AccountChanged

log = logging.getLogger(__name__)

MAX_REASON = 500
PUBLISH_WAIT_S = 10.0
ACCOUNT = Parameter(max_length=200, description="the account's id (account_id of its account file)")
PUBLISHER = Dependency(skip_validation=True)


class AccountChangePublisher(Protocol):
    """Publishes an account change and waits until Kafka has it; False when it was not delivered."""

    def publish(self, change: AccountChanged) -> bool: ...


class KafkaAccountChanges:
    """The accounts topic's producer, made at the first change (the API starts without Kafka)."""

    def __init__(self, kafka: KafkaSettings) -> None:
        self.kafka = kafka
        self._publisher: EventPublisher | None = None

    def publish(self, change: AccountChanged) -> bool:
        if self._publisher is None:
            self._publisher = EventPublisher(self.kafka, AvroCodec(self.kafka.registry_config()),
                                             client_id="tradestream-api-accounts")
        failed_before = self._publisher.failed
        self._publisher.publish(self.kafka.topic("accounts"), change.account_id, change)
        return self._publisher.flush(PUBLISH_WAIT_S) == 0 and self._publisher.failed == failed_before


ACCOUNTS = """
    select o.resource_id,
           (select json_build_object('ts_event_ns', c.ts_event_ns, 'reason', c.reason, 'operator', c.operator)
            from account_changes c where c.account_id = o.resource_id and c.kind = 'KILL_SWITCH_RESET'
            order by c.ts_event_ns desc limit 1),
           (select json_build_object('ts_event_ns', c.ts_event_ns, 'reason', c.reason, 'operator', c.operator)
            from account_changes c where c.account_id = o.resource_id and c.kind = 'SETTINGS_CHANGED'
            order by c.ts_event_ns desc limit 1)
    from ownerships o where o.kind = 'account' and o.user_id = %s
    order by o.resource_id
"""


def reason_errors(data: dict[str, Any]) -> list[dict[str, str]]:
    errors = [{"field": key, "message": "unknown field; a reset has a reason"} for key in data if key != "reason"]
    reason = data.get("reason")
    if reason is None:
        errors.append({"field": "reason", "message": "required: say why trading may resume"})
    elif not isinstance(reason, str):
        errors.append({"field": "reason", "message": "must be a string"})
    elif not reason.strip():
        errors.append({"field": "reason", "message": "must say why trading may resume (it is kept with the reset)"})
    elif len(reason) > MAX_REASON or "\x00" in reason:
        errors.append({"field": "reason", "message": f"must be at most {MAX_REASON} characters, without NUL"})
    return errors


async def _owns(conn: AsyncConnection, caller: Caller, account_id: str) -> bool:
    cursor = await conn.execute(f"select 1 where %s in ({OWNED})", (account_id, "account", caller.user.user_id))
    return await cursor.fetchone() is not None


class AccountsController(Controller):
    path = "/api/accounts"
    security = SECURITY

    @get("/")
    async def accounts(self, conn: AsyncConnection, caller: Caller) -> list[dict[str, object]]:
        """The caller's accounts, each with its last kill-switch reset and last settings change (null when none)."""
        rows = await (await conn.execute(ACCOUNTS, (caller.user.user_id,))).fetchall()
        return [{"account_id": account, "last_kill_switch_reset": reset, "last_settings_change": change}
                for account, reset, change in rows]

    @post("/{account_id:str}/kill-switch/reset", guards=[may_change], status_code=HTTP_202_ACCEPTED)
    async def reset_kill_switch(self, data: dict[str, Any], caller: Caller, account_id: str = ACCOUNT,
                                publisher: AccountChangePublisher = PUBLISHER,
                                pool: AsyncConnectionPool = POOL) -> Response[dict[str, object]]:
        """Reset the account's latched kill switch, with the reason (kept with the event): 202 once the reset is
        on the accounts topic, applied by the runner trading the account. 400 names a missing reason, 404 for an
        account the caller does not own, 503 when Kafka did not take the event."""
        errors = reason_errors(data)
        if errors:
            return Response({"status_code": 400, "detail": "invalid kill-switch reset", "errors": errors},
                            status_code=HTTP_400_BAD_REQUEST)
        async with pool.connection() as conn:
            if not await _owns(conn, caller, account_id):
                raise NotFoundException(f"you have no account {account_id!r}")
        now = time.time_ns()
        change = AccountChanged(account_id=account_id, kind="KILL_SWITCH_RESET", ts_event=now, ts_init=now,
                                reason=data["reason"].strip(), operator=caller.user.name)
        if not await asyncio.to_thread(publisher.publish, change):
            log.error("account=%s kill switch reset not delivered to Kafka user=%s", account_id, caller.user.name)
            return Response({"status_code": 503, "detail": "the reset was not delivered to Kafka; try again when it "
                                                           "is back"}, status_code=HTTP_503_SERVICE_UNAVAILABLE,
                            headers={"Retry-After": "5"})
        async with pool.connection() as conn:
            await record(conn, caller.user.name, "kill_switch_reset", account_id, reason=change.reason, ts_event_ns=now)
        log.info("account=%s kill switch reset published user=%s ts_event_ns=%d", account_id, caller.user.name, now)
        return Response({"account_id": account_id, "kind": change.kind, "ts_event_ns": now, "reason": change.reason,
                         "operator": change.operator}, status_code=HTTP_202_ACCEPTED)

"""The dashboard's live updates: one Kafka follower in the API process, fanned out to each user's websockets.

    GET /api/live   (websocket; the session cookie, or Authorization: Bearer <API token>)

Each message is a JSON object {"type", "topic", "record", "data"}; `data` is the event's fields as the topic
carries them (prices and amounts as decimal strings, times as integer nanoseconds UTC):

    type          topic            whose                              record
    signal        signals          the owner of the record's strategy  SignalGenerated
    order         orders.events    the owner of the record's account   OrderStatusChanged
    fill          fills            the owner of the record's account   FillExecuted
    trade         trades           the owner of the record's account   TradeUpdated
    risk          risk.decisions   the owner of the record's account   RiskDecisionMade
    kill_switch   accounts         the owner of the record's account   AccountChanged (KILL_SWITCH_TRIPPED, _RESET)
    feed          feed.status      everyone                           FeedStatusChanged
    latency       metrics.latency  everyone                           LatencyMeasured
    bar           bars             everyone (market data)             Bar

and {"type": "live", "following": true|false}: whether the updates are followed (sent on connecting and
whenever it changes; updates are those written to the topics since the API followed them, no history).

One `connectors.kafka.TopicFollower` thread reads the topics (from the first websocket on: an API nobody watches
live holds no consumer); each record goes through one queue to one task
that finds its owner (`ownerships`: a trade belongs to its account's owner, a signal to its strategy's) and
publishes it on the owner's channel of Litestar's ChannelsPlugin (`user.<id>`); each websocket subscribes to its
caller's channel and to `everyone` only, so a user never receives another's records. An owner found (or not
found) is kept OWNER_TTL_S: a grant takes effect within that time, without a query per record.

A socket's caller is checked again every RECHECK_S: a session logged out or ended, or a token revoked, closes
the socket (4401). A socket opened with the session cookie must come from a page of this origin (the Origin
header, which a browser always sends with a websocket): another site's page is refused (4403).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import psycopg
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.exceptions import WebSocketDisconnect
from psycopg_pool import AsyncConnectionPool

from api.auth import SECURITY, Authenticator, Caller
from connectors.kafka.codec import AvroCodec
from connectors.kafka.follower import TopicFollower
from connectors.kafka.settings import KafkaSettings

log = logging.getLogger(__name__)

OWNER_TTL_S = 5.0
RECHECK_S = 30.0
QUEUE_MAX = 10_000
EVERYONE = "everyone"
TOPICS = {
    # catalogue name: (message type, kind of what owns a record, the record's field naming it)
    "signals": ("signal", "strategy", "strategy"),
    "orders.events": ("order", "account", "account_id"),
    "fills": ("fill", "account", "account_id"),
    "trades": ("trade", "account", "account_id"),
    "risk.decisions": ("risk", "account", "account_id"),
    "accounts": ("kill_switch", "account", "account_id"),
    "feed.status": ("feed", None, None),
    "metrics.latency": ("latency", None, None),
    "bars": ("bar", None, None),
}
KILL_SWITCH_KINDS = frozenset({"KILL_SWITCH_TRIPPED", "KILL_SWITCH_RESET"})


def channel_of(user_id: int) -> str:
    return f"user.{user_id}"


def message(kind: str, topic: str, record: str, fields: dict[str, Any]) -> str:
    """The websocket message of a record: Decimals as strings (exact), bytes never (no such field is pushed)."""
    return json.dumps({"type": kind, "topic": topic, "record": record, "data": fields}, default=str)


class LiveUpdates:
    """The follower of the topics, the owners' look-up and the dispatch to the users' channels."""

    def __init__(self, kafka: KafkaSettings, codec: AvroCodec, channels: ChannelsPlugin) -> None:
        self.channels = channels
        self.follower = TopicFollower(kafka, codec, TOPICS, self._received)
        self._owners: dict[tuple[str, str], tuple[float, int | None]] = {}
        self._queue: asyncio.Queue[tuple[str, str, dict[str, Any]]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: AsyncConnectionPool | None = None
        self._task: asyncio.Task[None] | None = None
        self._dropped = 0

    @property
    def following(self) -> bool:
        return self.follower.following.is_set()

    def start(self, pool: AsyncConnectionPool) -> None:
        """Ready to follow (in the running event loop, with the app's pool): the follower starts with the first
        websocket, so an API that nobody watches live holds no consumer."""
        self._loop = asyncio.get_running_loop()
        self._pool = pool

    def watched(self) -> None:
        """A websocket is open: follow the topics and dispatch their records, if not yet."""
        if self._task is not None or self._loop is None:
            return
        self._queue = asyncio.Queue(QUEUE_MAX)
        self._task = asyncio.create_task(self._dispatch(self._pool), name="live-updates")
        self.follower.start()

    async def stop(self) -> None:
        if self._task is None:
            return
        await asyncio.to_thread(self.follower.stop)
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    def _received(self, topic: str, key: str | None, record: str, fields: dict[str, Any]) -> None:
        """From the follower's thread: onto the queue in the event loop."""
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(self._enqueue, topic, record, fields)
        except RuntimeError:  # the loop closed: the API is stopping and the follower with it
            log.info("topic=%s live update after the API stopped: dropped", topic)

    def _enqueue(self, topic: str, record: str, fields: dict[str, Any]) -> None:
        assert self._queue is not None
        try:
            self._queue.put_nowait((topic, record, fields))
        except asyncio.QueueFull:
            self._dropped += 1
            log.warning("topic=%s live update dropped (%d so far): the dispatch is %d records behind", topic,
                        self._dropped, QUEUE_MAX)

    async def _dispatch(self, pool: AsyncConnectionPool) -> None:
        assert self._queue is not None
        was_following = False
        while True:
            try:
                topic, record, fields = await asyncio.wait_for(self._queue.get(), 0.5)
            except TimeoutError:
                topic = ""
            if self.following != was_following:
                was_following = self.following
                self.channels.publish(json.dumps({"type": "live", "following": was_following}), EVERYONE)
            if not topic:
                continue
            kind, owned_as, field = TOPICS[topic]
            if owned_as is None:
                self.channels.publish(message(kind, topic, record, fields), EVERYONE)
                continue
            if topic == "accounts" and fields.get("kind") not in KILL_SWITCH_KINDS:
                continue
            resource = fields.get(field)
            try:
                owner = await self.owner(pool, owned_as, resource) if isinstance(resource, str) else None
            except psycopg.Error as exc:  # PostgreSQL down or the pool exhausted: this record is not pushed
                log.warning("topic=%s %s=%s live update dropped: its owner could not be looked up: %s", topic, field,
                            resource, exc)
                continue
            if owner is not None:
                self.channels.publish(message(kind, topic, record, fields), channel_of(owner))

    async def owner(self, pool: AsyncConnectionPool, kind: str, resource_id: str) -> int | None:
        """The user owning the account or strategy (None: nobody), kept OWNER_TTL_S."""
        now = time.monotonic()
        cached = self._owners.get((kind, resource_id))
        if cached is not None and cached[0] > now:
            return cached[1]
        async with pool.connection() as conn:
            row = await (await conn.execute("select user_id from ownerships where kind = %s and resource_id = %s",
                                            (kind, resource_id))).fetchone()
        if len(self._owners) > QUEUE_MAX:
            self._owners = {k: v for k, v in self._owners.items() if v[0] > now}
        self._owners[(kind, resource_id)] = (now + OWNER_TTL_S, row[0] if row else None)
        return row[0] if row else None


async def _still_there(authenticator: Authenticator, caller: Caller, token: str | None) -> bool:
    if caller.via == "session":
        return caller.session is not None and await authenticator.by_session(caller.session) is not None
    return token is not None and await authenticator.by_token(token) is not None


@websocket("/api/live", security=SECURITY)
async def live_socket(socket: WebSocket[Caller, Any, Any], channels: ChannelsPlugin) -> None:
    """Live updates of the caller's own accounts and strategies (signals, orders, fills, trades, risk decisions,
    kill-switch changes), the feed status and the bars, as JSON messages; see `api.live`."""
    caller: Caller = socket.user
    header = socket.headers.get("authorization", "")
    token = header.strip().partition(" ")[2].strip() or None
    live: LiveUpdates = socket.app.state.live
    live.watched()
    await socket.accept()
    async with channels.start_subscription([channel_of(caller.user.user_id), EVERYONE]) as subscriber:
        await socket.send_text(json.dumps({"type": "live", "following": live.following}))
        async with subscriber.run_in_background(socket.send_text):
            while True:
                try:
                    await asyncio.wait_for(socket.receive_text(), RECHECK_S)
                except TimeoutError:
                    if not await _still_there(socket.app.state.authenticator, caller, token):
                        log.info("user=%s live socket closed: logged out or revoked", caller.user.name)
                        await socket.close(code=4401, reason="logged out, or the token was revoked")
                        return
                except WebSocketDisconnect:
                    return


def channels_plugin() -> ChannelsPlugin:
    """The channels of the live updates: one per user, made when first used, and `everyone`."""
    return ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True,
                          subscriber_max_backlog=1000, subscriber_backlog_strategy="dropleft")

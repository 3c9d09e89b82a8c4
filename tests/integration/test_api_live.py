"""The live updates' websocket against the real Kafka, registry and PostgreSQL, on topics of the test's own: a
subscribed user receives the trade updates and kill-switch changes of their own accounts, another user nothing of
theirs; a client without a caller, with an unknown token, or with a session cookie from another site's page is
refused before the socket opens."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from litestar.testing.websocket_test_session import WebSocketTestSession

from api.app import create_app
from api.auth import SESSION_COOKIE
from api.live import TOPICS
from api.users import open_session
from connectors.kafka.codec import AvroCodec
from connectors.kafka.publisher import EventPublisher
from processors.model import AccountChanged
from schemas.topics import spec
from tests.integration.conftest import eventually
from tests.streams.trading_events import trade
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics

pytestmark = pytest.mark.integration
WAIT_S = 30.0


@pytest.fixture
def prefix(settings: Settings, unique: str) -> Iterator[str]:
    prefix = f"live{unique}."
    ensure_topics(settings, prefix=prefix, catalogue=tuple(spec(name) for name in TOPICS))
    yield prefix
    delete_topics(settings, [f"{prefix}{name}" for name in TOPICS])


def next_update(socket: WebSocketTestSession, types: set[str]) -> dict:
    """The socket's next message of one of `types` (the feed status and the follower's state may come between)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        left = deadline - time.monotonic()
        assert left > 0, f"no {types} message within {WAIT_S} s"
        message = json.loads(socket.receive_text(timeout=left))
        if message["type"] in types:
            return message


def test_each_user_receives_their_own_updates_only(settings: Settings, unique: str, prefix: str) -> None:
    mine, theirs = f"acct-a-{unique}", f"acct-b-{unique}"
    a = make_user(settings.database_url, f"live-a-{unique}", accounts=[mine])
    b = make_user(settings.database_url, f"live-b-{unique}", accounts=[theirs])
    kafka = settings.kafka(prefix)
    publisher = EventPublisher(kafka, AvroCodec(kafka.registry_config()), client_id="test-live")

    def publish(topic: str, key: str, event: object) -> None:
        publisher.publish(kafka.topic(topic), key, event)
        assert publisher.flush(10) == 0 and publisher.failed == 0

    api = dataclasses.replace(api_settings(settings), kafka=kafka)
    with TestClient(app=create_app(api)) as client, \
            client.websocket_connect("/api/live", headers=a.headers) as socket_a, \
            client.websocket_connect("/api/live", headers=b.headers) as socket_b:
        assert json.loads(socket_a.receive_text(timeout=WAIT_S))["type"] == "live"
        eventually(lambda: client.app.state.live.following, timeout_s=WAIT_S)

        publish("trades", mine, trade(f"{unique}-a1", mine, "breakout", 1, "OPENED", "Running",
                                      "2026-03-10T13:45:00+00:00", entry_qty=100, entry_price="500.25"))
        update = next_update(socket_a, {"trade", "order", "fill", "signal", "risk", "kill_switch"})
        assert update["type"] == "trade" and update["record"] == "TradeUpdated"
        data = update["data"]
        assert (data["trade_id"], data["account_id"], data["status"], data["entry_qty"]) == (
            f"{unique}-a1", mine, "Running", 100)
        assert data["entry_price"] == "500.25000000"

        # B's own trade, published after A's was dispatched: the next update B receives is B's (one records'
        # dispatch serves every socket in order, so A's would have come first had it been sent to B).
        publish("trades", theirs, trade(f"{unique}-b1", theirs, "breakout", 1, "OPENED", "Running",
                                        "2026-03-10T13:46:00+00:00", entry_qty=5, entry_price="10"))
        first_for_b = next_update(socket_b, {"trade", "order", "fill", "signal", "risk", "kill_switch"})
        assert first_for_b["data"]["trade_id"] == f"{unique}-b1"

        # A kill-switch change of A's account reaches A; a settings change is not pushed.
        now = time.time_ns()
        publish("accounts", mine, AccountChanged(account_id=mine, kind="SETTINGS_CHANGED", ts_event=now,
                                                 ts_init=now, reason="r", operator=a.name, settings="{}"))
        publish("accounts", mine, AccountChanged(account_id=mine, kind="KILL_SWITCH_TRIPPED", ts_event=now + 1,
                                                 ts_init=now + 1, reason="news halt", operator=a.name))
        switch = next_update(socket_a, {"trade", "order", "fill", "signal", "risk", "kill_switch"})
        assert (switch["type"], switch["data"]["kind"], switch["data"]["reason"]) == (
            "kill_switch", "KILL_SWITCH_TRIPPED", "news halt")
        # ... and B's next update is again only B's own.
        publish("trades", theirs, trade(f"{unique}-b1", theirs, "breakout", 2, "CLOSED", "Closed",
                                        "2026-03-10T13:47:00+00:00", entry_qty=5, exit_qty=5, entry_price="10"))
        assert next_update(socket_b, {"trade", "order", "fill", "signal", "risk", "kill_switch"})["data"][
            "version"] == 2


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer tsk_unknown"}], ids=["nobody", "unknown-token"])
def test_a_websocket_without_a_caller_is_refused(settings: Settings, headers: dict[str, str]) -> None:
    with TestClient(app=create_app(api_settings(settings))) as client:
        with pytest.raises(WebSocketDisconnect) as refused, client.websocket_connect("/api/live", headers=headers):
            pass
    assert refused.value.code == 4401


def test_a_session_websocket_from_another_origin_is_refused(settings: Settings, unique: str) -> None:
    user = make_user(settings.database_url, f"live-s-{unique}")
    with TestClient(app=create_app(api_settings(settings))) as client:
        session, _ = client.blocking_portal.call(_open_session, client, user.user_id, user.name)
        client.cookies.set(SESSION_COOKIE, session)
        with pytest.raises(WebSocketDisconnect) as refused, \
                client.websocket_connect("/api/live", headers={"Origin": "https://elsewhere.example"}):
            pass
        assert refused.value.code == 4403
        with client.websocket_connect("/api/live", headers={"Origin": "http://testserver.local"}) as socket:
            assert json.loads(socket.receive_text(timeout=WAIT_S))["type"] == "live"


async def _open_session(client: TestClient, user_id: int, name: str) -> tuple[str, str]:
    from api.users import Role, User

    async with client.app.state.pool.connection() as conn:
        return await open_session(conn, User(user_id, name, Role.TRADER), 1.0, "test")


def test_a_socket_is_closed_once_its_token_is_revoked(settings: Settings, unique: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import psycopg

    monkeypatch.setattr("api.live.RECHECK_S", 0.2)
    user = make_user(settings.database_url, f"live-r-{unique}")
    with TestClient(app=create_app(api_settings(settings))) as client, \
            client.websocket_connect("/api/live", headers=user.headers) as socket:
        assert json.loads(socket.receive_text(timeout=WAIT_S))["type"] == "live"
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("update api_tokens set revoked_at = now() where user_id = %s", (user.user_id,))
        with pytest.raises(WebSocketDisconnect) as closed:
            deadline = time.monotonic() + WAIT_S
            while time.monotonic() < deadline:  # feed or follower messages may come first
                socket.receive_text(timeout=WAIT_S)
        assert closed.value.code == 4401

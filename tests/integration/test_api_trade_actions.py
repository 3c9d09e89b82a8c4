"""Manual trade actions through the API, against the real PostgreSQL, Kafka and registry: each accepted request is
a TradeActionRequested on the trades.actions topic (the test's own) with the caller as operator, recorded in
user_changes; bad bodies are 400s naming the field, another user's or an unknown trade 404, a closed or waiting
trade 409, a stop or target on the wrong side of the latest price (or of each other) and an unchanged quantity 422, a viewer
403 — none of them published. A larger quantity (an add-on, which the desk decides) is published as a smaller one.

The trade (test_api_trades.insert_trade): long, 2 units, entry 4.5, stop 4.2, target 5; the symbol's newest bar
closes at 4.6 (its latest price: no print of it is stored)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from processors.model import TradeActionRequested
from schemas.topics import spec
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .test_api_trades import T0, insert_trade
from .test_strategy import topic_events

pytestmark = pytest.mark.integration


def test_manual_trade_actions_are_checked_published_and_recorded(settings: Settings, unique: str) -> None:
    prefix = f"act{unique}."
    ensure_topics(settings, prefix=prefix, catalogue=(spec("trades.actions"),))
    mine, theirs, symbol = f"A-{unique}", f"B-{unique}", f"S{unique[:6]}".upper()
    owner = make_user(settings.database_url, f"owner-{unique}", accounts=[mine])
    other = make_user(settings.database_url, f"other-{unique}", accounts=[theirs])
    viewer = make_user(settings.database_url, f"viewer-{unique}", role="viewer", accounts=[f"V-{unique}"])
    running, closed, waiting, foreign = (f"{unique}-run", f"{unique}-closed", f"{unique}-wait", f"{unique}-theirs")
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        insert_trade(conn, running, mine, symbol, "Running")
        insert_trade(conn, closed, mine, symbol, "Closed")
        insert_trade(conn, waiting, mine, symbol, "Waiting")
        insert_trade(conn, foreign, theirs, symbol, "Running")
        conn.execute("insert into bars (symbol, timeframe, start, \"end\", start_ns, end_ns, session, open, high, low, "
                     "close, volume, vwap, trades, ts_init_ns) values (%s, '1m', to_timestamp(%s / 1e9), "
                     "to_timestamp(%s / 1e9), %s, %s, 'regular', 4.6, 4.6, 4.6, 4.6, 1, 4.6, 1, %s)",
                     (symbol, T0, T0 + 60 * 10**9, T0, T0 + 60 * 10**9, T0))
    api = dataclasses.replace(api_settings(settings), kafka=settings.kafka(prefix))

    def fields(response) -> list[str]:  # noqa: ANN001
        return [error["field"] for error in response.json().get("errors", [])]

    with TestClient(app=create_app(api)) as client:
        def post(trade_id: str, kind: str, body: object, who=owner):  # noqa: ANN001, ANN202
            return client.post(f"/api/trades/{trade_id}/{kind}", json=body, headers=who.headers)

        # 400: bodies
        assert (bad := post(running, "stop", {"price": "abc"})).status_code == 400 and fields(bad) == ["price"]
        assert fields(post(running, "stop", {})) == ["price"]
        assert fields(post(running, "stop", {"price": "4.123456789"})) == ["price"]
        assert fields(post(running, "target", {"price": -1})) == ["price"]
        assert fields(post(running, "quantity", {"quantity": "1"})) == ["quantity"]
        assert fields(post(running, "quantity", {"quantity": 0})) == ["quantity"]
        assert set(fields(post(running, "close", {"reason": 5, "colour": "red"}))) == {"reason", "colour"}
        assert fields(post(running, "close", [1])) == ["body"]
        # 404, 409, 403: the trade and the caller
        assert post(foreign, "close", {}).status_code == 404          # another user's: as a missing one
        assert post(f"{unique}-none", "close", {}).status_code == 404
        assert post(running, "close", {}, who=other).status_code == 404
        assert post(closed, "close", {}).status_code == 409
        assert post(waiting, "stop", {"price": "4.3"}).status_code == 409
        assert post(running, "close", {}, who=viewer).status_code == 403
        # 422: the figures against the trade
        above = post(running, "stop", {"price": "4.6"})
        assert above.status_code == 422 and above.json()["errors"] == [
            {"field": "price", "message": f"a long's stop must be below the latest price 4.6 of {symbol}, got 4.6"}]
        assert post(running, "target", {"price": "4.55"}).json()["errors"][0]["message"].startswith(
            "a long's target must be above the latest price 4.6")
        assert post(running, "quantity", {"quantity": 2}).json()["errors"] == [
            {"field": "quantity", "message": "the trade has 2 open units already"}]

        accepted = [post(running, "stop", {"price": "4.3", "reason": " tighten "}),
                    post(running, "target", {"price": 5.5}),
                    post(running, "quantity", {"quantity": 3, "reason": "add one"}),
                    post(running, "quantity", {"quantity": 1}),
                    post(running, "close", {})]
        assert [a.status_code for a in accepted] == [202] * 5, [a.text for a in accepted]
        answers = [a.json() for a in accepted]

    published = sorted((e for e in topic_events(settings, f"{prefix}trades.actions", f"read-{unique}")
                        if isinstance(e, TradeActionRequested)), key=lambda e: e.ts_event)
    assert [(e.action, e.price, e.quantity, e.operator, e.reason, e.account_id, e.trade_id) for e in published] == [
        ("MOVE_STOP", Decimal("4.3"), None, owner.name, "tighten", mine, running),
        ("MOVE_TARGET", Decimal("5.5"), None, owner.name, "", mine, running),
        ("CHANGE_QUANTITY", None, 3, owner.name, "add one", mine, running),
        ("CHANGE_QUANTITY", None, 1, owner.name, "", mine, running),
        ("CLOSE", None, None, owner.name, "", mine, running)]
    assert [e.action_id for e in published] == [a["action_id"] for a in answers]
    assert published[0].action_id == f"{running}:manual:move_stop:{published[0].ts_event}"
    with psycopg.connect(settings.database_url) as conn:
        recorded = conn.execute("select actor, action, detail->>'price', detail->>'quantity' from user_changes "
                                "where subject = %s order by change_id", (running,)).fetchall()
    assert recorded == [(owner.name, "trade_stop_moved", "4.3", None), (owner.name, "trade_target_moved", "5.5", None),
                        (owner.name, "trade_quantity_changed", None, "3"),
                        (owner.name, "trade_quantity_changed", None, "1"), (owner.name, "trade_closed", None, None)]

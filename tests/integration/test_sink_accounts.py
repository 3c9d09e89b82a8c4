"""The sink stores operators' account changes (topic accounts) once each, with the settings as JSON; a change
whose settings are not a JSON object is dead-lettered with the reason."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import psycopg
import pytest

from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from processors.model import AccountChanged
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration


def test_account_changes_are_stored_once_with_their_settings(settings: Settings, unique: str, tmp_path: Path) -> None:
    prefix = f"ac{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    account = f"A-{unique}"
    changed = AccountChanged(account_id=account, kind="SETTINGS_CHANGED", ts_event=10, ts_init=11,
                             reason="house margin 30 %", operator="ana",
                             settings=json.dumps({"account_id": account, "margin": {"maintenance_pct": "30"}}))
    reset = AccountChanged(account_id=account, kind="KILL_SWITCH_RESET", ts_event=20, ts_init=21, reason="reviewed")
    broken = AccountChanged(account_id=account, kind="SETTINGS_CHANGED", ts_event=30, ts_init=31, reason="typo",
                            settings="[1, 2]")
    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), f"acc-{unique}")
    for event in (changed, reset, changed, broken):  # the first change twice: stored once
        publisher.publish(f"{prefix}accounts", account, event)
    assert publisher.flush() == 0

    def rows() -> list[tuple]:
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute("select ts_event_ns, kind, reason, operator, settings from account_changes "
                                "where account_id = %s order by ts_event_ns", (account,)).fetchall()

    def letters() -> list[tuple]:
        with psycopg.connect(settings.database_url) as conn:
            return conn.execute("select reason from dead_letters where source_topic = %s", (f"{prefix}accounts",)
                                ).fetchall()

    sink = spawn(["sink", "--group", f"sink-{unique}"], {**os.environ, "TOPIC_PREFIX": prefix}, tmp_path / "sink.log")
    try:
        eventually(lambda: len(rows()) == 2 and letters(), timeout_s=90, what="two changes and one dead letter")
    finally:
        os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=60)
    assert rows() == [(10, "SETTINGS_CHANGED", "house margin 30 %", "ana",
                       {"account_id": account, "margin": {"maintenance_pct": "30"}}),
                      (20, "KILL_SWITCH_RESET", "reviewed", "", None)]
    assert letters() == [(f"account change of {account}: settings must be a JSON object",)]

"""The settings_changes row of a SettingsChanged record decoded by the real codec, what it refuses, and the sink
consuming the settings topic into a table whose columns the migration creates."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from connectors.kafka.codec import AvroCodec
from processors.model import SettingsChanged
from schemas.errors import DataError
from streams.sinks.rows import TABLES, upsert_sql

SETTINGS = json.dumps({"capital": "100000", "extra_half_days": ["2026-12-31"]}, sort_keys=True)
CHANGE = SettingsChanged(version=2, ts_event=1_790_000_000_000_000_000, ts_init=1_789_999_999_000_000_000,
                         reason="half-day on New Year's Eve", operator="ana", settings=SETTINGS)


def decoded(registry_stub, event: SettingsChanged) -> dict:
    codec = AvroCodec(registry_stub)
    name, value, _ = codec.decode_record(codec.encode("t.settings", event), "SettingsChanged")
    assert name == "SettingsChanged"
    return value


def test_a_settings_change_row_holds_every_field(registry_stub) -> None:
    table = TABLES["SettingsChanged"]
    row = table.row(decoded(registry_stub, CHANGE))
    assert dict(zip(table.columns, row)) == {
        "version": 2, "ts_event_ns": 1_790_000_000_000_000_000, "ts_init_ns": 1_789_999_999_000_000_000,
        "reason": "half-day on New Year's Eve", "operator": "ana", "settings": SETTINGS}
    assert table.key == ("version",) and upsert_sql(table).endswith("do nothing")


@pytest.mark.parametrize("changes, reason", [
    ({"version": 0}, "settings version 0 is below 1"),
    ({"settings": "{"}, "settings are not JSON"),
    ({"settings": "[1]"}, "settings must be a JSON object"),
])
def test_what_the_table_would_refuse_is_a_data_error(registry_stub, changes: dict, reason: str) -> None:
    with pytest.raises(DataError, match=re.escape(reason)):
        TABLES["SettingsChanged"].row(decoded(registry_stub, dataclasses.replace(CHANGE, **changes)))


def test_the_sink_consumes_the_settings_topic_into_the_migrated_table() -> None:
    from schemas.topics import spec
    from streams.sinks.postgres import SINK_TOPICS

    assert "settings" in SINK_TOPICS and spec("settings").schema == "SettingsChanged"
    assert spec("settings").key == "universal" and spec("settings").partitions == 1
    migration = (Path(__file__).resolve().parents[2] / "sql" / "009_settings_changes.sql").read_text()
    created = re.search(r"create table if not exists settings_changes \((.*?)\n\);", migration, re.S)
    assert created is not None
    columns = [line.split()[0] for line in created.group(1).strip().splitlines()]
    assert columns == list(TABLES["SettingsChanged"].columns)

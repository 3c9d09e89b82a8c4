"""The registry's REST semantics over an in-memory store: what it validates, and what it refuses."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from tradestream.schema_registry.errors import ApiError
from tradestream.schema_registry.registry import Registry
from tradestream.schema_registry.state import RegistryState

TICK = {"type": "record", "name": "Tick", "namespace": "t", "fields": [
    {"name": "symbol", "type": "string"},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 24, "scale": 8}}]}


class MemoryStore:
    """The `_schemas` topic as a list: every write applies at once, as after the broker's acknowledgement."""

    def __init__(self) -> None:
        self.state = RegistryState()
        self.lock = threading.RLock()
        self.records: list[tuple[dict[str, Any], dict[str, Any] | None]] = []

    def write(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        self.records.append((key, value))
        self.state.apply(key, value)


@pytest.fixture
def registry() -> Registry:
    return Registry(MemoryStore())  # type: ignore[arg-type]  # the store's interface, without Kafka


def body(schema: Any) -> dict[str, Any]:
    return {"schema": json.dumps(schema)}


def test_a_compatible_version_is_registered(registry: Registry) -> None:
    first = registry.register("ticks-value", body(TICK))
    v2 = {**TICK, "fields": [*TICK["fields"], {"name": "size", "type": "long", "default": 0}]}
    second = registry.register("ticks-value", body(v2))
    assert first != second
    assert [v.version for v in registry.state.live("ticks-value")] == [1, 2]


def test_a_decimal_scale_change_is_refused(registry: Registry) -> None:
    registry.register("ticks-value", body(TICK))
    cents = json.loads(json.dumps(TICK).replace('"scale": 8', '"scale": 2'))
    assert registry.test_compatibility("ticks-value", "latest", body(cents), verbose=True) == {
        "is_compatible": False,
        "messages": ["BACKWARD: price: writer type bytes decimal(24,8) cannot be read as bytes decimal(24,2) "
                     "(decimals match only with the same precision and scale)"]}
    with pytest.raises(ApiError) as refused:
        registry.register("ticks-value", body(cents))
    assert (refused.value.http_status, refused.value.error_code) == (409, 409)


def test_a_name_the_specification_forbids_is_refused_at_registration(registry: Registry) -> None:
    bad = {**TICK, "name": "trade-tick"}
    with pytest.raises(ApiError) as refused:
        registry.register("ticks-value", body(bad))
    assert (refused.value.http_status, refused.value.error_code) == (422, 42201)
    assert "trade-tick" in refused.value.message
    assert registry.state.live("ticks-value") == []


def test_a_stored_version_avro_cannot_parse_loads_and_then_blocks_with_a_422(registry: Registry) -> None:
    legacy = {**TICK, "fields": [{"name": "side", "type": {"type": "enum", "name": "Side",
                                                           "symbols": ["BUY", "BUY"]}}]}
    key = {"keytype": "SCHEMA", "subject": "ticks-value", "version": 1, "magic": 1}
    registry.state.apply(key, {"subject": "ticks-value", "version": 1, "id": 1, "schema": json.dumps(legacy),
                               "deleted": False})  # what an older registry may have stored
    assert [v.version for v in registry.state.live("ticks-value")] == [1]
    with pytest.raises(ApiError) as refused:
        registry.register("ticks-value", body(TICK))
    assert (refused.value.http_status, refused.value.error_code) == (422, 42201)
    assert "ticks-value" in refused.value.message and "NONE" in refused.value.message
    registry.set_config("ticks-value", {"compatibility": "NONE"})
    assert registry.register("ticks-value", body(TICK)) == {"id": 2}

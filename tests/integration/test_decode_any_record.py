"""The shared decoder turns ANY record into an event or a DecodeError, never another exception:
arbitrary bytes, arbitrary schema ids, and schemas of every kind registered on the real registry."""

from __future__ import annotations

import json
import struct
from decimal import Decimal

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from connectors.kafka.codec import AvroCodec
from processors.model import Bar, TradeTick
from schemas import SCHEMAS
from schemas.errors import DecodeError, UnexpectedRecordError
from tradestream.config import Settings

pytestmark = pytest.mark.integration

FOREIGN_SCHEMAS = {
    "string": '"string"',
    "long": '"long"',
    "array": '{"type": "array", "items": "string"}',
    "union": '["null", "string"]',
    "enum": '{"type": "enum", "name": "Side", "symbols": ["BUY", "SELL"]}',
    "foreign record": '{"type": "record", "name": "Foreign", "fields": [{"name": "x", "type": "long"}]}',
    "our name, other fields": '{"type": "record", "name": "Bar", "fields": [{"name": "x", "type": "string"}]}',
}


@pytest.fixture(scope="module")
def registered(settings: Settings) -> dict[str, int]:
    """Schema ids of foreign schemas and of two of ours, each under a subject of its own."""
    client = SchemaRegistryClient({"url": settings.schema_registry_url})
    ids = {}
    for kind, text in FOREIGN_SCHEMAS.items():
        subject = f"decode-any-{kind.replace(' ', '-').replace(',', '')}-value"
        ids[kind] = client.register_schema(subject, Schema(text, "AVRO"))
    for record in ("TradeTick", "Bar"):
        ids[record] = client.register_schema(f"decode-any-{record}-value", Schema(json.dumps(SCHEMAS[record]), "AVRO"))
    return ids


def test_a_primitive_schema_id_is_a_decode_error_not_a_crash(settings: Settings, registered: dict[str, int]) -> None:
    codec = AvroCodec(settings.schema_registry_url)
    record = struct.pack(">bI", 0, registered["string"]) + b"\x06abc"
    for _ in range(2):  # the second time from the refusal cache, with the same reason
        with pytest.raises(DecodeError, match="not an event record"):
            codec.decode(record)


def test_a_valid_record_of_another_type_is_refused_by_the_topics_expectation(settings: Settings) -> None:
    codec = AvroCodec(settings.schema_registry_url)
    price = Decimal("1.00")
    bar = Bar("SPY", "5m", "regular", 0, 300_000_000_000, price, price, price, price, 100, price, 1, 7)
    data = codec.encode("decode-any-bars", bar)
    assert codec.decode(data, expect="Bar") == bar
    with pytest.raises(UnexpectedRecordError, match="Bar record .* on a topic of TradeTick records"):
        codec.decode(data, expect="TradeTick")


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_bytes_under_any_schema_decode_or_raise_decode_error(settings: Settings, registered: dict[str, int],
                                                                 data: st.DataObject) -> None:
    codec = _codec(settings)
    schema_id = data.draw(st.sampled_from(sorted(registered.values())) | st.sampled_from([0, 987_654, 2**32 - 1]), label="schema id")
    body = data.draw(st.binary(max_size=300), label="body")
    magic = data.draw(st.sampled_from([0, 0, 0, 1]), label="magic")
    expect = data.draw(st.sampled_from([None, "TradeTick", "Bar"]), label="expect")
    record = data.draw(st.sampled_from([struct.pack(">bI", magic, schema_id) + body, body]), label="record")
    try:
        event = codec.decode(record, expect)
    except DecodeError:
        return
    assert isinstance(event, (TradeTick, Bar))
    assert expect is None or type(event).__name__ == expect


_CODECS: dict[str, AvroCodec] = {}


def _codec(settings: Settings) -> AvroCodec:
    """One codec for every example, so its schema caches are exercised (as in a long-running consumer)."""
    return _CODECS.setdefault(settings.schema_registry_url, AvroCodec(settings.schema_registry_url))

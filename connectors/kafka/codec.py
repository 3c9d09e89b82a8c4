"""Confluent Avro wire format over the schema registry, with fastavro.

A record on a topic is `0x00` (magic byte), the schema id as a 4-byte big-endian integer, then the
Avro binary body: exactly what Confluent's serializers write, so any standard client reads our topics.
Schemas are registered under the TopicNameStrategy subject `<topic>-value`, with compatibility
BACKWARD. Decoding resolves the writer's schema (fetched by id, cached) against our current reader
schema, so consumers keep working across compatible schema evolution.

`AvroCodec.encode(topic, event)` takes the typed event (a dataclass mirroring the .avsc);
`AvroCodec.decode(data)` returns the typed event. Malformed bytes raise `DecodeError`.
"""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import threading
import time
from typing import Any

import fastavro
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from processors import model
from processors.indicators import IndicatorSnapshot
from schemas import SCHEMAS
from schemas.errors import DecodeError, RegistryError, SchemaError, UnexpectedRecordError
from schemas.topics import CATALOGUE

MAGIC = 0
UNKNOWN_ID_RETRY_S = 60.0
_HEADER = struct.Struct(">bI")


def _event_types() -> dict[str, type]:
    types: dict[str, type] = {name: getattr(model, name) for name in SCHEMAS if hasattr(model, name)}
    types["IndicatorSnapshot"] = IndicatorSnapshot
    return types


def _array_fields(schema: dict) -> frozenset[str]:
    names = set()
    for f in schema["fields"]:
        branches = f["type"] if isinstance(f["type"], list) else [f["type"]]
        if any(isinstance(b, dict) and b.get("type") == "array" for b in branches):
            names.add(f["name"])
    return frozenset(names)


class AvroCodec:
    """Encode typed events to the Confluent wire format and back; thread-safe."""

    def __init__(self, registry: str | dict[str, Any] | SchemaRegistryClient) -> None:
        # A URL, a SchemaRegistryClient configuration (`KafkaSettings.registry_config()`, with the
        # registry's credentials), or a SchemaRegistryClient.
        if isinstance(registry, str):
            registry = {"url": registry}
        self.client = SchemaRegistryClient(registry) if isinstance(registry, dict) else registry
        self._parsed = {name: fastavro.parse_schema(schema) for name, schema in SCHEMAS.items()}
        self._types = _event_types()
        self._record_of_type = {cls: name for name, cls in self._types.items()}
        self._fields = {name: tuple(f["name"] for f in schema["fields"]) for name, schema in SCHEMAS.items()}
        self._arrays = {name: _array_fields(schema) for name, schema in SCHEMAS.items()}
        self._ids: dict[tuple[str, str], int] = {}
        self._writers: dict[int, tuple[str, Any]] = {}
        self._refused: dict[int, str] = {}  # schema ids that are not event records, with the reason
        self._unknown: dict[int, tuple[float, str]] = {}  # ids the registry did not know: until when, why
        self._lock = threading.Lock()

    # -- registration ------------------------------------------------------------------------------
    def register(self, topic: str, record: str) -> int:
        """Register `record`'s schema for `topic` (subject `<topic>-value`); returns the schema id."""
        key = (topic, record)
        schema_id = self._ids.get(key)
        if schema_id is not None:
            return schema_id
        subject = f"{topic}-value"
        try:
            schema_id = self.client.register_schema(subject, Schema(json.dumps(SCHEMAS[record]), "AVRO"))
        except SchemaRegistryError as exc:
            raise RegistryError(f"registering {record} under {subject}: {exc.error_message}",
                                exc.error_code, exc.http_status_code) from None
        with self._lock:
            self._ids[key] = schema_id
            self._writers[schema_id] = (record, self._parsed[record])
        return schema_id

    def record_name(self, event: object) -> str:
        try:
            return self._record_of_type[type(event)]
        except KeyError:
            raise SchemaError(f"{type(event).__name__} is not an event type with a schema") from None

    # -- encoding ----------------------------------------------------------------------------------
    def to_record(self, event: object) -> dict[str, Any]:
        record = self.record_name(event)
        return {name: getattr(event, name) for name in self._fields[record]}

    def encode(self, topic: str, event: object) -> bytes:
        record = self.record_name(event)
        return self.encode_record(topic, record, {name: getattr(event, name) for name in self._fields[record]})

    def encode_record(self, topic: str, record: str, value: dict[str, Any]) -> bytes:
        schema_id = self.register(topic, record)
        buffer = io.BytesIO()
        buffer.write(_HEADER.pack(MAGIC, schema_id))
        try:
            fastavro.schemaless_writer(buffer, self._parsed[record], value)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise SchemaError(f"{record} does not fit its schema: {exc}") from None
        return buffer.getvalue()

    # -- decoding ----------------------------------------------------------------------------------
    def _writer(self, schema_id: int) -> tuple[str, Any]:
        writer = self._writers.get(schema_id)
        if writer is not None:
            return writer
        refused = self._refused.get(schema_id)
        if refused is not None:
            raise DecodeError(refused)
        unknown_until, reason = self._unknown.get(schema_id, (0.0, ""))
        if time.monotonic() < unknown_until:
            raise DecodeError(reason)
        try:
            registered = self.client.get_schema(schema_id)
        except SchemaRegistryError as exc:
            # Asked again only after a while: a flood of records with made-up ids must not become a
            # flood of registry requests. (A record is written after its schema is registered, so an id
            # unknown now was almost surely never registered here.)
            reason = f"unknown schema id {schema_id}: {exc.error_message}"
            with self._lock:
                self._unknown[schema_id] = (time.monotonic() + UNKNOWN_ID_RETRY_S, reason)
            raise DecodeError(reason) from None
        try:
            writer = self._event_writer(schema_id, registered.schema_type, registered.schema_str)
        except DecodeError as exc:
            with self._lock:  # a schema id never changes its schema: refuse it at once next time
                self._refused[schema_id] = str(exc)
            raise
        with self._lock:
            self._writers[schema_id] = writer
        return writer

    def _event_writer(self, schema_id: int, schema_type: str | None, schema_str: str) -> tuple[str, Any]:
        """The parsed writer schema of a registered schema, if it is one of our event records."""
        if schema_type not in (None, "AVRO"):
            raise DecodeError(f"schema id {schema_id} is a {schema_type} schema, not Avro")
        try:
            schema = json.loads(schema_str)
        except ValueError:
            raise DecodeError(f"schema id {schema_id} is not valid JSON") from None
        if not isinstance(schema, dict) or schema.get("type") != "record":
            kind = schema.get("type") if isinstance(schema, dict) else schema
            raise DecodeError(f"schema id {schema_id} is a {str(kind)[:40]!r} schema, not an event record")
        name = schema.get("name")
        if name not in SCHEMAS:
            raise DecodeError(f"schema id {schema_id} is record {str(name)[:80]!r}, not a tradestream event")
        # The writer's schema is usually our own: then decode with our parsed schema as both writer and
        # reader, which skips fastavro's schema resolution (twice as fast for a TradeTickBatch).
        if SCHEMAS[name] == schema:
            return name, self._parsed[name]
        try:
            return name, fastavro.parse_schema(schema)
        except (fastavro.schema.SchemaParseException, fastavro.schema.UnknownType, ValueError, TypeError,
                KeyError, AttributeError) as exc:
            raise DecodeError(f"schema id {schema_id} ({name}) does not parse: {exc}") from None

    def decode_record(self, data: bytes | None, expect: str | None = None) -> tuple[str, dict[str, Any], int]:
        """Decode to (record name, field dict, schema id). Any bytes either decode or raise DecodeError:
        malformed bytes, a schema id that is unknown or not one of our event records, and (with `expect`,
        the record type the topic's catalogue entry allows) another record type (UnexpectedRecordError)."""
        if data is None or len(data) < _HEADER.size:
            raise DecodeError("record is empty or shorter than the 5-byte Confluent header")
        magic, schema_id = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise DecodeError(f"magic byte is {magic}, not 0: not Confluent Avro wire format")
        name, writer = self._writer(schema_id)
        if expect is not None and name != expect:
            raise UnexpectedRecordError(f"{name} record (schema id {schema_id}) on a topic of {expect} records")
        reader = self._parsed.get(name)
        stream = io.BytesIO(data)
        stream.seek(_HEADER.size)
        try:
            value = fastavro.schemaless_reader(stream, writer, reader if reader is not writer else None)
        except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, KeyError, OverflowError,
                MemoryError, fastavro.read.SchemaResolutionError) as exc:
            raise DecodeError(f"{name} body with schema id {schema_id} does not decode: {exc!r}") from None
        if stream.tell() != len(data):
            raise DecodeError(f"{name} body has {len(data) - stream.tell()} trailing bytes")
        return name, value, schema_id

    def decode(self, data: bytes | None, expect: str | None = None) -> object:
        """The typed event of a record (see `decode_record`)."""
        name, value, _ = self.decode_record(data, expect)
        cls = self._types.get(name)
        if cls is None:
            raise DecodeError(f"no event type for record {name}")
        for array_field in self._arrays.get(name, ()):
            if array_field in value and isinstance(value[array_field], list):
                value[array_field] = tuple(value[array_field])
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in value.items() if k in known})
        except (TypeError, ValueError) as exc:
            raise DecodeError(f"{name} record does not make an event: {exc}") from None


def register_all(registry: str | dict[str, Any], prefix: str = "ts.") -> dict[str, int]:
    """Register every catalogue topic's value schema with compatibility BACKWARD; returns ids by subject.
    `registry`: a URL, or a client configuration with credentials (`KafkaSettings.registry_config()`)."""
    codec = AvroCodec(registry)
    ids = {}
    for spec in CATALOGUE:
        topic = spec.full_name(prefix)
        subject = f"{topic}-value"
        try:
            codec.client.set_compatibility(subject_name=subject, level="BACKWARD")
        except SchemaRegistryError as exc:
            raise RegistryError(f"setting BACKWARD on {subject}: {exc.error_message}",
                                exc.error_code, exc.http_status_code) from None
        ids[subject] = codec.register(topic, spec.schema)
    return ids

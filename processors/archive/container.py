"""A slice as an Avro object container file with the writer schema inside, and back.

Each record of the file is an `ArchivedKafkaRecord`: the Kafka offset, timestamp, key and headers, and
the value decoded with the schema it was written with, nested as the `value` field; the file's header
holds that schema, so the file is readable in ten years by any Avro reader without the registry. The
registered schema text and id are kept in the file's metadata too (`tradestream.value_schema`,
`tradestream.value_schema_id`): with them the Kafka value is re-encoded byte for byte (`kafka_value`).
A value that is not our Avro wire format, or does not decode with its schema, is kept as it was in
`undecoded_value`, with the reason in `decode_error`; a tombstone has neither.
"""

from __future__ import annotations

import copy
import io
import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import fastavro

from processors.archive.slicing import KafkaRecord, Slice

MAGIC = 0
_HEADER = struct.Struct(">bI")
NAMESPACE = "io.tradestream.archive"
CODEC = "deflate"


def split_wire_format(value: bytes | None) -> tuple[int, bytes] | None:
    """(schema id, Avro body) of a Confluent wire-format value; None when it is not one."""
    if value is None or len(value) < _HEADER.size:
        return None
    magic, schema_id = _HEADER.unpack_from(value)
    if magic != MAGIC:
        return None
    return schema_id, value[_HEADER.size:]


def wrapper_schema(value_schema: Mapping[str, Any] | None) -> dict[str, Any]:
    """The container's record schema around a value schema (None: no decodable value in the slice)."""
    value_branches: list[Any] = ["null"]
    if value_schema is not None:
        value_branches.append(copy.deepcopy(dict(value_schema)))
    return {
        "type": "record", "name": "ArchivedKafkaRecord", "namespace": NAMESPACE,
        "doc": "One Kafka record of an archived topic partition, in offset order.",
        "fields": [
            {"name": "offset", "type": "long", "doc": "Kafka offset in the partition."},
            {"name": "timestamp_ms", "type": "long", "doc": "Kafka record timestamp, ms since the epoch UTC."},
            {"name": "key", "type": ["null", "bytes"], "doc": "Record key bytes as on the topic."},
            {"name": "headers", "doc": "Record headers in order.", "type": {"type": "array", "items": {
                "type": "record", "name": "Header",
                "fields": [{"name": "name", "type": "string"}, {"name": "value", "type": ["null", "bytes"]}]}}},
            {"name": "value", "type": value_branches, "doc": "The value, decoded with its writer schema."},
            {"name": "undecoded_value", "type": ["null", "bytes"],
             "doc": "The value bytes when they are not a decodable event (see decode_error)."},
            {"name": "decode_error", "type": ["null", "string"], "doc": "Why the value is kept as bytes."},
        ],
    }


@dataclass(frozen=True, slots=True)
class EncodedSlice:
    data: bytes
    records: int
    undecoded: int
    """Records whose value is kept as bytes (not our wire format, or not decodable)."""


def encode_slice(piece: Slice, value_schema_text: str | None) -> EncodedSlice:
    """The container file of `piece`; `value_schema_text` is the registered schema of `piece.schema_id`."""
    value_schema = json.loads(value_schema_text) if value_schema_text is not None else None
    parsed_value = fastavro.parse_schema(copy.deepcopy(value_schema)) if value_schema is not None else None
    rows = []
    undecoded = 0
    for record in piece.records:
        row: dict[str, Any] = {"offset": record.offset, "timestamp_ms": record.timestamp_ms, "key": record.key,
                               "headers": [{"name": n, "value": v} for n, v in record.headers],
                               "value": None, "undecoded_value": None, "decode_error": None}
        error = _decode_into(row, record, piece.schema_id, parsed_value)
        if error is not None:
            row["undecoded_value"], row["decode_error"] = record.value, error
            undecoded += 1
        rows.append(row)
    metadata = {"tradestream.topic": piece.topic, "tradestream.partition": str(piece.partition),
                "tradestream.first_offset": str(piece.first_offset), "tradestream.last_offset": str(piece.last_offset),
                "tradestream.window_start_ms": str(piece.window_start_ms),
                "tradestream.window_end_ms": str(piece.window_end_ms)}
    if value_schema_text is not None and piece.schema_id is not None:
        metadata["tradestream.value_schema_id"] = str(piece.schema_id)
        metadata["tradestream.value_schema"] = value_schema_text
    buffer = io.BytesIO()
    fastavro.writer(buffer, fastavro.parse_schema(wrapper_schema(value_schema)), rows, codec=CODEC,
                    metadata=metadata)
    return EncodedSlice(buffer.getvalue(), len(rows), undecoded)


def _decode_into(row: dict[str, Any], record: KafkaRecord, schema_id: int | None, parsed_value: Any) -> str | None:
    """Put the decoded value in `row`; the reason when it stays bytes (None: decoded, or a tombstone)."""
    if record.value is None:
        return None
    framed = split_wire_format(record.value)
    if framed is None:
        return "not the Avro wire format (magic byte 0 and a 4-byte schema id)"
    if record.schema_id is None or parsed_value is None or framed[0] != schema_id:
        return f"schema id {framed[0]} is not a registered event schema"
    body = io.BytesIO(framed[1])
    try:
        row["value"] = fastavro.schemaless_reader(body, parsed_value, None)
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, KeyError, OverflowError) as exc:
        return f"does not decode with schema id {framed[0]}: {exc!r}"[:500]
    if body.tell() != len(framed[1]):
        row["value"] = None
        return f"{len(framed[1]) - body.tell()} trailing bytes after the value"
    return None


@dataclass(frozen=True, slots=True)
class ContainerFile:
    metadata: dict[str, str]
    rows: list[dict[str, Any]]

    @property
    def offsets(self) -> list[int]:
        return [row["offset"] for row in self.rows]

    def kafka_value(self, row: Mapping[str, Any]) -> bytes | None:
        """The value bytes as they were on the topic."""
        if row["undecoded_value"] is not None or row["value"] is None:
            return row["undecoded_value"]
        schema_id = int(self.metadata["tradestream.value_schema_id"])
        schema = fastavro.parse_schema(json.loads(self.metadata["tradestream.value_schema"]))
        buffer = io.BytesIO()
        buffer.write(_HEADER.pack(MAGIC, schema_id))
        fastavro.schemaless_writer(buffer, schema, row["value"])
        return buffer.getvalue()


def read_container(data: bytes) -> ContainerFile:
    """Parse a container file; ValueError when it is not one (a damaged or foreign object)."""
    try:
        reader = fastavro.reader(io.BytesIO(data))
        rows = list(reader)
        metadata = {k: v.decode() if isinstance(v, bytes) else v for k, v in reader.metadata.items()}
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, KeyError, OverflowError,
            fastavro.read.SchemaResolutionError) as exc:
        raise ValueError(f"not a readable Avro container file: {exc!r}"[:300]) from None
    return ContainerFile(metadata, rows)

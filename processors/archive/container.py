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
import hashlib
import io
import json
import struct
import zlib
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


def _long(value: int) -> bytes:
    """Avro's long: zig-zag, then base-128 varint."""
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value & ~0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _bytes(value: bytes) -> bytes:
    return _long(len(value)) + value


_NULL = b"\x00"      # union branch 0 (null)
_SECOND = b"\x02"    # union branch 1


def encode_slice(piece: Slice, value_schema_text: str | None, block_bytes: int = 262_144) -> EncodedSlice:
    """The container file of `piece`; `value_schema_text` is the registered schema of `piece.schema_id`.

    Each value is decoded with its schema to prove it is one (else it is kept as bytes, with the reason), but
    the file holds the Avro body exactly as it was on the topic: the wrapper record's `value` field is the
    union's branch index followed by the body, which is the Avro binary encoding of the nested value. So the
    file's records are written here byte by byte (fastavro writes the header and the files are read with
    fastavro): decoding and encoding every value again through fastavro took three times as long.
    """
    value_schema = json.loads(value_schema_text) if value_schema_text is not None else None
    parsed_value = fastavro.parse_schema(copy.deepcopy(value_schema)) if value_schema is not None else None
    metadata = {"tradestream.topic": piece.topic, "tradestream.partition": str(piece.partition),
                "tradestream.first_offset": str(piece.first_offset), "tradestream.last_offset": str(piece.last_offset),
                "tradestream.window_start_ms": str(piece.window_start_ms),
                "tradestream.window_end_ms": str(piece.window_end_ms)}
    if value_schema_text is not None and piece.schema_id is not None:
        metadata["tradestream.value_schema_id"] = str(piece.schema_id)
        metadata["tradestream.value_schema"] = value_schema_text
    sync = hashlib.sha256(f"{piece.topic}/{piece.partition}/{piece.first_offset}".encode()).digest()[:16]
    output = io.BytesIO()
    fastavro.writer(output, fastavro.parse_schema(wrapper_schema(value_schema)), [], codec=CODEC,
                    metadata=metadata, sync_marker=sync)
    block: list[bytes] = []
    size = count = undecoded = 0
    for record in piece.records:
        body, error = _checked_body(record, piece.schema_id, parsed_value)
        parts = [_long(record.offset), _long(record.timestamp_ms),
                 _NULL if record.key is None else _SECOND + _bytes(record.key)]
        if record.headers:
            parts.append(_long(len(record.headers)))
            for name, value in record.headers:
                parts += [_bytes(name.encode()), _NULL if value is None else _SECOND + _bytes(value)]
        parts.append(_NULL)   # end of the headers array
        if error is None:
            parts += [_NULL if body is None else _SECOND + body, _NULL, _NULL]
        else:
            undecoded += 1
            parts += [_NULL, _SECOND + _bytes(record.value or b""), _SECOND + _bytes(error.encode())]
        datum = b"".join(parts)
        block.append(datum)
        size += len(datum)
        count += 1
        if size >= block_bytes:
            output.write(_block(block, sync))
            block, size = [], 0
    if block:
        output.write(_block(block, sync))
    return EncodedSlice(output.getvalue(), count, undecoded)


def _block(data: list[bytes], sync: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)   # Avro's deflate: raw, no zlib header
    compressed = compressor.compress(b"".join(data)) + compressor.flush()
    return _long(len(data)) + _long(len(compressed)) + compressed + sync


def _checked_body(record: KafkaRecord, schema_id: int | None, parsed_value: Any) -> tuple[bytes | None, str | None]:
    """(the Avro body of a value that decodes with the slice's schema, None) or (None, why it is kept as bytes);
    (None, None) for a tombstone."""
    if record.value is None:
        return None, None
    framed = split_wire_format(record.value)
    if framed is None:
        return None, "not the Avro wire format (magic byte 0 and a 4-byte schema id)"
    if record.schema_id is None or parsed_value is None or framed[0] != schema_id:
        return None, f"schema id {framed[0]} is not a registered event schema"
    body = io.BytesIO(framed[1])
    try:
        fastavro.schemaless_reader(body, parsed_value, None)
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, KeyError, OverflowError) as exc:
        return None, f"does not decode with schema id {framed[0]}: {exc!r}"[:500]
    if body.tell() != len(framed[1]):
        return None, f"{len(framed[1]) - body.tell()} trailing bytes after the value"
    return framed[1], None


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

    def kafka_values(self) -> list[bytes | None]:
        """Every row's value bytes as they were on the topic, in row order (`kafka_value` of each, with the
        schema parsed once for the file rather than once per row)."""
        schema_text = self.metadata.get("tradestream.value_schema")
        schema = fastavro.parse_schema(json.loads(schema_text)) if schema_text is not None else None
        header = (_HEADER.pack(MAGIC, int(self.metadata["tradestream.value_schema_id"]))
                  if schema is not None else b"")
        values: list[bytes | None] = []
        for row in self.rows:
            if row["undecoded_value"] is not None or row["value"] is None or schema is None:
                values.append(row["undecoded_value"])
                continue
            buffer = io.BytesIO()
            buffer.write(header)
            fastavro.schemaless_writer(buffer, schema, row["value"])
            values.append(buffer.getvalue())
        return values


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


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One record of a container file as the topic held it: the value is the Confluent wire format again."""

    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None


class _Cursor:
    """Reads Avro's primitives from one decompressed block."""

    __slots__ = ("data", "position")

    def __init__(self, data: bytes) -> None:
        self.data, self.position = data, 0

    def long(self) -> int:
        data, position = self.data, self.position
        byte = data[position]
        result, shift = byte & 0x7F, 7
        position += 1
        while byte & 0x80:
            byte = data[position]
            result |= (byte & 0x7F) << shift
            shift += 7
            position += 1
        self.position = position
        return (result >> 1) ^ -(result & 1)

    def take(self, size: int) -> bytes:
        start = self.position
        if size < 0 or start + size > len(self.data):
            raise ValueError(f"a field of {size} bytes runs past its block")
        self.position = start + size
        return self.data[start:start + size]

    def optional_bytes(self) -> bytes | None:
        branch = self.long()
        return None if branch == 0 else self.take(self.long())


def stored_records(data: bytes) -> tuple[dict[str, str], list[StoredRecord]]:
    """(metadata, records) of a container file with each value as the topic held it, read in one pass.

    The file holds each value's Avro body exactly as it was on the topic (`encode_slice`), so the wire format
    is the body cut out of the block behind the schema id: the value is decoded once to find where it ends,
    and never re-encoded (`read_container` then `kafka_values` decoded every value into a dict and encoded it
    again, which made the archive's reads cost as much as the replay's own decoding). Gives the same values
    as `kafka_values`; ValueError when the file is not one of ours (a damaged or foreign object)."""
    stream = io.BytesIO(data)
    try:
        reader = fastavro.reader(stream)
        metadata = {k: v.decode() if isinstance(v, bytes) else v for k, v in reader.metadata.items()}
        codec = reader.codec
        sync = reader._header["sync"]
        schema_text = metadata.get("tradestream.value_schema")
        value_schema = fastavro.parse_schema(json.loads(schema_text)) if schema_text is not None else None
        header = (_HEADER.pack(MAGIC, int(metadata["tradestream.value_schema_id"]))
                  if value_schema is not None else b"")
        records: list[StoredRecord] = []
        cursor = _Cursor(data)
        cursor.position = stream.tell()
        while cursor.position < len(data):
            count, size = cursor.long(), cursor.long()
            raw = cursor.take(size)
            if cursor.take(len(sync)) != sync:
                raise ValueError("a block does not end with the file's sync marker")
            block = _Cursor(zlib.decompress(raw, -15) if codec == CODEC else raw)
            if codec not in (CODEC, "null"):
                raise ValueError(f"codec {codec!r} is not one the archive writes")
            body = io.BytesIO(block.data)
            for _ in range(count):
                offset, timestamp_ms, key = block.long(), block.long(), block.optional_bytes()
                while (headers := block.long()) != 0:   # the headers array, in blocks; not a Kafka value's part
                    if headers < 0:
                        block.long()
                        headers = -headers
                    for _ in range(headers):
                        block.take(block.long())
                        block.optional_bytes()
                value: bytes | None = None
                if block.long() != 0:
                    if value_schema is None:
                        raise ValueError("a decoded value in a file without a value schema")
                    start = block.position
                    body.seek(start)
                    fastavro.schemaless_reader(body, value_schema, None)
                    block.position = body.tell()
                    value = header + block.data[start:block.position]
                undecoded = block.optional_bytes()
                if undecoded is not None:
                    value = undecoded
                block.optional_bytes()   # decode_error: why the value was kept as bytes
                records.append(StoredRecord(offset, timestamp_ms, key, value))
            if block.position != len(block.data):
                raise ValueError(f"a block has {len(block.data) - block.position} bytes after its {count} records")
    except (EOFError, ValueError, TypeError, IndexError, UnicodeDecodeError, KeyError, OverflowError, zlib.error,
            fastavro.read.SchemaResolutionError) as exc:
        raise ValueError(f"not a readable Avro container file: {exc!r}"[:300]) from None
    return metadata, records

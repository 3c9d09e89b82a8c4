"""The signed daily root and the Avro container of a slice."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json

import fastavro
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from processors.archive.container import encode_slice, read_container, split_wire_format
from processors.archive.root import (ChainHead, DailyRoot, day_end_ms, open_root, public_key_text, sign_root,
                                     signing_key, verify_key)
from processors.archive.slicing import KafkaRecord, Slice

SEED = bytes(range(32))
KEY_TEXT = base64.b64encode(SEED).decode()
SCHEMA = {"type": "record", "name": "Probe", "fields": [{"name": "n", "type": "long"}, {"name": "s", "type": "string"}]}


def root() -> DailyRoot:
    head = ChainHead(topic="ts.fills", partition=0, head_manifest_key="m/1", head_manifest_sha256="ab" * 32,
                     manifests=2, last_offset=19)
    return DailyRoot(day="2026-12-05", chains=(head,), previous_root_sha256="0" * 64)


def test_day_end_is_the_next_midnight_utc() -> None:
    assert day_end_ms(dt.date(1970, 1, 1)) == 86_400_000


def test_a_signed_root_opens_with_the_public_key_only() -> None:
    key = signing_key(KEY_TEXT)
    document = sign_root(root(), key)
    public = verify_key(public_key_text(key))
    assert open_root(document, public) == root()
    assert json.loads(document)["public_key"] == public_key_text(key)


def test_a_changed_root_or_another_key_fails() -> None:
    document = sign_root(root(), signing_key(KEY_TEXT))
    public = signing_key(KEY_TEXT).public_key()
    with pytest.raises(ValueError, match="signature does not verify"):
        open_root(document.replace(b'"last_offset":19', b'"last_offset":18'), public)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ValueError, match="signature does not verify"):
        open_root(document, other.public_key())
    # A document re-signed by another key (its own public key inside) is still refused.
    with pytest.raises(ValueError, match="signature does not verify"):
        open_root(sign_root(root(), other), public)


def test_keys_are_checked_without_echoing_them() -> None:
    with pytest.raises(ValueError, match="ARCHIVE_SIGNING_KEY must be 32 bytes") as error:
        signing_key(base64.b64encode(b"short").decode())
    assert "c2hvcnQ" not in str(error.value)
    with pytest.raises(ValueError, match="ARCHIVE_VERIFY_KEY is not base64"):
        verify_key("not base64!")
    raw = Ed25519PrivateKey.from_private_bytes(SEED).private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    assert raw == SEED


def framed(schema_id: int, value: dict) -> bytes:
    buffer = io.BytesIO()
    buffer.write(b"\x00" + schema_id.to_bytes(4, "big"))
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(dict(SCHEMA)), value)
    return buffer.getvalue()


def test_split_wire_format() -> None:
    assert split_wire_format(b"\x00\x00\x00\x01\x07body") == (263, b"body")
    assert split_wire_format(b"\x01\x00\x00\x00\x01") is None and split_wire_format(b"\x00") is None
    assert split_wire_format(None) is None


def test_a_slice_reads_back_with_its_schema_inside_and_the_kafka_bytes_rebuilt() -> None:
    good = framed(42, {"n": 5, "s": "five"})
    records = (KafkaRecord(10, 1_000, b"SPY", good, (("h", b"1"),), 42),
               KafkaRecord(11, 1_001, None, b"\x05junk", (), None),
               KafkaRecord(12, 1_002, b"SPY", None, (), None),
               KafkaRecord(13, 1_003, None, good[:-2], (), 42))
    encoded = encode_slice(Slice("ts.fills", 1, 0, 3_600_000, 9, 13, 42, records), json.dumps(SCHEMA))
    assert (encoded.records, encoded.undecoded) == (4, 2)
    container = read_container(encoded.data)
    assert container.offsets == [10, 11, 12, 13]
    first, junk, tombstone, cut = container.rows
    assert first["value"] == {"n": 5, "s": "five"} and first["key"] == b"SPY"
    assert first["headers"] == [{"name": "h", "value": b"1"}]
    assert container.kafka_value(first) == good
    assert junk["undecoded_value"] == b"\x05junk" and "not the Avro wire format" in junk["decode_error"]
    assert tombstone["value"] is None and tombstone["undecoded_value"] is None and container.kafka_value(tombstone) is None
    assert cut["undecoded_value"] == good[:-2] and "does not decode" in cut["decode_error"]
    assert container.metadata["tradestream.first_offset"] == "9"
    assert json.loads(container.metadata["tradestream.value_schema"]) == SCHEMA
    # Any Avro reader sees the value schema nested in the file's own schema.
    reader = fastavro.reader(io.BytesIO(encoded.data))
    value_field = next(f for f in reader.writer_schema["fields"] if f["name"] == "value")
    assert value_field["type"][1]["fields"] == SCHEMA["fields"]


def test_a_damaged_file_is_refused() -> None:
    encoded = encode_slice(Slice("t", 0, 0, 1000, 0, 0, None, (KafkaRecord(0, 0, None, b"x"),)), None)
    with pytest.raises(ValueError, match="not a readable Avro container"):
        read_container(encoded.data[:40])


def test_many_blocks_read_back_in_order_and_the_same_slice_gives_the_same_bytes() -> None:
    records = tuple(KafkaRecord(o, 2_000 + o, f"k{o}".encode(), framed(7, {"n": -o, "s": "x" * (o % 50)}),
                                (("a", None), ("b", b"")) if o % 3 else (), 7) for o in range(500))
    piece = Slice("ts.bars", 2, 0, 3_600_000, 0, 499, 7, records)
    encoded = encode_slice(piece, json.dumps(SCHEMA), block_bytes=1_000)
    assert encoded.data == encode_slice(piece, json.dumps(SCHEMA), block_bytes=1_000).data
    assert encoded.data.count(encoded.data[-16:]) > 10          # the sync marker ends each of many blocks
    container = read_container(encoded.data)
    assert container.offsets == list(range(500))
    assert [row["value"]["n"] for row in container.rows] == [-o for o in range(500)]
    assert container.rows[1]["headers"] == [{"name": "a", "value": None}, {"name": "b", "value": b""}]
    assert all(container.kafka_value(row) == record.value for row, record in zip(container.rows, records))

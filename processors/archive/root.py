"""The signed daily root: one document per UTC day over the heads of every partition's hash chain.

The root of day D names, for each chain, its last manifest whose slice starts before the end of D (key and
SHA-256), how many manifests the chain has up to it and its last offset; it carries the SHA-256 of the
previous day's root document too. It is signed with ed25519 (the archiver's key, ARCHIVE_SIGNING_KEY; the
verifier checks with the public key alone, ARCHIVE_VERIFY_KEY). Keys are 32 raw bytes in base64.
A day is sealed by its root: no slice of that day is written afterwards (`slicing.PartitionSlicer.floor_ms`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from processors.archive.manifest import canonical_json, sha256_hex

FORMAT = "tradestream-archive-root/1"
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainHead:
    topic: str
    partition: int
    head_manifest_key: str
    head_manifest_sha256: str
    manifests: int
    last_offset: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DailyRoot:
    day: str
    chains: tuple[ChainHead, ...]
    previous_root_sha256: str
    format: str = FORMAT

    def body(self) -> dict:
        body = asdict(self)
        body["chains"] = [asdict(head) for head in sorted(self.chains, key=lambda h: (h.topic, h.partition))]
        return body


def day_end_ms(day: dt.date) -> int:
    """The first millisecond after `day` (UTC)."""
    start = dt.datetime.combine(day, dt.time(0), dt.timezone.utc)
    return int(start.timestamp() * 1000) + DAY_MS


def day_of_ms(timestamp_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.timezone.utc).date()


def _key_bytes(text: str, variable: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{variable} is not base64") from None
    if len(raw) != 32:
        raise ValueError(f"{variable} must be 32 bytes in base64 (an ed25519 key), not {len(raw)} bytes")
    return raw


def signing_key(text: str, variable: str = "ARCHIVE_SIGNING_KEY") -> Ed25519PrivateKey:
    """The private key from its base64 text; ValueError naming `variable` (the text is never echoed)."""
    return Ed25519PrivateKey.from_private_bytes(_key_bytes(text, variable))


def verify_key(text: str, variable: str = "ARCHIVE_VERIFY_KEY") -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(_key_bytes(text, variable))


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def sign_root(root: DailyRoot, key: Ed25519PrivateKey) -> bytes:
    """The stored document: the root, its SHA-256, the signature over its canonical bytes, the public key."""
    body = canonical_json(root.body())
    document = {"root": root.body(), "root_sha256": sha256_hex(body),
                "signature": base64.b64encode(key.sign(body)).decode(), "public_key": public_key_text(key)}
    return canonical_json(document)


def open_root(data: bytes, key: Ed25519PublicKey) -> DailyRoot:
    """The root of a stored document whose signature `key` verifies; ValueError naming what is wrong."""
    try:
        document = json.loads(data)
        body = document["root"]
        signature = base64.b64decode(document["signature"], validate=True)
        root = DailyRoot(day=body["day"], previous_root_sha256=body["previous_root_sha256"], format=body["format"],
                         chains=tuple(ChainHead(**head) for head in body["chains"]))
    except (ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise ValueError(f"not a daily root document: {exc}"[:300]) from None
    if root.format != FORMAT:
        raise ValueError(f"root format {root.format!r}, expected {FORMAT!r}")
    try:
        key.verify(signature, canonical_json(body))
    except InvalidSignature:
        raise ValueError("the signature does not verify with ARCHIVE_VERIFY_KEY") from None
    if canonical_json(root.body()) != canonical_json(body):
        raise ValueError("the root has fields this version does not know")
    return root

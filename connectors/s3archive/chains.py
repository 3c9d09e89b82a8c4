"""Where each partition's hash chain stands, read back from the bucket (the archive keeps no other state).

The archiver resumes every partition right after the last manifest of its chain, so what the bucket holds
is the only position: a crash between writing an object and its manifest leaves an object no manifest
names, which the next run adopts (`adopt_orphans`) instead of writing the range again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from connectors.s3archive.store import ArchiveStore
from processors.archive.container import read_container
from processors.archive.manifest import GENESIS, Manifest, chain_prefix, object_key, parse_range, sha256_hex
from processors.archive.root import ChainHead, DailyRoot
from schemas.errors import ArchiveError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ManifestRef:
    """What a daily root needs of a manifest."""

    window_start_ms: int | None
    """None for the head named by the last root (its day is sealed)."""
    key: str
    sha256: str
    sequence: int
    last_offset: int


@dataclass(slots=True)
class ChainState:
    topic: str
    """The topic's name on the broker (with TOPIC_PREFIX)."""
    partition: int
    next_sequence: int = 0
    previous_hash: str = GENESIS
    next_offset: int | None = None
    refs: list[ManifestRef] = field(default_factory=list)
    """The manifests since the last root (the root's head first), for the next roots."""

    def advance(self, key: str, manifest: Manifest, data: bytes) -> None:
        digest = sha256_hex(data)
        self.refs.append(ManifestRef(manifest.window_start_ms, key, digest, manifest.sequence, manifest.last_offset))
        self.next_sequence = manifest.sequence + 1
        self.previous_hash = digest
        self.next_offset = manifest.last_offset + 1

    def head_at(self, end_ms: int) -> ChainHead | None:
        """The chain's head at `end_ms`: its last manifest whose slice starts before it."""
        heads = [ref for ref in self.refs if ref.window_start_ms is None or ref.window_start_ms < end_ms]
        if not heads:
            return None
        ref = heads[-1]
        return ChainHead(topic=self.topic, partition=self.partition, head_manifest_key=ref.key,
                         head_manifest_sha256=ref.sha256, manifests=ref.sequence + 1, last_offset=ref.last_offset)


def _chain_of(key: str, prefix: str) -> tuple[str, int]:
    parts = key[len(prefix):].split("/")
    if len(parts) != 4 or parts[0] != "manifests" or not parts[2].isdigit():
        raise ArchiveError(f"{key} is not a manifest key of this archive")
    return parts[1], int(parts[2])


def load_chains(store: ArchiveStore, prefix: str, last_root: DailyRoot | None) -> dict[tuple[str, int], ChainState]:
    """Every chain's state: from the last root's heads and the manifests written after them."""
    sealed = {(head.topic, head.partition): head for head in (last_root.chains if last_root else ())}
    by_chain: dict[tuple[str, int], list[str]] = {}
    for key in store.keys(f"{prefix}manifests/"):
        by_chain.setdefault(_chain_of(key, prefix), []).append(key)
    chains: dict[tuple[str, int], ChainState] = {}
    for (topic, partition), keys in sorted(by_chain.items()):
        chain = ChainState(topic, partition)
        head = sealed.get((topic, partition))
        if head is not None:
            if head.head_manifest_key not in keys:
                raise ArchiveError(f"the last root names {head.head_manifest_key}, which is not in the bucket")
            chain.refs.append(ManifestRef(None, head.head_manifest_key, head.head_manifest_sha256,
                                          head.manifests - 1, head.last_offset))
            chain.next_sequence, chain.previous_hash = head.manifests, head.head_manifest_sha256
            chain.next_offset = head.last_offset + 1
            keys = [key for key in keys if key > head.head_manifest_key]
        for key in keys:
            data = store.get(key)
            if data is None:
                raise ArchiveError(f"manifest {key} is listed but cannot be read")
            try:
                manifest = Manifest.from_bytes(data)
            except ValueError as exc:
                raise ArchiveError(f"manifest {key}: {exc}; run `tradestream audit verify`") from None
            if manifest.sequence != chain.next_sequence or manifest.previous_manifest_sha256 != chain.previous_hash:
                raise ArchiveError(f"manifest {key} does not continue its chain (sequence {manifest.sequence}, "
                                   f"expected {chain.next_sequence}); run `tradestream audit verify`")
            chain.advance(key, manifest, data)
        chains[(topic, partition)] = chain
    return chains


def orphan_object(store: ArchiveStore, prefix: str, chain: ChainState) -> tuple[str, bytes] | None:
    """The object written for the chain's next range whose manifest was never written (a crash between)."""
    if chain.next_offset is None:
        keys = store.keys(chain_prefix(prefix, "data", chain.topic, chain.partition))
    else:
        after = object_key(prefix, chain.topic, chain.partition, chain.next_offset - 1, chain.next_offset - 1)
        keys = store.keys(chain_prefix(prefix, "data", chain.topic, chain.partition), start_after=after)
    for key in keys[:1]:
        first, _ = parse_range(key)
        if chain.next_offset is None or first == chain.next_offset:
            data = store.get(key)
            if data is None:
                raise ArchiveError(f"object {key} is listed but cannot be read")
            try:
                read_container(data)
            except ValueError as exc:
                raise ArchiveError(f"object {key} has no manifest and does not read: {exc}") from None
            return key, data
    return None


def last_root(store: ArchiveStore, prefix: str) -> tuple[str, bytes] | None:
    key = store.last_key(f"{prefix}roots/")
    if key is None:
        return None
    data = store.get(key)
    if data is None:
        raise ArchiveError(f"root {key} is listed but cannot be read")
    return key, data

"""How the bars stage stores an open bar's trade ids (for de-duplication across restarts): in chunks,
each under its own table key, so that a state write costs what the batch added, not the size of the bar.

Each state write adds a chunk of level 0 with the ids counted since the previous write; whenever the
last ID_CHUNK_MERGE chunks of a bar have the same level they are merged into one chunk of the next
level. A bar written n times so holds fewer than ID_CHUNK_MERGE x log8(n) chunks, and each id is
rewritten about log8(n) times: an hour bar written 30 times a second has at most 42 chunks, not
108,000 to read back on recovery and delete when it closes.

No chunk's value exceeds a limit (ID_CHUNK_MAX_BYTES by default): ids that do not fit in one chunk go
in several (`split_ids`), and chunks whose merge would not fit stay as they are (`merge_last_chunks`).
The count above holds until chunks reach that size; past it a bar keeps about 8 chunks per limit of ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from processors.model import ID_SEPARATOR

ID_CHUNK_MERGE = 8  # this many id chunks of one level merge into one chunk of the next level
# A chunk's value at most: a changelog record must stay below the producer's batch and request size
# (streams.app.PRODUCER_BATCH_BYTES) and the broker's message.max.bytes, or its send fails and stops
# the worker, at every restart again.
ID_CHUNK_MAX_BYTES = 512 * 1024

Chunk = str | list[str]  # ids joined by ID_SEPARATOR, or a list where an id holds the separator


def id_key(symbol: str, timeframe: str, start: int, chunk: int, level: int) -> str:
    """Table key of one chunk of an open bar's trade ids (its position in the bar and its merge level).
    Level -1 is the key form of values written before chunks had levels."""
    if level < 0:
        return f"{symbol}|ids|{timeframe}|{start}|{chunk}"
    return f"{symbol}|ids|{timeframe}|{start}|{chunk}|{level}"


def packed_ids(ids: list[str]) -> Chunk:
    """A chunk's ids as one string joined by ID_SEPARATOR: a third smaller than a JSON list of strings and
    several times cheaper to encode. A chunk whose ids contain the separator stays a list."""
    joined = ID_SEPARATOR.join(ids)
    return joined if joined.count(ID_SEPARATOR) == len(ids) - 1 else ids


def unpacked_ids(chunk: Chunk | None) -> list[str] | None:
    return chunk.split(ID_SEPARATOR) if isinstance(chunk, str) else chunk


def merged_chunk(chunks: list[Chunk]) -> Chunk:
    """Consecutive chunks as one, in the same form (joined, or a list if any of them is one)."""
    if all(isinstance(chunk, str) for chunk in chunks):
        return ID_SEPARATOR.join(chunks)  # type: ignore[arg-type]
    return [i for chunk in chunks for i in (chunk.split(ID_SEPARATOR) if isinstance(chunk, str) else chunk)]


def chunk_fits(chunk: Chunk, limit: int) -> bool:
    """Whether a chunk's changelog value (JSON) is at most `limit` bytes. JSON writes a character in at
    most 6 bytes (\\u001f for the separator), so most chunks are settled without encoding them."""
    length = len(chunk) if isinstance(chunk, str) else sum(map(len, chunk)) + len(chunk)
    return 6 * length + 2 <= limit or len(json.dumps(chunk)) <= limit


def split_ids(ids: list[str], limit: int) -> list[tuple[int, Chunk]]:
    """`ids` as consecutive chunks that fit (halved until they do): (number of ids, packed ids)."""
    packed = packed_ids(ids)
    if len(ids) == 1 or chunk_fits(packed, limit):
        return [(len(ids), packed)]
    half = len(ids) // 2
    return split_ids(ids[:half], limit) + split_ids(ids[half:], limit)


def merge_last_chunks(key_of: Callable[[int, int], str], sizes: list[list[int]], stored: list[Chunk], limit: int,
                      writes: dict[str, Chunk], deletes: list[str]) -> None:
    """Merge the last ID_CHUNK_MERGE chunks of a bar while they have one level and their merge fits.

    `sizes` ([size, level] per chunk) and `stored` (the chunks) are the bar's, updated in place; the
    merged chunk goes into `writes` under `key_of(chunk, level)` of its new level, and the keys of the
    chunks it replaces into `deletes` (or out of `writes`, for a chunk of this write)."""
    while len(sizes) >= ID_CHUNK_MERGE and len({level for _, level in sizes[-ID_CHUNK_MERGE:]}) == 1:
        first = len(sizes) - ID_CHUNK_MERGE
        level = sizes[-1][1]
        merged = merged_chunk(stored[first:])
        if not chunk_fits(merged, limit):
            return
        for chunk in range(first, len(sizes)):
            key = key_of(chunk, level)
            if writes.pop(key, None) is None:  # a chunk written now is simply not written
                deletes.append(key)
        writes[key_of(first, level + 1)] = merged
        sizes[first:] = [[sum(size for size, _ in sizes[first:]), level + 1]]
        stored[first:] = [merged]

"""The one dead-letter builder every consumer uses: the Faust stages, the sink and the strategy runner.

A record that cannot be processed becomes a `DeadLetter` event (the reason, the original key and bytes)
published on the dead-letter topic, with the source's coordinates also in the Kafka headers, so an
operator can filter and re-drive letters without decoding them (the style guide's rule).
"""

from __future__ import annotations

import logging
import time

from processors.model import DeadLetter

log = logging.getLogger(__name__)


def dead_letter(*, stage: str, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                error_class: str, reason: str, source_index: int = -1,
                ts_init: int | None = None) -> tuple[DeadLetter, list[tuple[str, bytes]]]:
    """The letter for one rejected record (or print `source_index` of a batch record) and its headers;
    logs one line naming the stage, source and reason."""
    letter = DeadLetter(
        ts_init=time.time_ns() if ts_init is None else ts_init, stage=stage, source_topic=topic,
        source_partition=partition, source_offset=offset, error_class=error_class, reason=reason,
        key=key, value=value, source_index=source_index,
    )
    log.warning("stage=%s topic=%s partition=%d offset=%d dead-lettered: %s: %s", stage, topic, partition, offset,
                error_class, reason)
    return letter, headers_of(letter)


def headers_of(letter: DeadLetter) -> list[tuple[str, bytes]]:
    return [
        ("stage", letter.stage.encode()),
        ("error_class", letter.error_class.encode()),
        ("source_topic", letter.source_topic.encode()),
        ("source_partition", str(letter.source_partition).encode()),
        ("source_offset", str(letter.source_offset).encode()),
        ("source_index", str(letter.source_index).encode()),
    ]

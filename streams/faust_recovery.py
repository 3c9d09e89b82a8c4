"""A fix for a race in faust-streaming's recovery that loses input records after a worker restart.

What happens without it (observed with faust-streaming 0.15.3, a restarted worker, a table to recover):
1. Recovery resumes the flow early, to read the changelogs.
2. When the tables are restored, it resumes the *stream* partitions, then awaits `perform_seek()`
   (a round trip to read the committed offsets). The fetcher is running, so stream records arrive
   during that wait: some are processed, more wait in the agents' channel queues.
3. `flow_control.resume()` then clears every channel queue. The records in them are never
   delivered again: the seek already happened, and the fetcher drops the re-fetched copies whose
   offsets are below its read offset. A stage's state moves past the missing records.
4. `perform_seek()` also puts back the committed offset it read before those records were
   processed. Faust then stops committing that partition for the life of the process.
5. A partition with no committed offset yet (a topic no member has acknowledged, such as the bars
   topic right after the first worker's crash) is not sought at all. Records the fetcher returned for
   it while it was being paused at the assignment are dropped by Faust's `getmany` (it yields only
   records of active partitions), and the fetch position has moved past them: they are lost too.

The fix holds the stream partitions paused until the seek is done and the queues have been cleared.
Recovery asks to resume them; this module notes them instead. It resumes them only when
`flow_control.resume()` runs after a completed seek.
A `flow_control.resume()` while the flow is already running no longer clears the queues: nothing
stale can be in them then. The first resume after a suspension (a rebalance) still clears them.
A stream partition without a committed offset is sought to its beginning, the worker's
`consumer_auto_offset_reset` ("earliest"), as a fresh consumer would start.

6. The fetch drops records of partitions that are not active, after aiokafka has moved the fetch
   position past them. Faust hands its *live* set of active partitions to the consumer thread, whose
   `fetched_records` waits up to a second: when the set changes during that wait — and when it is
   empty, which aiokafka reads as "every partition" — records of a paused partition come back and
   Faust's `getmany` skips them. When that happens after the seek above (a stream partition held
   paused while its committed offset is read, the changelogs already paused), the records between
   the committed offset and the position are never delivered and the partition's committed offset
   never moves again. Observed when a worker took over a killed worker's partitions.

The fix for 6 takes the records of a partition that is not active out of the fetched batch and seeks
that partition back to the first of them, as if they had never been fetched: the next fetch after the
partition is resumed returns them again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import faust
from aiokafka.errors import IllegalStateError

log = logging.getLogger(__name__)


class SeekBeforeFetch:
    """Installed on one app's consumer and flow control (instance attributes, not the classes)."""

    def __init__(self, app: faust.App) -> None:
        self.app = app
        self.consumer = app.consumer
        self.flow_control = app.flow_control
        self.pending: set = set()  # stream partitions recovery asked to resume, held until after the seek
        self.seeked = False
        self._resume_partitions = self.consumer.resume_partitions
        self._perform_seek = self.consumer.perform_seek
        self._seek_to_committed = self.consumer.seek_to_committed
        self._flow_resume = self.flow_control.resume
        self._wait_next_records = self.consumer._wait_next_records
        self.consumer.resume_partitions = self.resume_partitions  # type: ignore[method-assign]
        self.consumer.perform_seek = self.perform_seek  # type: ignore[method-assign]
        self.consumer.seek_to_committed = self.seek_to_committed  # type: ignore[method-assign]
        self.flow_control.resume = self.resume_flow  # type: ignore[method-assign]
        self.consumer._wait_next_records = self.wait_next_records  # type: ignore[method-assign]
        self.unfetched = 0  # records given back by a seek (6), for the tests and the log

    def _is_changelog(self, tp) -> bool:  # noqa: ANN001 - a faust TP
        return tp.topic in self.app.tables.changelog_topics

    def resume_partitions(self, tps: Iterable) -> None:
        tps = set(tps)
        stream = {tp for tp in tps if not self._is_changelog(tp)}
        if stream:
            self.pending |= stream
            self.seeked = False
        if tps - stream:
            self._resume_partitions(tps - stream)

    async def seek_to_committed(self) -> Mapping:
        committed = await self._seek_to_committed()
        fresh = [tp for tp, offset in committed.items() if not offset and not self._is_changelog(tp)]
        for tp in fresh:  # offset 0, or the log start if retention removed it (reset policy "earliest")
            await self.consumer.seek(tp, 0)
        return committed

    async def perform_seek(self) -> None:
        await self._perform_seek()
        self.seeked = True

    def resume_flow(self) -> None:
        if not self.flow_control.is_active():
            self._flow_resume()  # suspended (a rebalance): clears the queues of the old assignment
        if self.pending and self.seeked:
            assigned = self.consumer.assignment()
            held, self.pending = self.pending, set()
            resumed = {tp for tp in held if tp in assigned}
            log.info("resuming %d stream partitions after the seek to their committed offsets", len(resumed))
            self._resume_partitions(resumed)


    async def wait_next_records(self, timeout: float) -> tuple:
        records, active = await self._wait_next_records(timeout)
        if not records or active is None:  # None: a client-only app takes every partition
            return records, active
        consumer = self.consumer
        for tp in [tp for tp in records if tp not in active and tp not in consumer._buffered_partitions]:
            returned = records.pop(tp)
            if not returned:
                continue
            try:  # synchronous, as Faust's own seek: nothing runs between the check and the seek
                consumer._thread.seek(tp, returned[0].offset)
            except IllegalStateError:  # revoked meanwhile: the new owner starts from the committed offset
                continue
            self.unfetched += len(returned)
            log.debug("%s: %d records fetched while paused, position set back to %d", tp, len(returned),
                      returned[0].offset)
        return records, active


def install(app: faust.App) -> SeekBeforeFetch:
    return SeekBeforeFetch(app)

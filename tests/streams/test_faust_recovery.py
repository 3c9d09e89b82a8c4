"""The recovery fix (streams/faust_recovery.py) on a real Faust app's consumer and flow control, driven
through the call sequence of faust-streaming's `Recovery.on_recovery_completed`."""

from __future__ import annotations

import asyncio

import faust
from faust.types import TP
from mode.utils.queues import FlowControlQueue

from streams import faust_recovery


def make_app(committed: dict[TP, int | None]) -> tuple[faust.App, set[TP], set[TP], list[tuple]]:
    """An app whose consumer's broker calls answer `committed` and record the seeks (the
    consumer thread is not started); the fix installed on it."""
    app = faust.App("recovery-fix-test", broker="kafka://localhost:1", store="memory://", web_enabled=False)
    table = app.Table("state", default=None, partitions=2)
    stream = {TP("ticks", 0), TP("ticks", 1)}
    changelog = {TP(table.changelog_topic.get_topic_name(), 0), TP(table.changelog_topic.get_topic_name(), 1)}
    consumer = app.consumer
    consumer.assignment = lambda: stream | changelog  # type: ignore[method-assign]
    rewound: list[tuple] = []

    async def seek_to_committed() -> dict[TP, int | None]:
        rewound.append(("active during the seek", frozenset(consumer._get_active_partitions())))
        return dict(committed)

    async def seek(tp: TP, offset: int) -> None:
        rewound.append(("sought", tp, offset))
    consumer.seek_to_committed = seek_to_committed  # type: ignore[method-assign]
    consumer.seek = seek  # type: ignore[method-assign]
    faust_recovery.install(app)
    return app, stream, changelog, rewound


def test_stream_partitions_stay_paused_until_the_seek_is_done_and_buffered_records_survive() -> None:
    async def scenario() -> None:
        app, stream, changelog, rewound = make_app({TP("ticks", 0): 10, TP("ticks", 1): 10})
        consumer = app.consumer
        queue = FlowControlQueue(flow_control=app.flow_control, clear_on_resume=True)

        # Assignment: Faust pauses everything, then recovery resumes the changelogs and the flow.
        consumer._set_active_tps(stream | changelog)
        consumer.pause_partitions(stream | changelog)
        consumer.resume_partitions(changelog)
        app.flow_control.resume()
        assert consumer._get_active_partitions() == changelog
        # Tables restored: recovery resumes the stream partitions, seeks, resumes the flow.
        consumer.resume_partitions(stream)
        assert consumer._get_active_partitions() == changelog  # held back
        await consumer.perform_seek()
        assert rewound == [("active during the seek", changelog)]  # no stream fetch before the seek
        assert consumer._committed_offset[TP("ticks", 0)] == 10
        queue.put_nowait("a record fetched after the seek")
        app.flow_control.resume()
        assert consumer._get_active_partitions() == stream | changelog
        assert queue.qsize() == 1  # the flow was running: nothing stale to clear

    asyncio.run(scenario())


def test_the_first_resume_after_a_suspension_still_clears_the_queues() -> None:
    async def scenario() -> None:
        app, _, _, _ = make_app({})
        queue = FlowControlQueue(flow_control=app.flow_control, clear_on_resume=True)
        app.flow_control.resume()
        queue.put_nowait("fetched before the rebalance")
        app.flow_control.suspend()
        app.flow_control.resume()
        assert queue.qsize() == 0

    asyncio.run(scenario())


def test_partitions_revoked_before_the_seek_completes_are_not_resumed() -> None:
    async def scenario() -> None:
        app, stream, changelog, _ = make_app({})
        consumer = app.consumer
        consumer._set_active_tps(stream | changelog)
        consumer.pause_partitions(stream | changelog)
        consumer.resume_partitions(stream)
        await consumer.perform_seek()
        consumer.assignment = lambda: {TP("ticks", 1)} | changelog  # type: ignore[method-assign]
        app.flow_control.resume()
        assert TP("ticks", 1) in consumer._get_active_partitions()
        assert TP("ticks", 0) not in consumer._get_active_partitions()

    asyncio.run(scenario())


def test_a_stream_partition_without_a_committed_offset_is_sought_to_its_beginning() -> None:
    """Records fetched for it while it was being paused were dropped by Faust and the fetch position
    moved past them; the configured reset policy ("earliest") is applied again, changelogs untouched."""
    async def scenario() -> None:
        changelog_0 = TP("recovery-fix-test-state-changelog", 0)
        app, _, changelog, rewound = make_app({TP("ticks", 0): 10, TP("ticks", 1): None, changelog_0: None})
        assert changelog_0 in changelog
        await app.consumer.perform_seek()
        assert rewound[1:] == [("sought", TP("ticks", 1), 0)]

    asyncio.run(scenario())


class Record:
    def __init__(self, offset: int) -> None:
        self.offset = offset


def test_records_fetched_for_a_paused_partition_are_given_back_by_a_seek_to_the_first_of_them() -> None:
    """The consumer thread can return records of a partition that is no longer active (Faust's live set
    of active partitions changed, or was empty, during the fetch wait); Faust would skip them after the
    fetch position moved past them. They are taken out and the partition is sought back to the first."""
    async def scenario() -> None:
        app = faust.App("recovery-fix-test", broker="kafka://localhost:1", store="memory://", web_enabled=False)
        consumer = app.consumer
        active_tp, paused_tp, revoked_tp = TP("ticks", 0), TP("ticks", 1), TP("ticks", 2)
        fetched = {active_tp: [Record(5), Record(6)], paused_tp: [Record(1085), Record(1086), Record(1087)],
                   revoked_tp: [Record(7)]}

        async def wait_next_records(timeout: float) -> tuple:
            return dict(fetched), {active_tp}
        sought: list[tuple[TP, int]] = []

        def seek(tp: TP, offset: int) -> None:
            if tp == revoked_tp:
                raise faust_recovery.IllegalStateError(f"{tp} is not assigned")
            sought.append((tp, offset))
        consumer._wait_next_records = wait_next_records  # type: ignore[method-assign]
        consumer._thread.seek = seek  # type: ignore[method-assign]
        fix = faust_recovery.install(app)

        records, active = await consumer._wait_next_records(1.0)
        assert records == {active_tp: fetched[active_tp]}
        assert active == {active_tp}
        assert sought == [(paused_tp, 1085)]
        assert fix.unfetched == 3

    asyncio.run(scenario())

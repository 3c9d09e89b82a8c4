"""Event-time bounds, with hand-computed times (ns)."""

from __future__ import annotations

import pytest

from processors.event_time import EventTimeBounds

S = 1_000_000_000


def test_a_print_a_day_ahead_of_its_arrival_is_refused_and_one_a_second_ahead_is_not() -> None:
    bounds = EventTimeBounds()
    arrival = 1_800_000_000 * S
    assert bounds.refusal(arrival + 1 * S, arrival) is None
    assert bounds.refusal(arrival + 60 * S, arrival) is None  # exactly the limit
    reason = bounds.refusal(arrival + 86_400 * S, arrival)
    assert reason is not None and "86400.000 s after its arrival" in reason


def test_the_earlier_of_the_arrival_stamp_and_the_record_time_is_the_arrival() -> None:
    bounds = EventTimeBounds(max_ahead_ms=1_000)
    record = 1_800_000_000 * S
    # ts_init dated ahead together with the event time: the record's time still catches it
    assert bounds.refusal(record + 3_600 * S, record + 3_600 * S, record) is not None
    assert bounds.refusal(record + S // 2, record + 3_600 * S, record) is None


def test_behind_is_unlimited_by_default_and_checked_when_set() -> None:
    arrival = 1_800_000_000 * S
    assert EventTimeBounds().refusal(arrival - 10 * 365 * 86_400 * S, arrival) is None  # a replayed decade
    bounds = EventTimeBounds(max_behind_ms=3_600_000)
    assert bounds.refusal(arrival - 3_600 * S, arrival) is None
    assert "3601.000 s before its arrival" in bounds.refusal(arrival - 3_601 * S, arrival)


@pytest.mark.parametrize("field", ["max_ahead_ms", "max_behind_ms"])
def test_negative_bounds_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        EventTimeBounds(**{field: -1})


def test_without_an_arrival_time_there_is_nothing_to_compare() -> None:
    assert EventTimeBounds().refusal(1_800_000_000 * S, 0) is None
    assert EventTimeBounds().refusal(1_800_000_000 * S, 0, 1_700_000_000 * S) is not None

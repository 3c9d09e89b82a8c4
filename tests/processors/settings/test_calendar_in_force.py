"""A run's calendar under the versions of the settings: each trading day built by the version in force when
its date began (ET midnight), amended in place as a change arrives, the same whichever order a live run and
a replay learn the versions in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.calendar import ET, NS, UTC, build_nyse_calendar
from processors.settings import (CalendarInForce, SettingsError, SettingsHistory, UniversalSettings,
                                 calendar_in_force, first_date_under)

BASE = UniversalSettings(capital=Decimal("100000"))
CLOSED_31 = UniversalSettings(capital=Decimal("100000"), extra_closed_dates=(dt.date(2026, 12, 31),),
                              regular_open=dt.time(10, 0))


def et_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=ET).timestamp()) * NS


def nyse():
    return build_nyse_calendar(dt.date(2026, 12, 21), dt.date(2027, 1, 8))


def test_first_date_under_is_the_first_et_midnight_at_or_after_the_effective_instant() -> None:
    assert first_date_under(et_ns(2026, 12, 29, 0, 0)) == dt.date(2026, 12, 29)   # exactly midnight ET
    assert first_date_under(et_ns(2026, 12, 29, 0, 0) + 1) == dt.date(2026, 12, 30)
    assert first_date_under(et_ns(2026, 12, 29, 10, 15)) == dt.date(2026, 12, 30)  # the day in progress keeps its hours
    # 23:30 ET on the 29th is 04:30 UTC on the 30th: the ET date counts, not the UTC one.
    late = int(dt.datetime(2026, 12, 30, 4, 30, tzinfo=UTC).timestamp()) * NS
    assert first_date_under(late) == dt.date(2026, 12, 30)


def test_each_day_is_built_by_the_version_in_force_when_it_began() -> None:
    history = SettingsHistory()
    history.apply(history.next_change(BASE, ts_event=et_ns(2026, 12, 1), ts_init=et_ns(2026, 12, 1), reason="start"))
    made = et_ns(2026, 12, 29, 11, 0)
    history.apply(history.next_change(CLOSED_31, ts_event=made, ts_init=made, reason="office closed on the 31st"))
    calendar = calendar_in_force(nyse(), history)
    # The 29th began under version 1 (regular open 09:30 ET); the 30th on are version 2's (10:00, the 31st closed).
    assert calendar.day(dt.date(2026, 12, 29)).open == et_ns(2026, 12, 29, 9, 30)
    assert calendar.day(dt.date(2026, 12, 30)).open == et_ns(2026, 12, 30, 10, 0)
    assert calendar.day(dt.date(2026, 12, 31)) is None
    assert calendar.day(dt.date(2027, 1, 4)).open == et_ns(2027, 1, 4, 10, 0)
    # Before the first version, the exchange's own days.
    assert calendar_in_force(nyse(), SettingsHistory()).days == nyse().days


def test_a_change_amends_the_shared_calendar_in_place_from_the_first_date_it_governs() -> None:
    in_force = CalendarInForce(nyse())
    shared = in_force.calendar                      # what the pipelines and the desk hold
    history = SettingsHistory()
    first = history.next_change(BASE, ts_event=et_ns(2026, 12, 1), ts_init=et_ns(2026, 12, 1), reason="start")
    history.apply(first)
    made = et_ns(2026, 12, 29, 11, 0)
    second = history.next_change(CLOSED_31, ts_event=made, ts_init=made, reason="office closed on the 31st")
    assert in_force.apply(first) == dt.date(2026, 12, 1)
    assert in_force.apply(second) == dt.date(2026, 12, 30)
    assert in_force.calendar is shared
    history.apply(second)
    assert shared.days == calendar_in_force(nyse(), history).days
    assert shared.day(dt.date(2026, 12, 31)) is None
    assert shared.session_at(et_ns(2026, 12, 31, 11, 0)).value == "closed"
    assert shared.session_at(et_ns(2026, 12, 30, 9, 45)).value == "pre"     # 10:00 open from the 30th
    assert shared.session_at(et_ns(2026, 12, 29, 9, 45)).value == "regular"  # the 29th kept its 09:30 open


def test_a_change_that_cannot_follow_leaves_the_calendar_as_it_was() -> None:
    in_force = CalendarInForce(nyse())
    history = SettingsHistory()
    change = history.next_change(CLOSED_31, ts_event=et_ns(2026, 12, 1), ts_init=et_ns(2026, 12, 1), reason="x")
    in_force.apply(change)
    before = list(in_force.calendar.days)
    with pytest.raises(SettingsError, match="must be 2"):
        in_force.apply(change)                       # the same version again: out of sequence
    assert in_force.calendar.days == before
    assert len(in_force.history.versions) == 1

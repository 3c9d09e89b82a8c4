"""Versions of the settings: which were in force at an instant, and back-dated or out-of-sequence changes refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

import pytest

from processors.model import SettingsChanged
from processors.settings import SettingsError, SettingsHistory, UniversalSettings

T1 = 1_790_000_000_000_000_000
T2 = T1 + 3_600 * 10**9
FIRST = UniversalSettings(capital=Decimal("100000"))
SECOND = UniversalSettings(capital=Decimal("150000"), extra_half_days=(dt.date(2026, 12, 31),))


def two_versions() -> SettingsHistory:
    history = SettingsHistory()
    history.apply(history.next_change(FIRST, ts_event=T1, ts_init=T1 - 5, reason="initial settings"))
    history.apply(history.next_change(SECOND, ts_event=T2, ts_init=T1 + 7, reason="capital added", operator="ana"))
    return history


def test_at_answers_the_settings_in_force_across_changes() -> None:
    history = two_versions()
    assert history.at(T1 - 1) is None
    assert history.at(T1) == FIRST
    assert history.at(T2 - 1) == FIRST
    assert history.at(T2) == SECOND
    assert history.at(T2 + 10**18) == SECOND
    assert [(v.version, v.effective_ns, v.reason, v.operator) for v in history.versions] == [
        (1, T1, "initial settings", ""), (2, T2, "capital added", "ana")]


def test_the_event_carries_the_settings_as_json_and_a_replay_of_the_events_gives_the_same_history() -> None:
    history = SettingsHistory()
    event = history.next_change(SECOND, ts_event=T1, ts_init=T1, reason=" why ")
    assert (event.version, event.reason) == (1, "why")
    assert json.loads(event.settings)["capital"] == "150000"
    assert json.loads(event.settings)["extra_half_days"] == ["2026-12-31"]
    replayed = SettingsHistory.of([event])
    assert replayed.at(T1) == SECOND


def test_a_back_dated_change_is_refused_and_the_history_is_unchanged() -> None:
    history = two_versions()
    with pytest.raises(SettingsError) as caught:
        history.next_change(FIRST, ts_event=T2, ts_init=T2 + 1, reason="oops")
    assert caught.value.fields == ["ts_event", "ts_event"]  # before it was made, and not after version 2
    assert "is not after version 2's effective instant" in str(caught.value)
    event = SettingsChanged(version=3, ts_event=T1 + 1, ts_init=T1, reason="late", settings=json.dumps(
        {"capital": "1"}))
    with pytest.raises(SettingsError, match="not after version 2"):
        history.apply(event)
    assert len(history.versions) == 2 and history.at(T2) == SECOND


def test_a_gap_in_versions_an_empty_reason_and_bad_settings_are_refused_together() -> None:
    history = two_versions()
    event = SettingsChanged(version=5, ts_event=T2 + 1, ts_init=T2, reason=" ",
                            settings=json.dumps({"capital": "-1", "regular_open": "9am"}))
    with pytest.raises(SettingsError) as caught:
        history.apply(event)
    assert caught.value.fields == ["version", "reason", "settings.capital", "settings.regular_open"]
    assert str(caught.value).splitlines()[0] == "version: must be 3 (the next version), got 5"
    with pytest.raises(SettingsError, match="settings: is not JSON"):
        history.apply(dataclasses.replace(event, version=3, reason="r", settings="{"))

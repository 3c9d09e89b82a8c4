"""The versions of the universal settings and the instants they took effect: which settings were in force
at any instant, so a replay decides with the settings the live run had.

    history = SettingsHistory.of(events)                     # SettingsChanged events, in topic order
    history.at(ts_ns)                                        # the settings in force then (None before the first)
    event = history.next_change(settings, ts_event=..., ts_init=now, reason="...", operator="ana")
    history.apply(event)                                     # SettingsError if back-dated or out of sequence

A change takes effect at its `ts_event` and stays in force until the next one. It is never back-dated:
its effective instant is not before the instant it was made (`ts_init`, decisions already made stand) and
is after the newest version's (a replay must not find an older instant's settings rewritten). Versions
are numbered 1, 2, 3... without a gap, so a lost or repeated event is noticed.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass

from processors.model import SettingsChanged
from processors.scanner.errors import FieldError
from processors.settings.errors import SettingsError
from processors.settings.universal import UniversalSettings, read_settings, write_settings


@dataclass(frozen=True, slots=True)
class SettingsVersion:
    """One version of the settings, in force from `effective_ns` (UTC nanoseconds) until the next."""

    version: int
    effective_ns: int
    settings: UniversalSettings
    reason: str
    operator: str = ""


def settings_of(change: SettingsChanged) -> UniversalSettings:
    """The settings a SettingsChanged event carries; SettingsError naming the problems (paths under `settings`)."""
    try:
        data = json.loads(change.settings)
    except ValueError as error:
        raise SettingsError([FieldError("settings", f"is not JSON: {error}")]) from None
    try:
        return read_settings(data)
    except SettingsError as error:
        raise SettingsError([FieldError(f"settings.{e.field}", e.message) for e in error.errors]) from None


class SettingsHistory:
    """The versions so far, oldest first; `at(ts_ns)` answers with one binary search."""

    def __init__(self) -> None:
        self._versions: list[SettingsVersion] = []
        self._starts: list[int] = []

    @classmethod
    def of(cls, changes: Iterable[SettingsChanged]) -> SettingsHistory:
        history = cls()
        for change in changes:
            history.apply(change)
        return history

    @property
    def versions(self) -> tuple[SettingsVersion, ...]:
        return tuple(self._versions)

    @property
    def latest(self) -> SettingsVersion | None:
        return self._versions[-1] if self._versions else None

    def version_at(self, ts_ns: int) -> SettingsVersion | None:
        """The version in force at `ts_ns` (the newest whose effective instant is at or before it), or None."""
        index = bisect.bisect_right(self._starts, ts_ns) - 1
        return self._versions[index] if index >= 0 else None

    def at(self, ts_ns: int) -> UniversalSettings | None:
        """The settings in force at `ts_ns`, or None before the first version."""
        version = self.version_at(ts_ns)
        return None if version is None else version.settings

    def refusal(self, version: int, ts_event: int, ts_init: int, reason: str) -> list[FieldError]:
        """Why a change numbered `version`, in force from `ts_event` and made at `ts_init`, cannot follow the
        versions so far (empty when it can)."""
        problems = []
        expected = len(self._versions) + 1
        if version != expected:
            problems.append(FieldError("version", f"must be {expected} (the next version), got {version}"))
        if ts_event < ts_init:
            problems.append(FieldError("ts_event", f"{ts_event} is before the change was made ({ts_init}): a change "
                                                   "is not back-dated, decisions already made stand"))
        latest = self.latest
        if latest is not None and ts_event <= latest.effective_ns:
            problems.append(FieldError("ts_event", f"{ts_event} is not after version {latest.version}'s effective "
                                                   f"instant {latest.effective_ns}: a change is not back-dated"))
        if not reason.strip():
            problems.append(FieldError("reason", "must say why the settings change"))
        return problems

    def apply(self, change: SettingsChanged) -> SettingsVersion:
        """Add the version `change` records; SettingsError (the history unchanged) when it is back-dated, out of
        sequence, without a reason or carries invalid settings."""
        problems = self.refusal(change.version, change.ts_event, change.ts_init, change.reason)
        try:
            settings = settings_of(change)
        except SettingsError as error:
            problems += error.errors
        if problems:
            raise SettingsError(problems)
        version = SettingsVersion(change.version, change.ts_event, settings, change.reason.strip(), change.operator)
        self._versions.append(version)
        self._starts.append(change.ts_event)
        return version

    def next_change(self, settings: UniversalSettings, *, ts_event: int, ts_init: int, reason: str,
                    operator: str = "") -> SettingsChanged:
        """The SettingsChanged event of the next version (the history is not changed: apply the event as read
        back); SettingsError when it would be back-dated or has no reason."""
        version = len(self._versions) + 1
        problems = self.refusal(version, ts_event, ts_init, reason)
        if problems:
            raise SettingsError(problems)
        return SettingsChanged(version=version, ts_event=ts_event, ts_init=ts_init, reason=reason.strip(),
                               operator=operator, settings=json.dumps(write_settings(settings), sort_keys=True))

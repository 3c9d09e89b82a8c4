"""The versions of each strategy's configuration and the instants they took effect: which configuration was in
force at any instant and whether it was enabled, so the live runner and a replay evaluate with what the operator
had set then (the StrategyChanged events of the strategies topic, `schemas/strategy_changed.avsc`).

    history = StrategyHistory({"breakout": config})   # the configurations a runner was started with
    history.apply(change)                             # a StrategyChanged; StrategyChangeError if it cannot follow
    history.version_at("breakout", ts_ns)             # the StrategyVersion in force then (None: never known)
    history.config_at("breakout", ts_ns)              # its configuration (None: deleted, or never known)
    history.enabled_at("breakout", ts_ns)             # True when it runs then

A change takes effect at its `ts_event`, the instant it was made, and stays in force until the next change of
the same strategy:
    CREATED, REPLACED   the configuration the event carries (version `version`), enabled
    ENABLED, DISABLED   the configuration before, run or not
    DELETED             no configuration: the strategy does not run (a later CREATED may bring it back)

A configuration given at start (a strategy file, or the scanner's row read from the database) is in force,
enabled, from the beginning of time until the strategy's first change; it may have been written before the topic
recorded changes, so a CREATED may follow it (the creation the topic did record). A change is refused, the
history unchanged, when it is dated before the strategy's newest version (a replay must not find an older
instant rewritten), is of an unknown kind, changes a strategy that does not exist (deleted, or never created),
creates one that exists, numbers a replacement other than the next version, or carries a configuration that does
not validate or names another strategy.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from processors.model import STRATEGY_CHANGES, StrategyChanged
from processors.scanner import ScannerConfig
from processors.scanner.errors import FieldError, ScannerConfigError
from schemas.errors import TradestreamError

GIVEN = "GIVEN"
"""The kind of a version given at start rather than read from the topic."""


class StrategyChangeError(TradestreamError, ValueError):
    """A StrategyChanged that cannot follow the strategy's versions so far: dead-letter it with `str(error)` (one
    line per problem, `field: message`); the strategy keeps the version in force. The same event fails the same
    way again, so retrying does not help."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        if not self.errors:
            raise ValueError("StrategyChangeError needs at least one FieldError")
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


@dataclass(frozen=True, slots=True)
class StrategyVersion:
    """One state of a strategy, in force from `effective_ns` (UTC nanoseconds) until its next change."""

    strategy: str
    kind: str
    """GIVEN (at start) or the StrategyChanged kind that made it."""
    effective_ns: int
    config: ScannerConfig | None
    """The configuration in force; None once deleted."""
    enabled: bool
    config_version: int = 0
    """The configuration's version number as the API numbered it (0: a configuration given at start)."""
    operator: str = ""

    @property
    def runs(self) -> bool:
        """True when the strategy is evaluated under this version."""
        return self.enabled and self.config is not None


def config_of(change: StrategyChanged) -> ScannerConfig:
    """The configuration a CREATED or REPLACED carries; StrategyChangeError naming the problems (under `config`)."""
    try:
        data = json.loads(change.config)
    except ValueError as error:
        raise StrategyChangeError([FieldError("config", f"is not JSON: {error}")]) from None
    if not isinstance(data, dict):
        raise StrategyChangeError([FieldError("config", f"must be a JSON object, got {type(data).__name__}")])
    try:
        config = ScannerConfig.from_mapping(data)
    except ScannerConfigError as error:
        raise StrategyChangeError([FieldError(f"config.{e.field}", e.message) for e in error.errors]) from None
    if config.name != change.strategy:
        raise StrategyChangeError([FieldError("config.name", f"is {config.name!r}, the event is for strategy "
                                                             f"{change.strategy!r}")])
    return config


class StrategyHistory:
    """Every strategy's versions so far, oldest first; `version_at` answers with one binary search."""

    def __init__(self, given: Mapping[str, ScannerConfig] | None = None) -> None:
        self._versions: dict[str, list[StrategyVersion]] = {}
        self._starts: dict[str, list[int]] = {}
        for name, config in (given or {}).items():
            if config.name != name:
                raise ValueError(f"given configuration {config.name!r} is filed under {name!r}")
            self._add(StrategyVersion(name, GIVEN, -(2 ** 63), config, True))

    @classmethod
    def of(cls, changes: Iterable[StrategyChanged],
           given: Mapping[str, ScannerConfig] | None = None) -> StrategyHistory:
        history = cls(given)
        for change in changes:
            history.apply(change)
        return history

    @property
    def strategies(self) -> tuple[str, ...]:
        """Every strategy with a version, by name."""
        return tuple(sorted(self._versions))

    def versions(self, strategy: str) -> tuple[StrategyVersion, ...]:
        return tuple(self._versions.get(strategy, ()))

    def latest(self, strategy: str) -> StrategyVersion | None:
        versions = self._versions.get(strategy)
        return versions[-1] if versions else None

    def version_at(self, strategy: str, ts_ns: int) -> StrategyVersion | None:
        """The version in force at `ts_ns` (the newest whose effective instant is at or before it), or None."""
        starts = self._starts.get(strategy)
        if not starts:
            return None
        index = bisect.bisect_right(starts, ts_ns) - 1
        return self._versions[strategy][index] if index >= 0 else None

    def config_at(self, strategy: str, ts_ns: int) -> ScannerConfig | None:
        version = self.version_at(strategy, ts_ns)
        return None if version is None else version.config

    def enabled_at(self, strategy: str, ts_ns: int) -> bool:
        version = self.version_at(strategy, ts_ns)
        return version is not None and version.runs

    def refusal(self, change: StrategyChanged) -> list[FieldError]:
        """Why `change` cannot follow the strategy's versions so far (empty when it can); its configuration is
        checked by `apply`."""
        if change.kind not in STRATEGY_CHANGES:
            return [FieldError("kind", f"must be one of {', '.join(STRATEGY_CHANGES)}, got {change.kind!r}")]
        problems = []
        latest = self.latest(change.strategy)
        exists = latest is not None and latest.config is not None
        if latest is not None and change.ts_event < latest.effective_ns:
            problems.append(FieldError("ts_event", f"{change.ts_event} is before the strategy's newest change "
                                                   f"({latest.kind} at {latest.effective_ns}): a change is not "
                                                   "back-dated"))
        if change.kind == "CREATED":
            if exists and latest.kind != GIVEN:  # type: ignore[union-attr]
                problems.append(FieldError("kind", f"strategy {change.strategy!r} exists already (version "
                                                   f"{latest.config_version}): a change of it is REPLACED"))  # type: ignore[union-attr]
            if change.version < 1:
                problems.append(FieldError("version", f"must be at least 1, got {change.version}"))
        elif not exists:
            problems.append(FieldError("strategy", f"{change.strategy!r} does not exist "
                                                   f"({'deleted' if latest is not None else 'never created'}): "
                                                   f"it cannot be {change.kind.lower()}"))
        elif change.kind == "REPLACED":
            expected = latest.config_version + 1  # type: ignore[union-attr]
            if latest.config_version > 0 and change.version != expected:  # type: ignore[union-attr]
                problems.append(FieldError("version", f"must be {expected} (the next version), got {change.version}"))
        return problems

    def apply(self, change: StrategyChanged) -> StrategyVersion:
        """Add the version `change` makes; StrategyChangeError (the history unchanged) when it cannot follow."""
        problems = self.refusal(change)
        config = None
        if change.kind in ("CREATED", "REPLACED"):
            try:
                config = config_of(change)
            except StrategyChangeError as error:
                problems += error.errors
        if problems:
            raise StrategyChangeError(problems)
        latest = self.latest(change.strategy)
        if change.kind in ("CREATED", "REPLACED"):
            version = StrategyVersion(change.strategy, change.kind, change.ts_event, config, True, change.version,
                                      change.operator)
        elif change.kind == "DELETED":
            version = StrategyVersion(change.strategy, change.kind, change.ts_event, None, False, 0, change.operator)
        else:
            assert latest is not None and latest.config is not None
            version = StrategyVersion(change.strategy, change.kind, change.ts_event, latest.config,
                                      change.kind == "ENABLED", latest.config_version, change.operator)
        self._add(version)
        return version

    def _add(self, version: StrategyVersion) -> None:
        self._versions.setdefault(version.strategy, []).append(version)
        self._starts.setdefault(version.strategy, []).append(version.effective_ns)

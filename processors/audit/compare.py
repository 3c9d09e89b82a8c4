"""Recorded outputs against replayed ones, per stage, matched by each event's natural id.

An event is compared on every field but `ts_init` (when the object was built: wall time live, the event's
own time in a replay). A natural id recorded several times with the same fields is one fact delivered at
least once (a bar re-sent after a worker's crash); recorded with different fields it is a difference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from processors.csvio import format_time

IGNORED_FIELDS = frozenset({"ts_init"})

MISSING_IN_REPLAY = "missing in replay"
NOT_RECORDED = "not recorded"
DIFFERS = "differs"
RECORDED_TWICE = "recorded twice, differently"
UNREADABLE = "unreadable record"


@dataclass(frozen=True, slots=True)
class Difference:
    """One way the replay did not reproduce the record: a whole event (`field` empty) or one field of it."""

    stage: str
    key: str          # the event's natural id
    kind: str         # MISSING_IN_REPLAY, NOT_RECORDED, DIFFERS, RECORDED_TWICE or UNREADABLE
    field: str
    recorded: str
    replayed: str


@dataclass(frozen=True, slots=True)
class StageComparison:
    """A stage's outcome: how many events of each side were compared, how many matched, and the differences."""

    stage: str
    recorded: int     # distinct natural ids recorded in the range
    replayed: int     # distinct natural ids the replay made
    matched: int      # ids on both sides with equal fields
    differences: tuple[Difference, ...]


def fields_of(event: object) -> dict[str, object]:
    """An event's compared fields, by name."""
    return {f.name: getattr(event, f.name) for f in dataclasses.fields(event)  # type: ignore[arg-type]
            if f.name not in IGNORED_FIELDS}


def shown(value: object) -> str:
    """A value as the report shows it."""
    if value is None:
        return ""
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    return str(value)


def bar_key(bar: object) -> str:
    """A bar's natural id: symbol, timeframe and start (as the bars stage keys its output)."""
    return f"{bar.symbol} {bar.timeframe} {format_time(bar.start)}"  # type: ignore[attr-defined]


def compare_stage(stage: str, recorded: Iterable[object], replayed: Iterable[object],
                  key: Callable[[object], str], unreadable: Iterable[str] = ()) -> StageComparison:
    """The stage's recorded events against its replayed ones, matched by `key`. `unreadable`: where records
    of the stage's topic that do not decode are (each one a difference: the record says something the
    audit cannot read)."""
    differences = [Difference(stage, where, UNREADABLE, "", "", "") for where in unreadable]
    ours = _by_key(stage, recorded, key, differences, twice_is_difference=True)
    theirs = _by_key(stage, replayed, key, [], twice_is_difference=False)
    matched = 0
    for name in sorted(ours.keys() | theirs.keys()):
        if name not in theirs:
            differences.append(Difference(stage, name, MISSING_IN_REPLAY, "", _summary(ours[name]), ""))
        elif name not in ours:
            differences.append(Difference(stage, name, NOT_RECORDED, "", "", _summary(theirs[name])))
        else:
            found = [Difference(stage, name, DIFFERS, field, shown(ours[name].get(field)),
                                shown(theirs[name].get(field)))
                     for field in sorted(ours[name].keys() | theirs[name].keys())
                     if ours[name].get(field) != theirs[name].get(field)]
            differences += found
            matched += not found
    return StageComparison(stage, len(ours), len(theirs), matched, tuple(differences))


def _by_key(stage: str, events: Iterable[object], key: Callable[[object], str], differences: list[Difference],
            twice_is_difference: bool) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for event in events:
        name, fields = key(event), fields_of(event)
        before = out.setdefault(name, fields)
        if before != fields and twice_is_difference:
            differences.append(Difference(stage, name, RECORDED_TWICE, "", _summary(before), _summary(fields)))
    return out


def _summary(fields: dict[str, object]) -> str:
    return "; ".join(f"{name}={shown(value)}" for name, value in fields.items())

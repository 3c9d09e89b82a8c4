"""Why a print is not in a bar: the codes both aggregators return, in the order they are checked."""

from __future__ import annotations

from dataclasses import dataclass

ACCEPTED = 0
INVALID = 1
OUTSIDE_SESSION = 2
LATE = 3
EXCLUDED_CONDITION = 4
DUPLICATE = 5
VOLUME_ONLY_BAR = 6  # a whole bar of volume-only prints: no OHLC, reported per bar, not per tick
REJECTION_CLASSES = {INVALID: "InvalidTick", OUTSIDE_SESSION: "OutsideSession", LATE: "LateTick",
                     EXCLUDED_CONDITION: "ExcludedCondition", DUPLICATE: "DuplicateTick",
                     VOLUME_ONLY_BAR: "VolumeOnlyBar"}
# Rejections that are errors in the data (dead-letter them); the others are expected and counted.
ERROR_REJECTIONS = frozenset({INVALID, LATE})


@dataclass(frozen=True, slots=True)
class Rejection:
    symbol: str
    ts_event: int
    trade_id: str | None
    code: int
    reason: str

    @property
    def error_class(self) -> str:
        return REJECTION_CLASSES[self.code]

    @property
    def is_error(self) -> bool:
        return self.code in ERROR_REJECTIONS

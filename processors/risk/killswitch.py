"""The kill switch as data: a latch that trips with a reason and a time, and is reset only with a reason.

While it is tripped, entries are refused (exits never are). It latches: the figures recovering does not
reset it; only an operator's `reset(reason, ts_ns)` does, and the reset is recorded beside the trip so
the event that carries the new state explains both. Tripping a tripped switch keeps the first trip's
reason and time. A reset while the day's loss is still past the limit is followed by a new trip at the
next decision (the limit still holds); to trade on, the operator raises the limit, which is a settings
change like any other.

Every transition returns a new `KillSwitch`; nothing here keeps state.
"""

from __future__ import annotations

from dataclasses import dataclass

from processors.risk.errors import RiskConfigError


@dataclass(frozen=True, slots=True)
class KillSwitch:
    tripped: bool = False
    reason: str = ""                  # why it tripped (the last trip)
    tripped_at_ns: int | None = None  # event time of the last trip
    reset_reason: str = ""            # why it was last reset
    reset_at_ns: int | None = None    # event time of the last reset

    def __post_init__(self) -> None:
        if not isinstance(self.tripped, bool):
            raise RiskConfigError("kill_switch.tripped", f"must be True or False, got {self.tripped!r}")
        if self.tripped and (not self.reason or self.tripped_at_ns is None):
            raise RiskConfigError("kill_switch.reason", "a tripped kill switch needs its reason and tripped_at_ns")

    def trip(self, reason: str, ts_ns: int) -> KillSwitch:
        """The switch tripped at `ts_ns` for `reason`; unchanged if it is tripped already (it latches)."""
        if self.tripped:
            return self
        if not isinstance(reason, str) or not reason.strip():
            raise RiskConfigError("kill_switch.reason", "a trip needs a reason")
        return KillSwitch(True, reason, ts_ns, self.reset_reason, self.reset_at_ns)

    def reset(self, reason: str, ts_ns: int) -> KillSwitch:
        """The switch reset by an operator at `ts_ns`; the reason is required, and so is a tripped switch."""
        if not isinstance(reason, str) or not reason.strip():
            raise RiskConfigError("kill_switch.reset_reason", "a reset needs the operator's reason")
        if not self.tripped:
            raise RiskConfigError("kill_switch.tripped", "the kill switch is not tripped: there is nothing to reset")
        return KillSwitch(False, self.reason, self.tripped_at_ns, reason, ts_ns)

"""One line of a risk decision's explanation: a check's name, the figure measured, its limit, the outcome.

    passed          the figure is within the limit
    capped          the check lowered the quantity (`allowed_quantity` is what it allows)
    adjusted        the check changed the order itself (the initial stop moved towards the price)
    failed          the check refuses the intent; `detail` is the reason
    not_applicable  the check does not apply (an entry limit on an exit, the day-trade count outside the
                    legacy regime); recorded so that the audit shows it was considered

`value` and `limit` are Decimals (counts too) or None when the check has no figure; `detail` says in
words what was compared, with the units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum


class CheckOutcome(str, Enum):
    PASSED = "passed"
    CAPPED = "capped"
    ADJUSTED = "adjusted"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    value: Decimal | None
    limit: Decimal | None
    outcome: CheckOutcome
    detail: str = ""
    allowed_quantity: int | None = None

    def __post_init__(self) -> None:  # counts given as ints are kept as the Decimals the figures are
        for name in ("value", "limit"):
            figure_value = getattr(self, name)
            if isinstance(figure_value, int) and not isinstance(figure_value, bool):
                object.__setattr__(self, name, Decimal(figure_value))

    @property
    def failed(self) -> bool:
        return self.outcome is CheckOutcome.FAILED


def figure(value: Decimal | int | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def passed_or_failed(name: str, value: Decimal | int | None, limit: Decimal | int | None, ok: bool,
                     detail: str) -> Check:
    return Check(name, figure(value), figure(limit), CheckOutcome.PASSED if ok else CheckOutcome.FAILED, detail)


def not_applicable(name: str, detail: str) -> Check:
    return Check(name, None, None, CheckOutcome.NOT_APPLICABLE, detail)

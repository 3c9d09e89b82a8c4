"""The one exception the risk package raises: a risk setting or a typed input that cannot be used.

    RiskConfigError     an account, a limit, a margin level, a regime period or an input record has a
                        wrong value; `field` names it (dotted, e.g. "limits.max_loss_per_trade"). Fix the
                        setting and submit it again; the same value fails the same way
                        (a `schemas.errors.TradestreamError` and a ValueError)

An intent the risk checks refuse is not an error: it becomes a rejected `RiskDecision` with the reason.
"""

from __future__ import annotations

from schemas.errors import TradestreamError


class RiskConfigError(TradestreamError, ValueError):
    """A risk setting or input record with a wrong value. Show the message; fix the named field.

    `field` is the dotted name of the field, `message` what is wrong with it and what is allowed.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

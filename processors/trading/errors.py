"""The one exception the trading desk raises: a setting, a command or a snapshot it cannot use.

    TradingDeskError    a desk setting has a wrong value (a strategy without its stop, an account given twice),
                        an operator command cannot be applied (a reset of a kill switch that is not tripped),
                        or a snapshot cannot be read. `field` names it (dotted, e.g. "strategies.breakout.stop").
                        Fix the setting or the command; the same input fails the same way again (a
                        `schemas.errors.TradestreamError` and a ValueError).

An order intent the desk cannot trade (an unknown strategy or account, a value the risk decision refuses)
is not an error: it is answered with a rejected `RiskDecisionMade` saying why.
"""

from __future__ import annotations

from schemas.errors import TradestreamError


class TradingDeskError(TradestreamError, ValueError):
    """A desk setting, operator command or snapshot with a wrong value; fix it, do not retry it unchanged.

    `field` is the dotted name of what is wrong, `message` what is wrong with it and what is allowed.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_ts(value: object, name: str) -> None:
    """TradingDeskError unless `value` is int nanoseconds UTC."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TradingDeskError(name, f"must be int nanoseconds UTC, got {value!r}")

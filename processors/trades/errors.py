"""The one exception the trade manager raises: an input it cannot apply.

    TradeError      a setting or an event has a wrong value (a float price, a quantity that is not a
                    positive int, a stop on the wrong side of the entry, an exit beyond the open
                    quantity) or names what the manager does not know (an unknown trade or request).
                    `field` names it (dotted, e.g. "entry.stop_price"). The event is refused whole and the
                    manager's state is unchanged: dead-letter the event with the message; the same event
                    fails the same way again (a `schemas.errors.TradestreamError` and a ValueError).

An exit the manager decides not to request (nothing left to close, a request already pending) is not an
error: it is simply not requested.
"""

from __future__ import annotations

from schemas.errors import TradestreamError


class TradeError(TradestreamError, ValueError):
    """A trade-manager setting or event with a wrong value. Dead-letter the event (or fix the setting) with
    the message; do not retry it unchanged.

    `field` is the dotted name of what is wrong, `message` what is wrong with it and what is allowed.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

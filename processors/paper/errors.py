"""The one exception the paper broker raises on purpose: input it cannot take at all.

    PaperBrokerError    a market-data print or bar with impossible values (a price that is not positive, a
                        negative size, a high below the low), a fill-model setting out of range, or a snapshot
                        that does not restore. `field` names the value. The stream stage dead-letters the
                        event (or stops start-up, for a setting); the same input fails the same way again.
                        (a `schemas.errors.TradestreamError` and a ValueError)

An order with bad values (a zero quantity, a price off the tick grid, a bracket stop on the wrong side, an
unknown order id) is not an error: the broker answers it with an `OrderRejected` event giving the reason.
A value of the wrong Python type (a float price, a str quantity) is a programming error: TypeError.
"""

from __future__ import annotations

from schemas.errors import TradestreamError


class PaperBrokerError(TradestreamError, ValueError):
    """Market data, a setting or a snapshot the paper broker cannot use. `field` names the value, `message`
    says what is wrong; dead-letter the event (or fix the setting) and go on."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

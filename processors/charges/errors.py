"""The errors of the charges package: bad input to a charge, and a fee schedule that cannot be used."""

from __future__ import annotations

from schemas.errors import TradestreamError


class ChargesError(TradestreamError, ValueError):
    """A charge cannot be computed from what was given (a float price, a quantity that is not positive, a
    fill of an order the caller already closed). The message names the value; fix the caller, do not retry."""


class FeeScheduleError(ChargesError):
    """The regulatory fee schedule does not parse, or has no row for a fee on a trade date. The message names
    the line or the fee and date: add or correct the row in the schedule file (with its notice) and reload."""

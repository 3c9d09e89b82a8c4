"""Subcommands of the `tradestream` CLI, one module each (see tradestream.cli)."""

from __future__ import annotations

import argparse
import datetime as dt


def date_argument(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD dates."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None

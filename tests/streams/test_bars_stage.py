"""The bars stage's processor without Faust: state reload across a rebalance."""

from __future__ import annotations


def test_bars_state_survives_a_recovery_that_restores_an_older_value() -> None:
    """After a rebalance the stage reloads from the table; if recovery put back an older changelog value
    than this process wrote, the newer own write (higher offset) wins, so no applied tick is forgotten."""
    import datetime as dt
    from decimal import Decimal

    from processors.model import TradeTick
    from streams.bars_stage import BarsProcessor, stage_calendar

    calendar = stage_calendar(dt.date(2026, 11, 25))
    opening = calendar.day(dt.date(2026, 11, 24)).open
    processor = BarsProcessor(calendar, ["5m"], "regular", 0)
    processor.load("SPY", None)
    for offset in range(3):
        processor.apply(TradeTick("SPY", opening + offset * 10**9, 0, Decimal("600"), 100, "t", str(offset)), offset)
        if offset == 0:
            older = processor.state("SPY")
    newest = processor.state("SPY")
    processor.forget()
    processor.load("SPY", older)                       # the table holds the older value after recovery
    assert processor.state("SPY") == newest and processor.loaded["SPY"] == 2
    processor.forget()
    processor.written.clear()
    processor.load("SPY", older)                       # a fresh process only has the table
    assert processor.loaded["SPY"] == 0

"""The bars stage's processor without Faust: a restart from the table's value."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.model import TradeTick
from streams.bars_stage import BarsProcessor, stage_calendar


def test_a_restarted_processor_skips_applied_offsets_and_closes_the_same_bars() -> None:
    """Offsets up to the state's are re-delivered after a crash and skipped; the bars closed are those of
    an uninterrupted run (none twice, none missing)."""
    calendar = stage_calendar(dt.date(2026, 11, 25))
    opening = calendar.day(dt.date(2026, 11, 24)).open
    ticks = [TradeTick("SPY", opening + i * 60 * 10**9, 0, Decimal(600 + i), 100, "t", str(i)) for i in range(12)]

    uninterrupted = BarsProcessor(calendar, ["5m"], "regular", 0)
    uninterrupted.load("SPY", None)
    want = [bar for offset, tick in enumerate(ticks) for bar in uninterrupted.apply(tick, offset)[0]]

    first = BarsProcessor(calendar, ["5m"], "regular", 0)
    first.load("SPY", None)
    got = [bar for offset, tick in enumerate(ticks[:7]) for bar in first.apply(tick, offset)[0]]
    saved = first.state("SPY")  # the crash happens after offset 6 is in the state, offset 7.. are not
    restarted = BarsProcessor(calendar, ["5m"], "regular", 0)
    restarted.load("SPY", saved)
    replayed = [restarted.apply(tick, offset) for offset, tick in enumerate(ticks) if offset >= 4]
    assert replayed[:3] == [None, None, None]  # offsets 4-6: already applied
    got += [bar for result in replayed[3:] for bar in result[0]]
    assert got == want and len(want) == 2

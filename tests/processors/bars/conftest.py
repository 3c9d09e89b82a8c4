"""Helpers of the bars tests: a calendar, ticks at Eastern times, a run of the incremental aggregator."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from processors.bars import BarAggregator
from processors.calendar import ET, build_nyse_calendar, parse_sessions
from processors.model import TradeTick

CAL = build_nyse_calendar(dt.date(2026, 3, 2), dt.date(2026, 12, 31))
REGULAR = parse_sessions("regular")
S = 1_000_000_000


def et(mo: int, d: int, h: int, mi: int = 0, s: float = 0) -> int:
    whole = int(dt.datetime(2026, mo, d, h, mi, int(s), tzinfo=ET).timestamp()) * S
    return whole + int(round((s - int(s)) * S))


def tick(ts: int, price: str, size: int = 100, symbol: str = "SPY", trade_id: str | None = None,
         conditions: tuple[str, ...] = ()) -> TradeTick:
    return TradeTick(symbol=symbol, ts_event=ts, ts_init=ts + 1000, price=Decimal(price), size=size, feed="t",
                     trade_id=trade_id, conditions=conditions)


def run(ticks: list[TradeTick], timeframe: str = "5m", sessions=REGULAR, lateness_ns: int = 0):
    agg = BarAggregator(timeframe, sessions, CAL, lateness_ns)
    codes = [agg.handle_tick(t) for t in ticks]
    agg.flush(ts_init=7)
    bars, rejected = agg.drain()
    return bars, rejected, codes


DAY = CAL.day(dt.date(2026, 11, 27))  # an early close

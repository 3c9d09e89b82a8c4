"""`GET /api/bars`: what the charts page draws for one symbol and timeframe: its newest bars (candlesticks), the
indicators computed over them by `processors.indicators.compute_indicators` (the batch twins of the pipeline's
incremental indicators: ATR, Donchian channel, swing and fractal highs and lows, the session pivots), and the
caller's signals and trades of the symbol in the bars' range.

    GET /api/bars?symbol=SPY&timeframe=5m&limit=300&donchian=20&atr=14&swing=5&fractal=2

Bars are market data, the same for every user; signals and trades are only those of the caller's strategies and
accounts (`api.users`). Every parameter is checked before the database is read, each mistake a 400 naming it.
Prices are decimal strings, indicator values floats (null until defined), times integer nanoseconds UTC (the page
shows them in New York time).
"""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal

import pandas as pd
from litestar import Controller, get
from litestar.params import Parameter
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from api.auth import SECURITY, Caller
from api.users import OWNED
from processors.indicators.indicator_set import IndicatorParams, compute_indicators

MAX_BARS = 2000
INDICATORS = ("atr", "dc_upper", "dc_lower", "dc_mid", "swing_high", "swing_low", "fractal_high", "fractal_low",
              "session_pivot", "session_r1", "session_s1")
SYMBOL = Parameter(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9.^/_-]+$", description="the symbol, e.g. SPY")
TIMEFRAME = Parameter(default="5m", pattern=r"^[1-9][0-9]{0,2}[mhd]$", description="the bars' length: Nm, Nh or Nd")
LIMIT = Parameter(default=300, ge=1, le=MAX_BARS, description="how many of the newest bars")
DONCHIAN = Parameter(default=20, ge=1, le=500, description="the Donchian channel's period in bars")
ATR = Parameter(default=14, ge=1, le=500, description="the average true range's period in bars")
SWING = Parameter(default=5, ge=1, le=50, description="bars on each side of a swing high or low")
FRACTAL = Parameter(default=2, ge=1, le=20, description="bars on each side of a fractal high or low")

BARS = """
    select start_ns, end_ns, session, open, high, low, close, volume from bars
    where symbol = %s and timeframe = %s order by start desc limit %s
"""
SIGNALS = f"""
    select signal_id, strategy, side, action, ts_event_ns, price from signals
    where symbol = %s and ts_event_ns >= %s and ts_event_ns < %s and strategy in ({OWNED})
    order by ts_event_ns, signal_id
"""
TRADES = f"""
    select trade_id, strategy, direction, status, opened_ns, entry_price, closed_ns, exit_price from trades
    where symbol = %s and opened_ns >= %s and opened_ns < %s and account_id in ({OWNED})
    order by opened_ns, trade_id
"""


def _json(row: dict[str, object]) -> dict[str, object]:
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in row.items()}


def indicator_columns(bars: list[dict[str, object]], params: IndicatorParams) -> dict[str, list[float | None]]:
    """The indicators of the bars (in start order) as lists aligned with them, None where not yet defined."""
    if not bars:
        return {name: [] for name in INDICATORS}
    frame = pd.DataFrame({"symbol": "x", "start": [b["start_ns"] for b in bars],
                          "session": [b["session"] for b in bars],
                          "high": [float(b["high"]) for b in bars], "low": [float(b["low"]) for b in bars],
                          "close": [float(b["close"]) for b in bars]})
    values = compute_indicators(frame, params)
    return {name: [None if math.isnan(v) else round(float(v), 8) for v in values[name].tolist()]
            for name in INDICATORS}


class ChartsController(Controller):
    path = "/api"
    security = SECURITY

    @get("/bars")
    async def bars(self, conn: AsyncConnection, caller: Caller, symbol: str = SYMBOL, timeframe: str = TIMEFRAME,
                   limit: int = LIMIT, donchian: int = DONCHIAN, atr: int = ATR, swing: int = SWING,
                   fractal: int = FRACTAL) -> dict[str, object]:
        """The newest bars of a symbol with their indicators, and the caller's signals and trades of it in their
        range (for the charts page)."""
        symbol = symbol.upper()
        async with conn.cursor(row_factory=dict_row) as cursor:
            await cursor.execute(BARS, (symbol, timeframe, limit))
            bars = list(reversed(await cursor.fetchall()))
            signals: list[dict[str, object]] = []
            trades: list[dict[str, object]] = []
            if bars:
                start, end = bars[0]["start_ns"], bars[-1]["end_ns"]
                await cursor.execute(SIGNALS, (symbol, start, end, "strategy", caller.user.user_id))
                signals = [_json(row) for row in await cursor.fetchall()]
                await cursor.execute(TRADES, (symbol, start, end, "account", caller.user.user_id))
                trades = [_json(row) for row in await cursor.fetchall()]
        params = IndicatorParams(atr_period=atr, donchian_period=donchian, fractal_k=fractal, swing_left=swing,
                                 swing_right=swing)
        indicators = await asyncio.to_thread(indicator_columns, bars, params)  # numpy and pandas: off the loop
        return {"symbol": symbol, "timeframe": timeframe,
                "parameters": {"donchian": donchian, "atr": atr, "swing": swing, "fractal": fractal},
                "bars": [_json(bar) for bar in bars], "indicators": indicators, "signals": signals, "trades": trades}

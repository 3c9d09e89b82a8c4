"""The input of the vectorised backtest: the watched symbols' bars as columns, in processing order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from processors.calendar import MarketCalendar
from processors.csvio import BarColumns
from processors.model import Bar

FRAME_COLUMNS = ("symbol", "timeframe", "start", "end", "open", "high", "low", "close", "volume")
PRICES = ("open", "high", "low", "close")


@dataclass(slots=True)
class BarTable:
    """The watched symbols' bars as columns, in the pipeline's processing (`event_order_key`) order."""

    symbols: list[str]          # code -> symbol
    code: np.ndarray            # int64 index into symbols
    timeframe: np.ndarray       # object (str)
    session: np.ndarray         # object (str)
    start: np.ndarray           # int64 ns
    end: np.ndarray
    open: np.ndarray            # float64: float() of the Decimal prices
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray          # int64
    ts_init: np.ndarray         # int64
    close_decimal: Callable[[int], Decimal]

    @property
    def size(self) -> int:
        return len(self.start)

    @classmethod
    def build(cls, bars: Sequence[Bar] | pd.DataFrame, config: Any, calendar: MarketCalendar) -> BarTable:
        """The bars of `config.symbols` (a DataFrame, `BarColumns` or `Bar`s), sorted as the pipeline takes them."""
        if isinstance(bars, pd.DataFrame):
            missing = [name for name in FRAME_COLUMNS if name not in bars.columns]
            if missing:
                raise ValueError(f"the bars frame lacks the column(s) {', '.join(missing)}")
            symbol = bars["symbol"].to_numpy(dtype=object)
            keep = _watched(symbol, config)
            columns = _frame_columns(bars.iloc[keep], calendar)
        elif isinstance(bars, BarColumns):
            symbol = bars.symbol
            keep = _watched(symbol, config)
            columns = _columns_of(bars.rows(keep))
        else:
            bars = list(bars)
            symbol = np.array([b.symbol for b in bars], dtype=object)
            keep = _watched(symbol, config)
            columns = _bar_columns([bars[i] for i in keep.tolist()])
        if not all(np.isfinite(columns[name]).all() for name in PRICES):
            raise NotImplementedError("bars with prices that are not finite numbers: use the incremental pipeline")
        symbol = symbol[keep]
        names = sorted(set(symbol.tolist()))
        code = pd.Series(symbol, dtype=object).map({name: i for i, name in enumerate(names)}).to_numpy(np.int64)
        order = np.lexsort((np.arange(len(columns["start"])), code, columns["end"]))  # event_order_key, stable
        ordered_decimals = columns.pop("decimals")[order]

        def close_decimal(row: int) -> Decimal:
            value = ordered_decimals[row]
            return value if isinstance(value, Decimal) else Decimal(repr(float(value)))

        return cls(symbols=names, code=code[order], close_decimal=close_decimal,
                   **{name: values[order] for name, values in columns.items()})


def _watched(symbol: np.ndarray, config: Any) -> np.ndarray:
    """The rows of the symbols the strategy watches."""
    return np.flatnonzero(pd.Series(symbol, dtype=object).isin(set(config.symbols)).to_numpy())


def _frame_columns(rows: pd.DataFrame, calendar: MarketCalendar) -> dict[str, np.ndarray]:
    """The columns of a bars frame; session defaults to the calendar's session at the start, ts_init to 0."""
    start = rows["start"].to_numpy(dtype=np.int64)
    volume_values = rows["volume"].to_numpy()
    volume = volume_values.astype(np.int64)
    if not np.array_equal(volume, volume_values):
        raise ValueError("bar volumes must be whole numbers")
    return {
        "timeframe": rows["timeframe"].to_numpy(dtype=object),
        "session": (rows["session"].to_numpy(dtype=object) if "session" in rows.columns
                    else np.array([s.value for s in calendar.sessions_at(start)], dtype=object)),
        "start": start,
        "end": rows["end"].to_numpy(dtype=np.int64),
        **{name: _price_column(rows[name].to_numpy()) for name in PRICES},
        "volume": volume,
        "ts_init": (rows["ts_init"].to_numpy(dtype=np.int64) if "ts_init" in rows.columns
                    else np.zeros(len(rows), dtype=np.int64)),
        "decimals": rows["close"].to_numpy(dtype=object),
    }


def _bar_columns(kept: list[Bar]) -> dict[str, np.ndarray]:
    prices = {name: [getattr(b, name) for b in kept] for name in PRICES}
    return {
        "timeframe": np.array([b.timeframe for b in kept], dtype=object),
        "session": np.array([b.session for b in kept], dtype=object),
        "start": np.array([b.start for b in kept], dtype=np.int64),
        "end": np.array([b.end for b in kept], dtype=np.int64),
        **{name: np.fromiter(map(float, values), dtype=np.float64, count=len(values))
           for name, values in prices.items()},
        "volume": np.array([b.volume for b in kept], dtype=np.int64),
        "ts_init": np.array([b.ts_init for b in kept], dtype=np.int64),
        "decimals": np.array(prices["close"], dtype=object),
    }


def _columns_of(kept: BarColumns) -> dict[str, np.ndarray]:
    return {"timeframe": kept.timeframe, "session": kept.session, "start": kept.start, "end": kept.end,
            **{name: kept.floats(name) for name in PRICES}, "volume": kept.volume, "ts_init": kept.ts_init,
            "decimals": kept.close}


def _price_column(values: np.ndarray) -> np.ndarray:
    """float() of each price (Decimal or float), as `float(bar.close)` gives it."""
    if values.dtype.kind in "fiu":
        return values.astype(np.float64)
    return np.fromiter(map(float, values.tolist()), dtype=np.float64, count=len(values))

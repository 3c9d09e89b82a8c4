"""Parsing the CSV formats of the CLIs into typed columns, with errors naming line and column.

Pure functions over text rows (the commands open the files): ticks `ts,symbol,price,size` with
optional `trade_id,conditions` (conditions separated by spaces or semicolons), and bars
`symbol,start,open,high,low,close,volume` with optional `end,vwap,trades`. Times are ISO-8601 with
an offset, or integer epoch nanoseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TextIO

import numpy as np
import pandas as pd

from processors.model import Bar, TradeTick
from schemas.errors import TradestreamError

NS = 1_000_000_000


class CsvFormatError(TradestreamError, ValueError):
    """A row does not parse; the message names the line and the column. Fix the file and read it again."""


def parse_time(text: str, line: int, column: str) -> int:
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    # Python's datetime keeps microseconds: the fraction is read here, to the nanosecond.
    whole, dot, rest = text.partition(".")
    digits = rest[:len(rest) - len(rest.lstrip("0123456789"))] if dot else ""
    if dot and not 1 <= len(digits) <= 9:
        raise CsvFormatError(f"line {line}, column {column}: {text!r} has {len(digits)} fractional digits, "
                             "not 1 to 9")
    try:
        value = dt.datetime.fromisoformat((whole + rest[len(digits):]).replace("Z", "+00:00"))
    except ValueError:
        raise CsvFormatError(f"line {line}, column {column}: {text!r} is not ISO-8601 or epoch nanoseconds") from None
    if value.tzinfo is None:
        raise CsvFormatError(f"line {line}, column {column}: {text!r} has no UTC offset")
    return int(value.timestamp()) * NS + (int(digits.ljust(9, "0")) if digits else 0)


def format_time(ns: int) -> str:
    seconds, rest = divmod(ns, NS)
    stamp = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{rest:09d}Z".replace(".000000000Z", "Z")


def _decimal(text: str, line: int, column: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise CsvFormatError(f"line {line}, column {column}: {text!r} is not a number") from None
    return value


def _int(text: str, line: int, column: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise CsvFormatError(f"line {line}, column {column}: {text!r} is not an integer") from None


def _require(header: list[str], required: tuple[str, ...], what: str) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise CsvFormatError(f"line 1: {what} CSV lacks column(s) {', '.join(missing)} (header: {','.join(header)})")


def read_ticks(rows: Iterable[dict[str, str]], header: list[str], feed: str = "file") -> list[TradeTick]:
    """Ticks from DictReader rows. Non-numeric values are errors; NaN or non-positive prices parse
    (the aggregator rejects them with a reason rather than the reader hiding them)."""
    _require(header, ("ts", "symbol", "price", "size"), "ticks")
    ticks = []
    for line, row in enumerate(rows, start=2):
        ts = parse_time(row["ts"] or "", line, "ts")
        price = _decimal(row["price"] or "", line, "price")
        size = _int(row["size"] or "", line, "size")
        symbol = (row["symbol"] or "").strip()
        if not symbol:
            raise CsvFormatError(f"line {line}, column symbol: empty")
        trade_id = (row.get("trade_id") or "").strip() or None
        conditions = tuple(c for c in (row.get("conditions") or "").replace(";", " ").split() if c)
        ticks.append(TradeTick(symbol=symbol, ts_event=ts, ts_init=ts, price=price, size=size, feed=feed,
                               trade_id=trade_id, conditions=conditions))
    return ticks


def read_bars(rows: Iterable[dict[str, str]], header: list[str], timeframe: str = "") -> list[Bar]:
    _require(header, ("symbol", "start", "open", "high", "low", "close", "volume"), "bars")
    bars = []
    for line, row in enumerate(rows, start=2):
        values = {c: _decimal(row[c] or "", line, c) for c in ("open", "high", "low", "close")}
        if any(not v.is_finite() for v in values.values()):
            raise CsvFormatError(f"line {line}: prices must be finite numbers")
        start = parse_time(row["start"] or "", line, "start")
        end = parse_time(row["end"], line, "end") if row.get("end") else start
        volume = _int(row["volume"] or "0", line, "volume")
        vwap = _decimal(row["vwap"], line, "vwap") if row.get("vwap") else values["close"]
        trades = _int(row["trades"], line, "trades") if row.get("trades") else 0
        bars.append(Bar(symbol=(row["symbol"] or "").strip(), timeframe=timeframe, session="", start=start,
                        end=end, volume=volume, vwap=vwap, trades=trades, **values))
    return bars


@dataclass(frozen=True, slots=True)
class BarColumns(Sequence[Bar]):
    """Bars as columns, in file order: a sequence of `Bar`s that builds each one when it is read, so that a
    run over a million bars makes objects only for the bars it looks at (the desk is idle for most).

    Prices are the file's Decimals (one object per distinct price text, shared); `floats(name)` gives their
    float() values, computed once per distinct price."""

    symbol: np.ndarray          # object (str)
    timeframe: np.ndarray       # object (str)
    session: np.ndarray         # object (str)
    start: np.ndarray           # int64 ns UTC
    end: np.ndarray             # int64 ns UTC
    open: np.ndarray            # object (Decimal)
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray          # int64
    vwap: np.ndarray            # object (Decimal)
    trades: np.ndarray          # int64
    ts_init: np.ndarray         # int64 ns UTC

    def __len__(self) -> int:
        return len(self.start)

    def __getitem__(self, row: int) -> Bar:  # type: ignore[override]
        return Bar(self.symbol.item(row), self.timeframe.item(row), self.session.item(row), self.start.item(row),
                   self.end.item(row), self.open.item(row), self.high.item(row), self.low.item(row),
                   self.close.item(row), self.volume.item(row), self.vwap.item(row), self.trades.item(row),
                   self.ts_init.item(row))

    def __iter__(self) -> Iterator[Bar]:
        return map(self.__getitem__, range(len(self)))

    def floats(self, name: str) -> np.ndarray:
        """float() of the price column `name` (open, high, low, close or vwap)."""
        codes, distinct = pd.factorize(getattr(self, name))
        return np.fromiter(map(float, distinct), dtype=np.float64, count=len(distinct))[codes]

    def rows(self, rows: np.ndarray) -> BarColumns:
        """The bars at the positions `rows`, in that order."""
        return BarColumns(*(getattr(self, name)[rows] for name in BAR_COLUMNS))

    @classmethod
    def of_bars(cls, bars: Sequence[Bar]) -> BarColumns:
        if isinstance(bars, BarColumns):
            return bars
        return cls(*(np.array([getattr(b, name) for b in bars], dtype=dtype)
                     for name, dtype in BAR_COLUMNS.items()))


BAR_COLUMNS = {"symbol": object, "timeframe": object, "session": object, "start": np.int64, "end": np.int64,
               "open": object, "high": object, "low": object, "close": object, "volume": np.int64, "vwap": object,
               "trades": np.int64, "ts_init": np.int64}


def read_bar_columns(source: TextIO, timeframe: str = "") -> BarColumns | None:
    """The bars of a CSV text stream, parsed vectorised (`read_bars`'s columns and values, for the common form:
    times as `YYYY-MM-DDTHH:MM:SSZ` or epoch nanoseconds, every price a finite number, volume and trades
    digits); None when the file is not in that form: read it with `read_bars`, which takes every form and
    names the line and column of a bad value."""
    try:
        frame = pd.read_csv(source, dtype=str, header=None, keep_default_na=False, engine="pyarrow")
    except ValueError:  # not CSV, not UTF-8, or empty: read_bars says what is wrong
        return None
    header = [name.strip() for name in frame.iloc[0]]
    frame = frame.iloc[1:].set_axis(header, axis=1)
    if (len(set(header)) < len(header) or frame.isna().to_numpy().any()
            or any(c not in header for c in ("symbol", "start", "open", "high", "low", "close", "volume"))):
        return None
    count = len(frame)
    start = _times(frame["start"])
    end = _times(frame["end"]) if "end" in frame.columns else start
    prices = {name: _decimals(frame[name]) for name in ("open", "high", "low", "close")}
    vwap = _decimals(frame["vwap"]) if "vwap" in frame.columns else prices["close"]
    volume = _integers(frame["volume"])
    trades = _integers(frame["trades"]) if "trades" in frame.columns else np.zeros(count, dtype=np.int64)
    if start is None or end is None or volume is None or trades is None or vwap is None \
            or any(p is None for p in prices.values()):
        return None
    codes, symbols = pd.factorize(frame["symbol"])
    return BarColumns(symbol=np.array([s.strip() for s in symbols], dtype=object)[codes],
                      timeframe=np.full(count, timeframe, dtype=object), session=np.full(count, "", dtype=object),
                      start=start, end=end, volume=volume, vwap=vwap, trades=trades,
                      ts_init=np.zeros(count, dtype=np.int64), **prices)  # type: ignore[arg-type]


def _times(texts: pd.Series) -> np.ndarray | None:
    """`parse_time` of every text, if all are epoch nanoseconds or all `YYYY-MM-DDTHH:MM:SSZ`; else None."""
    texts = texts.str.strip()
    if texts.str.fullmatch(r"-?\d{1,19}").all():
        return _int64(texts)
    if not texts.str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all():
        return None
    try:
        return pd.to_datetime(texts.to_numpy(), format="ISO8601", utc=True).as_unit("ns").asi8
    except ValueError:  # a date or time out of range: parse_time names it
        return None


def _decimals(texts: pd.Series) -> np.ndarray | None:
    """Decimal(text) of every text (one object per distinct text), or None if one is not a finite number."""
    codes, distinct = pd.factorize(texts)
    try:
        values = [Decimal(text.strip()) for text in distinct]
    except InvalidOperation:
        return None
    if not all(value.is_finite() for value in values):
        return None
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column[codes]


def _integers(texts: pd.Series) -> np.ndarray | None:
    """int() of every text, if all are digits that fit 64 bits; else None."""
    texts = texts.str.strip()
    return _int64(texts) if texts.str.fullmatch(r"\d{1,19}").all() else None


def _int64(texts: pd.Series) -> np.ndarray | None:
    try:
        return texts.to_numpy().astype(np.int64)
    except OverflowError:
        return None

"""Parsing the CSV formats of the CLIs into typed columns, with errors naming line and column.

Pure functions over text rows (the commands open the files): ticks `ts,symbol,price,size` with
optional `trade_id,conditions` (conditions separated by spaces or semicolons), and bars
`symbol,start,open,high,low,close,volume` with optional `end,vwap,trades`. Times are ISO-8601 with
an offset, or integer epoch nanoseconds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

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

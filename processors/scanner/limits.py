"""When a scanner may emit a signal: inside its schedule (`in_schedule`) and under its daily signal
limits (`SignalLimiter`).

Both take the signal's time as UTC epoch nanoseconds (the event's time, never the clock) and read it
as an ET wall time through America/New_York, so the trading day ends at midnight ET (04:00 or 05:00
UTC, depending on daylight saving time), not at midnight UTC:

    limiter = SignalLimiter.from_config(config)
    if in_schedule(config, ts_ns):
        allowed, reason = limiter.allow("SPY", ts_ns)   # (False, "max_signals_per_day reached ...")

Exchange holidays and early closes are not known here: combine with `processors.calendar`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from processors.calendar import ET, NS
from processors.scanner.config import ScannerConfig


def et_datetime(ts_ns: int) -> dt.datetime:
    """`ts_ns` (UTC epoch nanoseconds) as an aware ET datetime, truncated to the whole second."""
    if not isinstance(ts_ns, int) or isinstance(ts_ns, bool):
        raise ValueError(f"ts_ns must be integer nanoseconds since the epoch (UTC), "
                         f"got {type(ts_ns).__name__} {ts_ns!r}")
    return dt.datetime.fromtimestamp(ts_ns // NS, tz=ET)


def in_schedule(config: ScannerConfig, ts_ns: int) -> bool:
    """True when `ts_ns` falls on one of `config.days` and within [start_time, end_time) ET."""
    if not isinstance(config, ScannerConfig):
        raise ValueError(f"config must be a ScannerConfig, got {type(config).__name__}")
    local = et_datetime(ts_ns)
    # The window's ends are whole minutes, so truncating ts_ns to the second cannot move it across one.
    return local.weekday() in config.weekdays and config.start_time <= local.time() < config.end_time


def _check_limit(name: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


class SignalLimiter:
    """Counts the signals allowed on the current ET trading date: at most `max_signals_per_day` in
    all and `max_signals_per_symbol` for each symbol. The counts start again on the first signal of
    a later ET date. A refused signal is not counted.

    Signals must come in time order: a signal dated before the current ET date raises ValueError
    (its day's counts are gone). State for a changelog: `to_state()` / `load_state()`.
    """

    def __init__(self, max_signals_per_day: int, max_signals_per_symbol: int) -> None:
        self.max_signals_per_day = _check_limit("max_signals_per_day", max_signals_per_day)
        self.max_signals_per_symbol = _check_limit("max_signals_per_symbol", max_signals_per_symbol)
        if max_signals_per_symbol > max_signals_per_day:
            raise ValueError(f"max_signals_per_symbol ({max_signals_per_symbol}) must not exceed "
                             f"max_signals_per_day ({max_signals_per_day})")
        self._date: dt.date | None = None
        self._total = 0
        self._per_symbol: dict[str, int] = {}

    @classmethod
    def from_config(cls, config: ScannerConfig) -> SignalLimiter:
        return cls(config.max_signals_per_day, config.max_signals_per_symbol)

    @property
    def trading_date(self) -> dt.date | None:
        """The ET date the counts belong to; None before the first signal."""
        return self._date

    @property
    def total(self) -> int:
        """Signals allowed on `trading_date`."""
        return self._total

    def count(self, symbol: str) -> int:
        """Signals allowed for `symbol` on `trading_date`."""
        return self._per_symbol.get(symbol, 0)

    def allow(self, symbol: str, ts_ns: int) -> tuple[bool, str | None]:
        """(True, None) and count the signal, or (False, the reason) without counting it."""
        if not isinstance(symbol, str) or not symbol:
            raise ValueError(f"symbol must be a non-empty str, got {symbol!r}")
        date = et_datetime(ts_ns).date()
        if self._date is None or date > self._date:
            self.reset()
            self._date = date
        elif date < self._date:
            raise ValueError(f"ts_ns {ts_ns} is on ET date {date}, before the current date {self._date}: "
                             "signals must come in time order")
        if self._total >= self.max_signals_per_day:
            return False, (f"max_signals_per_day reached: {self._total} of {self.max_signals_per_day} "
                           f"signals on {date} ET")
        symbol_count = self._per_symbol.get(symbol, 0)
        if symbol_count >= self.max_signals_per_symbol:
            return False, (f"max_signals_per_symbol reached: {symbol_count} of {self.max_signals_per_symbol} "
                           f"signals for {symbol} on {date} ET")
        self._total += 1
        self._per_symbol[symbol] = symbol_count + 1
        return True, None

    def reset(self) -> None:
        self._date = None
        self._total = 0
        self._per_symbol = {}

    def to_state(self) -> dict[str, Any]:
        """The counts as JSON values: {"date": "YYYY-MM-DD" or None, "per_symbol": {symbol: count}}."""
        return {"date": None if self._date is None else self._date.isoformat(), "per_symbol": dict(self._per_symbol)}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore counts saved by `to_state` (under the limits of this limiter); ValueError if malformed."""
        if not isinstance(state, Mapping) or set(state) != {"date", "per_symbol"}:
            raise ValueError(f"state must be a mapping with keys date and per_symbol, got {state!r}")
        date_text, per_symbol = state["date"], state["per_symbol"]
        if not isinstance(per_symbol, Mapping):
            raise ValueError(f"state per_symbol must be a mapping of symbol to count, got {per_symbol!r}")
        for symbol, count in per_symbol.items():
            if not isinstance(symbol, str) or not symbol or not isinstance(count, int) or isinstance(count, bool) \
                    or count < 1:
                raise ValueError(f"state per_symbol must map symbols to counts of at least 1, "
                                 f"got {symbol!r}: {count!r}")
        if date_text is None:
            if per_symbol:
                raise ValueError("state without a date must have no counts")
            date = None
        else:
            try:
                date = dt.date.fromisoformat(date_text)
            except (TypeError, ValueError):
                raise ValueError(f"state date must be YYYY-MM-DD or None, got {date_text!r}") from None
        self._date = date
        self._per_symbol = dict(per_symbol)
        self._total = sum(self._per_symbol.values())

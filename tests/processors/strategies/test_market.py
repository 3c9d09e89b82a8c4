"""MarketState's price: the latest in event time, whatever order the events come in."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from processors.model import Bar, TradeTick
from processors.strategies.market import MarketState

NS = 1_000_000_000
ET = ZoneInfo("America/New_York")


def at(day: int, hh: int, mm: int, ss: int = 0) -> int:
    return int(dt.datetime(2026, 11, day, hh, mm, ss, tzinfo=ET).timestamp()) * NS


def trade(ts: int, price: str) -> TradeTick:
    return TradeTick(symbol="SPY", ts_event=ts, ts_init=ts, price=Decimal(price), size=100, feed="test")


def bar(timeframe: str, start: int, end: int, close: str) -> Bar:
    price = Decimal(close)
    return Bar("SPY", timeframe, "regular", start, end, price, price, price, price, 100, price, 1, end)


def test_an_older_trade_does_not_move_the_price_back() -> None:
    market = MarketState()
    market.on_trade(trade(at(24, 10, 0, 10), "600.50"))
    market.on_trade(trade(at(24, 10, 0, 5), "599.00"))  # a late print
    assert market.price("SPY") == Decimal("600.50") and market.last_update_ns("SPY") == at(24, 10, 0, 10)
    market.on_trade(trade(at(24, 10, 0, 10), "600.60"))  # same instant: the later one in the stream wins
    assert market.price("SPY") == Decimal("600.60")


def test_a_late_strategy_bar_joins_the_history_but_leaves_the_newer_price() -> None:
    market = MarketState()
    market.on_bar(bar("1m", at(24, 9, 35), at(24, 9, 36), "110"))
    market.on_bar(bar("5m", at(24, 9, 30), at(24, 9, 35), "103"))  # closed late, its last minute missing
    assert market.price("SPY") == Decimal("110") and market.last_update_ns("SPY") == at(24, 9, 36)
    assert market.value("close", "SPY", "5m") == 103.0


def test_an_older_update_from_the_previous_day_keeps_the_reference() -> None:
    market = MarketState()
    market.on_trade(trade(at(23, 15, 59), "540.00"))
    market.on_trade(trade(at(24, 9, 30, 1), "600.00"))
    assert market.reference("SPY") == Decimal("540.00")
    market.on_trade(trade(at(23, 15, 59, 59), "539.00"))  # a print of the 23rd, arriving late
    assert market.price("SPY") == Decimal("600.00") and market.reference("SPY") == Decimal("540.00")
    market.on_trade(trade(at(25, 9, 30, 1), "610.00"))
    assert market.reference("SPY") == Decimal("600.00")  # the 24th's last price: the late print changed nothing


def test_bars_only_the_reference_is_the_previous_days_last_close_whatever_comes_late() -> None:
    market = MarketState()
    market.on_bar(bar("1m", at(23, 15, 58), at(23, 15, 59), "103"))
    market.on_bar(bar("1m", at(24, 9, 30), at(24, 9, 31), "120"))
    market.on_bar(bar("5m", at(23, 15, 55), at(23, 16, 0), "103"))  # the 23rd's last 5m bar, closed late
    assert market.price("SPY") == Decimal("120") and market.reference("SPY") == Decimal("103")
    market.on_bar(bar("1m", at(24, 9, 31), at(24, 9, 32), "121"))
    assert market.reference("SPY") == Decimal("103")

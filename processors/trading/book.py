"""`AccountBook`: one account's `processors.risk.AccountSnapshot`, kept current from what happens to it.

    book = AccountBook(account, days)
    book.on_fill(symbol="SPY", side="BUY", quantity=100, price=Decimal("500.00"), ts_event=ts, charges=...)
    book.on_price("SPY", Decimal("501.25"), ts)
    book.set_trades(trade_manager.open_trades(account_id), working_entries)
    decide(intent, account, book.snapshot_at(ts), days, ts)

What each input moves (money exact in Decimal, in the account's currency):

    a fill          cash -= signed quantity x price x multiplier + charges (a buy pays, a sale receives);
                    the symbol's net position and its reference value (below); the day's realised P&L by
                    what the shares closed made against their reference price, less the fill's charges
                    (every fill's charges, entries included, so the day's P&L is net of charges); a round
                    trip when the position comes back to flat; for an account with a cash regime, the cash
                    ledger (settlement.py). `opens_trade` counts the fill's trade in trades_today.
    a price         the symbol's last price (the mark of its position). Until a symbol has a print, its
                    position is marked at its last fill, as the trade manager marks it, so the book's day
                    P&L and the trade manager's (which trips the kill switch) agree.
    set_trades      the open trades the risk decision counts (the trade manager's running trades, and the
                    entries still working at the broker: see `processors.trading.desk`)
    set_kill_switch the kill switch after a risk decision or a trade-manager sweep tripped it, or a reset

Round trips: a fill that closes part or all of a position after an opening fill of the same date records
a day trade (`RoundTrip`), once per opening-then-closing sequence as FINRA counts them (buy, sell, sell is
one; buy, sell, buy, sell is two); closing a position carried over night records a round trip that is not
one (opened on an earlier date).

The day roll happens at the first input of a later New York date (`roll_to`, which every input calls):
start_of_day_equity becomes the equity at the previous close (cash + positions at their last prices),
realised_pnl_today and trades_today go to 0, each position's reference price becomes its last price, the
round trips closed before the legacy day-trade window (5 business days) are dropped and the cash ledger is
folded up to the new day (settled cash, pending sales and lots; its fills start again). The kill switch
latches across days: only a reset with a reason clears it.

Reference price (the price today's P&L is measured from): the previous close of a position carried over
night, the entry price of one opened today, the average of both when a position is added to. The book
keeps each position's reference VALUE (signed quantity x reference price); a sale takes its share of it,
rounded to 1e-8 when the division does not terminate, and the position keeps exactly the rest. Every figure
then stays on a short decimal grid and the arithmetic is exact, so at every instant

    realised_pnl_today + unrealised_pnl_today == equity - start_of_day_equity

exactly, and the snapshot's `Position.reference_price` is that value / quantity (exact when the division
terminates, else to Decimal's 28 significant digits).

Round trips (the legacy day-trade count): one per symbol each time its net position returns to flat (or
flips), opened when the position opened; for a position carried from an earlier day and added to today, the
first addition today is its opening, so buying more of a held stock and selling all of it the same day
counts as a day trade. Partial sales that leave a position open make no round trip.

Cash accounts: each fill is also a `CashFill` of the ledger; its charges are taken from the ledger's settled
cash at once (the conservative reading: settled funds are never overstated by them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from processors.calendar import ET, NS
from processors.risk.account import Account, Regime, et_date
from processors.risk.days import TradingDays
from processors.risk.killswitch import KillSwitch
from processors.risk.pdt import WINDOW_BUSINESS_DAYS
from processors.risk.settlement import CashFill, CashLedger, SettlementCalendarError, fold_ledger
from processors.risk.errors import RiskConfigError
from processors.risk.state import AccountSnapshot, OpenTrade, OpenTrades, Positions, RoundTrip, RoundTrips
from processors.trading.book_positions import HeldPositions
from processors.trading.book_codec import ledger_dict, ledger_of, switch_dict, trade_dict, trade_of
from processors.trading.errors import TradingDeskError

BUY = "BUY"
SELL = "SELL"
ZERO = Decimal(0)
SHARE_QUANTUM = Decimal("0.00000001")   # a partial sale's share of a reference value, on the 1e-8 price grid
SNAPSHOT_FORMAT = 1
NO_TRADES = OpenTrades()


@dataclass(slots=True)
class _Holding:
    """One symbol's net position: `reference_value` is Σ signed quantity x reference price (per unit)."""

    quantity: int
    multiplier: int
    reference_value: Decimal
    opened_ns: int
    added_today_ns: int | None = None
    opening_ns: int | None = None
    """The first opening fill today not yet followed by a closing one: the next sale (or purchase to cover)
    makes a day trade, counted once for the sequence however many fills close it (FINRA counts buy, sell, sell
    as one day trade and buy, sell, buy, sell as two)."""


class AccountBook:
    """One account's cash, positions, day figures, round trips, kill switch and cash ledger (module docstring)."""

    def __init__(self, account: Account, days: TradingDays,
                 settlement_holidays: Iterable[dt.date] = frozenset()) -> None:
        if not isinstance(account, Account):
            raise TradingDeskError("book.account", f"must be a processors.risk.Account, got {account!r}")
        if not isinstance(days, TradingDays):
            raise TradingDeskError("book.days", f"must be a processors.risk.TradingDays, got {days!r}")
        self.account = account
        self.days = days
        self.settlement_holidays = frozenset(settlement_holidays)
        self.day: dt.date | None = None
        self._midnight: tuple[dt.date, int] | None = None  # (day, _midnight_after(day)), kept for the next input
        self.cash: Decimal = account.starting_capital
        self.start_of_day_equity: Decimal = account.starting_capital
        self.realised_pnl_today: Decimal = ZERO
        self.trades_today = 0
        self.kill_switch = KillSwitch()
        self._holdings: dict[str, _Holding] = {}
        self._held = HeldPositions()            # positions(): the records and their sums, kept as they change
        self._prices: dict[str, Decimal] = {}
        self._fill_prices: dict[str, Decimal] = {}
        self._round_trips = RoundTrips()
        self._open_trades = NO_TRADES
        self._working_entries = NO_TRADES
        has_cash = any(period.regime is Regime.CASH for period in account.regimes)
        self._ledger: CashLedger | None = (CashLedger(settled_cash=account.starting_capital,
                                                      settlement_holidays=self.settlement_holidays)
                                           if has_cash else None)

    # == inputs ====================================================================================
    def roll_to(self, ts_event: int) -> Decimal | None:
        """Start the New York date of `ts_event` if it is later than the book's: the new start-of-day equity,
        or None when the date is the book's own (or earlier: an older event does not roll back)."""
        _ts(ts_event, "roll.ts_event")
        if self.day is not None and ts_event < self._midnight_after(self.day):  # the book's day (or before)
            return None
        day = et_date(ts_event)
        if self.day is not None and day <= self.day:
            return None
        if self.day is not None:
            self.start_of_day_equity = self.equity
            self.realised_pnl_today = ZERO
            self.trades_today = 0
            for symbol, holding in self._holdings.items():
                holding.reference_value = holding.quantity * self._mark(symbol)
                holding.added_today_ns = None
                holding.opening_ns = None
            self._held.touch_all()
            window = self.days.last_n(day, WINDOW_BUSINESS_DAYS)
            if window is not None:
                self._round_trips = RoundTrips(t for t in self._round_trips if et_date(t.closed_ns) >= window[0])
            self._compact_ledger(ts_event)
        self.day = day
        return self.start_of_day_equity

    def _midnight_after(self, day: dt.date) -> int:
        """The instant (UTC ns) the New York date after `day` starts: `et_date(ts) <= day` iff ts is before it."""
        if self._midnight is None or self._midnight[0] != day:
            start = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=ET)
            self._midnight = (day, int(start.timestamp()) * NS)
        return self._midnight[1]

    def on_price(self, symbol: str, price: Decimal, ts_event: int) -> None:
        """A print (or a bar's close) of `symbol`: its positions are marked at it from now on."""
        _text(symbol, "price.symbol")
        _price(price, "price.price")
        self.roll_to(ts_event)
        self._prices[symbol] = price
        if symbol in self._holdings:
            self._held.touch(symbol)

    def on_fill(self, *, symbol: str, side: str, quantity: int, price: Decimal, ts_event: int,
                charges: Decimal = ZERO, multiplier: int = 1, opens_trade: bool = False) -> None:
        """An execution in the account: cash, position, the day's realised P&L, round trips, the cash ledger."""
        _text(symbol, "fill.symbol")
        if side not in (BUY, SELL):
            raise TradingDeskError("fill.side", f"must be BUY or SELL, got {side!r}")
        _int(quantity, "fill.quantity", 1)
        _price(price, "fill.price")
        _int(multiplier, "fill.multiplier", 1)
        if not isinstance(charges, Decimal) or not charges.is_finite() or charges < 0:
            raise TradingDeskError("fill.charges", f"must be a Decimal of 0 or more, got {charges!r}")
        self.roll_to(ts_event)
        signed = quantity if side == BUY else -quantity
        self.cash -= signed * price * multiplier + charges
        self.realised_pnl_today -= charges
        if opens_trade:
            self.trades_today += 1
        self._fill_prices[symbol] = price
        self._apply_to_position(symbol, signed, price, multiplier, ts_event)
        self._held.touch(symbol)
        if self._ledger is not None:
            ledger = self._ledger
            self._ledger = CashLedger(settled_cash=ledger.settled_cash - charges, pending=ledger.pending,
                                      fills=(*ledger.fills, CashFill(symbol, side, quantity, price, ts_event,
                                                                     multiplier)),
                                      opening_lots=ledger.opening_lots, settlement_holidays=ledger.settlement_holidays)

    def set_trades(self, open_trades: Iterable[OpenTrade], working_entries: Iterable[OpenTrade] = ()) -> None:
        """The running trades and the entries still working at the broker; a working entry opened today
        counts in trades_today, as the trade it will open."""
        self._open_trades = _trades(open_trades, "open_trades")
        self._working_entries = _trades(working_entries, "working_entries")

    def set_kill_switch(self, switch: KillSwitch) -> None:
        if not isinstance(switch, KillSwitch):
            raise TradingDeskError("kill_switch", f"must be a processors.risk.KillSwitch, got {switch!r}")
        self.kill_switch = switch

    # == reading ===================================================================================
    @property
    def equity(self) -> Decimal:
        return self.cash + sum((h.quantity * self._mark(s) * h.multiplier for s, h in self._holdings.items()), ZERO)

    @property
    def unrealised_pnl_today(self) -> Decimal:
        return sum(((h.quantity * self._mark(s) - h.reference_value) * h.multiplier
                    for s, h in self._holdings.items()), ZERO)

    @property
    def round_trips(self) -> tuple[RoundTrip, ...]:
        return self._round_trips

    @property
    def cash_ledger(self) -> CashLedger | None:
        return self._ledger

    def last_price(self, symbol: str) -> Decimal | None:
        """The latest print of `symbol`, else its latest fill, else None."""
        return self._prices.get(symbol, self._fill_prices.get(symbol))

    def positions(self) -> Positions:
        """The net positions by symbol, with their sums; only the records whose figures changed are built again
        (book_positions.py: a decision reads them all)."""
        return self._held.positions(self._holdings, self._mark)

    def snapshot_at(self, ts_event: int) -> AccountSnapshot:
        """The account at `ts_event` as the risk decision takes it (rolling the day first if it is a new one)."""
        self.roll_to(ts_event)
        day = et_date(ts_event)
        working_today = self._working_entries.opened_on(day)
        return AccountSnapshot(
            cash=self.cash, start_of_day_equity=self.start_of_day_equity, realised_pnl_today=self.realised_pnl_today,
            trades_today=self.trades_today + working_today, positions=self.positions(),
            open_trades=OpenTrades.joined(self._open_trades, self._working_entries),
            round_trips=self._round_trips,
            kill_switch=self.kill_switch, cash_ledger=self._ledger)

    # == snapshot ==================================================================================
    def snapshot(self) -> dict[str, Any]:
        """The book as plain JSON-able data (Decimals as strings, dates ISO)."""
        return {
            "format": SNAPSHOT_FORMAT, "account_id": self.account.account_id,
            "day": None if self.day is None else self.day.isoformat(), "cash": str(self.cash),
            "start_of_day_equity": str(self.start_of_day_equity), "realised_pnl_today": str(self.realised_pnl_today),
            "trades_today": self.trades_today, "kill_switch": switch_dict(self.kill_switch),
            "holdings": {s: {"quantity": h.quantity, "multiplier": h.multiplier,
                             "reference_value": str(h.reference_value), "opened_ns": h.opened_ns,
                             "added_today_ns": h.added_today_ns, "opening_ns": h.opening_ns}
                         for s, h in sorted(self._holdings.items())},
            "prices": {s: str(p) for s, p in sorted(self._prices.items())},
            "fill_prices": {s: str(p) for s, p in sorted(self._fill_prices.items())},
            "round_trips": [[t.symbol, t.opened_ns, t.closed_ns] for t in self._round_trips],
            "open_trades": [trade_dict(t) for t in self._open_trades],
            "working_entries": [trade_dict(t) for t in self._working_entries],
            "ledger": None if self._ledger is None else ledger_dict(self._ledger),
        }

    @classmethod
    def restore(cls, account: Account, days: TradingDays, data: dict[str, Any],
                settlement_holidays: Iterable[dt.date] = frozenset()) -> AccountBook:
        """The book `snapshot()` described, for the same account and calendar."""
        if not isinstance(data, dict) or data.get("format") != SNAPSHOT_FORMAT:
            raise TradingDeskError("book.format", f"must be {SNAPSHOT_FORMAT}")
        if data.get("account_id") != account.account_id:
            raise TradingDeskError("book.account_id", f"the snapshot is of {data.get('account_id')!r}, "
                                                      f"not {account.account_id!r}")
        book = cls(account, days, settlement_holidays)
        try:
            book.day = None if data["day"] is None else dt.date.fromisoformat(data["day"])
            book.cash = Decimal(data["cash"])
            book.start_of_day_equity = Decimal(data["start_of_day_equity"])
            book.realised_pnl_today = Decimal(data["realised_pnl_today"])
            book.trades_today = data["trades_today"]
            book.kill_switch = KillSwitch(**data["kill_switch"])
            book._holdings = {s: _Holding(h["quantity"], h["multiplier"], Decimal(h["reference_value"]),
                                          h["opened_ns"], h["added_today_ns"], h.get("opening_ns"))
                              for s, h in data["holdings"].items()}
            book._held.touch_all()
            book._prices = {s: Decimal(p) for s, p in data["prices"].items()}
            book._fill_prices = {s: Decimal(p) for s, p in data["fill_prices"].items()}
            book._round_trips = RoundTrips(RoundTrip(*t) for t in data["round_trips"])
            book._open_trades = OpenTrades(trade_of(t) for t in data["open_trades"])
            book._working_entries = OpenTrades(trade_of(t) for t in data["working_entries"])
            book._ledger = None if data["ledger"] is None else ledger_of(data["ledger"])
        except (KeyError, TypeError, ValueError, ArithmeticError) as error:
            raise TradingDeskError("book", f"the snapshot cannot be read: {error!r}") from None
        return book

    # == helpers ===================================================================================
    def _mark(self, symbol: str) -> Decimal:
        price = self._prices.get(symbol)
        return self._fill_prices[symbol] if price is None else price

    def _apply_to_position(self, symbol: str, signed: int, price: Decimal, multiplier: int, ts_event: int) -> None:
        holding = self._holdings.get(symbol)
        if holding is None:
            self._holdings[symbol] = _Holding(signed, multiplier, signed * price, ts_event, opening_ns=ts_event)
            return
        if (holding.quantity > 0) == (signed > 0):
            holding.quantity += signed
            holding.reference_value += signed * price
            if holding.added_today_ns is None and et_date(holding.opened_ns) != self.day:
                holding.added_today_ns = ts_event
            if holding.opening_ns is None:
                holding.opening_ns = ts_event
            return
        held = abs(holding.quantity)
        closed = min(abs(signed), held)
        direction = 1 if holding.quantity > 0 else -1
        removed = (holding.reference_value if closed == held
                   else (holding.reference_value * closed / held).quantize(SHARE_QUANTUM, ROUND_HALF_EVEN))
        self.realised_pnl_today += (direction * closed * price - removed) * holding.multiplier
        holding.quantity -= direction * closed
        holding.reference_value -= removed
        if holding.opening_ns is not None:      # a closing fill after an opening one today: a day trade
            self._round_trips = self._round_trips.with_trip(RoundTrip(symbol, holding.opening_ns, ts_event))
            holding.opening_ns = None
        elif not holding.quantity and holding.added_today_ns is None and et_date(holding.opened_ns) != self.day:
            self._round_trips = self._round_trips.with_trip(RoundTrip(symbol, holding.opened_ns, ts_event))  # not one
        if holding.quantity:
            return
        del self._holdings[symbol]
        rest = abs(signed) - closed
        if rest:
            opened_signed = rest if signed > 0 else -rest
            self._holdings[symbol] = _Holding(opened_signed, multiplier, opened_signed * price, ts_event,
                                              opening_ns=ts_event)

    def _compact_ledger(self, ts_event: int) -> None:
        if self._ledger is None:
            return
        try:
            cash = fold_ledger(self._ledger, self.days, ts_event)
        except SettlementCalendarError:
            return      # kept whole: the next entry's decision fails on it with the reason
        self._ledger = CashLedger(settled_cash=cash.settled_cash, pending=cash.pending, opening_lots=cash.lots,
                                  settlement_holidays=self._ledger.settlement_holidays)


def _text(value: object, name: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise TradingDeskError(name, f"must be a non-empty string, got {value!r}")


def _int(value: object, name: str, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise TradingDeskError(name, f"must be an int of at least {minimum}, got {value!r}")


def _ts(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TradingDeskError(name, f"must be int nanoseconds UTC, got {value!r}")


def _price(value: object, name: str) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise TradingDeskError(name, f"must be a positive Decimal, got {value!r}")


def _trades(trades: Iterable[OpenTrade], name: str) -> OpenTrades:
    """`trades` as `OpenTrades`: checked and summed once (a container given again is taken as it is)."""
    if type(trades) is OpenTrades:
        return trades
    try:
        return OpenTrades(trades)
    except RiskConfigError:
        raise TradingDeskError(name, "must hold processors.risk.OpenTrade records only") from None

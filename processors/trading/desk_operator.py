"""The trading desk's operator side (`TradingDesk` mixes it in): an account's settings changed, its kill switch
tripped by hand or reset with a reason, and the calendar amended by a new version of the universal settings;
each at its event time, as the strategy runner gives them in order with the prints.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from processors.risk import Account
from processors.risk.days import TradingDays
from processors.trading.errors import TradingDeskError, check_ts

DeskEvent = Any


class OperatorMixin:
    """`reset_kill_switch`, `trip_kill_switch`, `on_calendar_amended` and `change_account` of `TradingDesk`."""

    def reset_kill_switch(self, account_id: str, reason: str, ts_event: int) -> list[DeskEvent]:
        """An operator resets the account's kill switch with a reason (in the book and the trade manager)."""
        check_ts(ts_event, "reset.ts_event")
        book = self._books.get(account_id)
        if book is None:
            raise TradingDeskError("reset.account_id", f"account {account_id!r} is not on this desk")
        if not isinstance(reason, str) or not reason.strip():
            raise TradingDeskError("reset.reason", "a reset needs the operator's reason")
        out = self._begin(ts_event, ts_event, inclusive=False)
        self._sync_kill_switches(ts_event)
        if not book.kill_switch.tripped:
            raise TradingDeskError("reset.account_id", f"the kill switch of {account_id!r} is not tripped: "
                                                       "there is nothing to reset")
        book.set_kill_switch(book.kill_switch.reset(reason, ts_event))
        if self._manager.account(account_id).kill_switch_tripped:
            out += self._exits(self._manager.reset_kill_switch(account_id, reason, ts_event), ts_event)
        return out

    def trip_kill_switch(self, account_id: str, reason: str, ts_event: int) -> list[DeskEvent]:
        """An operator trips the account's kill switch by hand with a reason: entries are refused at once (the
        book) and the trade manager's next sweep closes the open trades; tripped already, it changes nothing."""
        check_ts(ts_event, "trip.ts_event")
        book = self._books.get(account_id)
        if book is None:
            raise TradingDeskError("trip.account_id", f"account {account_id!r} is not on this desk")
        if not isinstance(reason, str) or not reason.strip():
            raise TradingDeskError("trip.reason", "tripping the kill switch needs the operator's reason")
        out = self._begin(ts_event, ts_event, inclusive=False)
        if not book.kill_switch.tripped:
            book.set_kill_switch(book.kill_switch.trip(f"tripped by hand: {reason.strip()}", ts_event))
        out += self._exits(self._manager.trip_kill_switch(account_id, reason, ts_event), ts_event)
        return out

    def on_calendar_amended(self) -> None:
        """The trade manager's calendar was amended in place (a new version of the universal settings for the
        days ahead): the business days the books count (day trades, settlement) follow it."""
        days = TradingDays.of(self.config.trade_manager.calendar)
        self.config = replace(self.config, days=days)
        for book in self._books.values():
            book.days = days
        self._manager.on_calendar_amended()

    def change_account(self, account: Account, ts_event: int) -> list[DeskEvent]:
        """The account's settings changed at `ts_event` (limits, margin levels, regimes, ...): decisions from then
        on use the new ones, the trade manager's kill switch measures against the new RM-Max-sp%. Trades already
        open are kept as they are: a tighter limit refuses the next entries (the decisions say which limit), it
        does not close anything. The account must be one of the desk's (TradingDeskError otherwise)."""
        check_ts(ts_event, "account_change.ts_event")
        if not isinstance(account, Account):
            raise TradingDeskError("account", f"must be a processors.risk.Account, got {type(account).__name__}")
        book = self._books.get(account.account_id)
        if book is None:
            raise TradingDeskError("account.account_id", f"account {account.account_id!r} is not on this desk")
        out = self._begin(ts_event, ts_event, inclusive=False)
        manager = self.config.trade_manager
        others = {a: settings for a, settings in manager.accounts.items() if a != account.account_id}
        self.config = replace(self.config, accounts={**self.config.accounts, account.account_id: account},
                              trade_manager=replace(manager, accounts=others))
        self._manager.config = self.config.trade_manager
        book.account = account
        self._sync_kill_switches(ts_event)
        return out

"""The account book's snapshot codecs: its kill switch, open trades and cash ledger as plain JSON-able values
(Decimals as strings, dates ISO) and back (`processors.trading.book.AccountBook.snapshot` and `restore`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from processors.risk.killswitch import KillSwitch
from processors.risk.settlement import CashFill, CashLedger, Lot, PendingSettlement
from processors.risk.state import OpenTrade


def switch_dict(switch: KillSwitch) -> dict[str, Any]:
    return {"tripped": switch.tripped, "reason": switch.reason, "tripped_at_ns": switch.tripped_at_ns,
            "reset_reason": switch.reset_reason, "reset_at_ns": switch.reset_at_ns}


def trade_dict(trade: OpenTrade) -> dict[str, Any]:
    return {"trade_id": trade.trade_id, "symbol": trade.symbol, "side": trade.side, "quantity": trade.quantity,
            "entry_price": str(trade.entry_price), "stop_price": str(trade.stop_price), "opened_ns": trade.opened_ns,
            "multiplier": trade.multiplier}


def trade_of(data: dict[str, Any]) -> OpenTrade:
    return OpenTrade(trade_id=data["trade_id"], symbol=data["symbol"], side=data["side"], quantity=data["quantity"],
                     entry_price=Decimal(data["entry_price"]), stop_price=Decimal(data["stop_price"]),
                     opened_ns=data["opened_ns"], multiplier=data["multiplier"])


def ledger_dict(ledger: CashLedger) -> dict[str, Any]:
    return {"settled_cash": str(ledger.settled_cash),
            "pending": [[str(p.amount), p.settles_on.isoformat()] for p in ledger.pending],
            "fills": [[f.symbol, f.side, f.quantity, str(f.price), f.ts_event, f.multiplier] for f in ledger.fills],
            "opening_lots": [[lot.symbol, lot.quantity,
                              None if lot.funds_settle_on is None else lot.funds_settle_on.isoformat()]
                             for lot in ledger.opening_lots],
            "settlement_holidays": sorted(day.isoformat() for day in ledger.settlement_holidays)}


def ledger_of(data: dict[str, Any]) -> CashLedger:
    return CashLedger(
        settled_cash=Decimal(data["settled_cash"]),
        pending=[PendingSettlement(Decimal(amount), dt.date.fromisoformat(day)) for amount, day in data["pending"]],
        fills=[CashFill(symbol, side, quantity, Decimal(price), ts, multiplier)
               for symbol, side, quantity, price, ts, multiplier in data["fills"]],
        opening_lots=[Lot(symbol, quantity, None if day is None else dt.date.fromisoformat(day))
                      for symbol, quantity, day in data["opening_lots"]],
        settlement_holidays=frozenset(dt.date.fromisoformat(day) for day in data["settlement_holidays"]))

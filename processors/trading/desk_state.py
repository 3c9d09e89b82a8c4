"""The trading desk's snapshot: its whole state as plain JSON-able data and back (`TradingDesk.snapshot`,
`TradingDesk.restore`): the account books, the paper broker, the trade manager, the orders, the working
entries, the intent ids seen, a live broker's outbox and the executions applied, the last overnight check.
The desk is typed `Any` here: this module is below desk.py (no import cycle).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from processors.paper import PaperBroker
from processors.trades import TradeManager
from processors.trading.book import AccountBook
from processors.trading.errors import TradingDeskError
from processors.trading.orders import DeskOrder

SNAPSHOT_FORMAT = 1


def snapshot_of(desk: Any) -> dict[str, Any]:
    return {"format": SNAPSHOT_FORMAT,
            "books": {a: book.snapshot() for a, book in desk._books.items()},
            "broker": desk._broker.snapshot(), "trade_manager": desk._manager.snapshot(),
            "orders": [order.to_dict() for order in desk._orders.values()],
            "working": list(desk._working), "seen": sorted(desk._seen),
            "outbox": [order.client_order_id for order in desk._outbox],
            "broker_execs": sorted(desk._broker_execs),
            "checked_day": None if desk._checked_day is None else desk._checked_day.isoformat()}


def restore_into(desk: Any, data: dict[str, Any]) -> None:
    """`desk`, new, put in the state `snapshot_of` gave; TradingDeskError when the data cannot be read."""
    config = desk.config
    try:
        books = data["books"]
        if sorted(books) != sorted(config.accounts):
            raise TradingDeskError("snapshot.books", f"holds {sorted(books)}, the config {sorted(config.accounts)}")
        desk._books = {a: AccountBook.restore(account, config.days, books[a], config.settlement_holidays)
                       for a, account in config.accounts.items()}
        desk._broker = PaperBroker.restore(data["broker"], config.fill_model)
        desk._manager = TradeManager.restore(config.trade_manager, data["trade_manager"])
        desk._orders = {o["client_order_id"]: DeskOrder.from_dict(o) for o in data["orders"]}
        desk._working = dict.fromkeys(data["working"])
        for order_id in desk._working:
            desk._track_working(desk._orders[order_id])
        desk._seen = set(data["seen"])
        desk._outbox = [desk._orders[order_id] for order_id in data.get("outbox", [])]
        desk._broker_execs = set(data.get("broker_execs", []))
        checked = data.get("checked_day")
        desk._checked_day = None if checked is None else dt.date.fromisoformat(checked)
    except (KeyError, TypeError, ValueError) as error:
        raise TradingDeskError("snapshot", f"cannot be read: {error!r}") from None

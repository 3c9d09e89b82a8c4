"""An operator's changes: to one account (`AccountChanged`), to the universal settings (`SettingsChanged`) and,
by hand, to one running trade (`TradeActionRequested`).

Part of processors.model (see its docstring for what every message shares).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal



@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChanged:
    """An operator's change of an account from ts_event on (schemas/account_changed.avsc)."""
    account_id: str
    kind: str
    ts_event: int
    ts_init: int
    reason: str
    operator: str = ""
    settings: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChanged:
    """A new version of the universal settings, in force from ts_event on (schemas/settings_changed.avsc)."""
    version: int
    ts_event: int
    ts_init: int
    reason: str
    operator: str = ""
    settings: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyChanged:
    """An operator's change of a strategy's configuration through the API (schemas/strategy_changed.avsc)."""
    strategy: str
    kind: str
    ts_event: int
    ts_init: int
    operator: str
    version: int = 0
    config: str = ""


STRATEGY_CHANGES = ("CREATED", "REPLACED", "ENABLED", "DISABLED", "DELETED")


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeActionRequested:
    """An operator's request to close, re-stop, re-target or re-size one running trade
    (schemas/trade_action_requested.avsc)."""
    action_id: str
    account_id: str
    trade_id: str
    action: str
    ts_event: int
    ts_init: int
    operator: str
    price: Decimal | None = None
    quantity: int | None = None
    reason: str = ""


TRADE_ACTIONS = ("CLOSE", "MOVE_STOP", "MOVE_TARGET", "CHANGE_QUANTITY")


def trade_action_id(trade_id: str, action: str, ts_event: int) -> str:
    """The deterministic id of a trade action: the same request, the same id."""
    return f"{trade_id}:manual:{action.lower()}:{ts_event}"

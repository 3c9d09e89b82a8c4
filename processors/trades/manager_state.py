"""The trade manager's account figures and its snapshot: `AccountFigures` (an account's running P&L, kill switch and
net open units), and the manager's whole state to plain JSON-able data and back (`TradeManager.snapshot`,
`TradeManager.restore`). The manager is typed `Any` here: this module is below manager.py (no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from processors.model import price_e8
from processors.risk.killswitch import KillSwitch
from processors.trades.errors import TradeError
from processors.trades.events import TradeStatus
from processors.trades.sweep import Price
from processors.trades.trade import TradeState

SNAPSHOT_VERSION = 1
ZERO = Decimal(0)


@dataclass(slots=True)
class AccountFigures:
    """An account's running P&L figures. `exit_minus_entry` is Σ over its trades of sign x (exit value - entry
    value), so the total P&L at marks is exit_minus_entry + Σ net open shares x mark - charges."""

    start_of_day_equity: Decimal | None = None
    baseline: Decimal = ZERO
    exit_minus_entry: Decimal = ZERO
    charges: Decimal = ZERO
    realised: Decimal = ZERO
    kill_switch: KillSwitch = field(default_factory=KillSwitch)
    net_open: dict[str, int] = field(default_factory=dict)


def snapshot_of(manager: Any) -> dict[str, Any]:
    """The manager's whole state as plain JSON-able data (str, int, bool, None, lists, dicts); Decimals as
    strings (`TradeManager.snapshot`)."""
    return {
        "version": SNAPSHOT_VERSION, "swept_ns": manager._swept_ns, "dirty": manager._dirty,
        "ordinal": manager._ordinal, "touched": sorted(manager._touched),
        "prices": {s: {"last": str(p.last), "low_e8": p.low_e8, "high_e8": p.high_e8}
                   for s, p in manager._prices.items()},
        "fill_marks": {s: str(p) for s, p in manager._fill_marks.items()},
        "accounts": {a: _account_dict(account) for a, account in manager._accounts.items()},
        "trades": [trade.to_dict() for trade in manager._trades.values()],
    }


def restore_into(manager: Any, data: dict[str, Any]) -> None:
    """`manager`, new, put in the state `snapshot_of` gave (`TradeManager.restore`); TradeError when the data is
    of another snapshot version."""
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        raise TradeError("snapshot.version", f"must be {SNAPSHOT_VERSION}, got "
                                             f"{data.get('version') if isinstance(data, dict) else data!r}")
    config = manager.config
    manager._swept_ns, manager._dirty, manager._ordinal = data["swept_ns"], data["dirty"], data["ordinal"]
    manager._touched = set(data["touched"])
    for symbol, price in data["prices"].items():
        last = Decimal(price["last"])
        manager._prices[symbol] = Price(last, price_e8(last), price["low_e8"], price["high_e8"])
    manager._fill_marks = {s: Decimal(p) for s, p in data["fill_marks"].items()}
    manager._accounts = {a: _account_of(d) for a, d in data["accounts"].items()}
    for item in data["trades"]:
        trade = TradeState.from_dict(item, config.strategy(item["strategy"]).risk_reduction)
        manager._trades[trade.trade_id] = trade
        if trade.status is TradeStatus.RUNNING:
            manager._by_symbol.setdefault(trade.symbol, {})[trade.trade_id] = trade
            manager._by_account.setdefault(trade.account_id, {})[trade.trade_id] = trade
            manager._by_strategy.setdefault(trade.strategy, {})[trade.trade_id] = trade
            if trade.fresh:
                manager._fresh.setdefault(trade.symbol, []).append(trade)
            net = manager._account(trade.account_id).net_open
            net[trade.symbol] = net.get(trade.symbol, 0) + trade.sign * trade.open_quantity * trade.multiplier
            manager._changed(trade)


def _account_dict(account: AccountFigures) -> dict[str, Any]:
    switch = account.kill_switch
    return {"start_of_day_equity": None if account.start_of_day_equity is None else str(account.start_of_day_equity),
            "baseline": str(account.baseline), "exit_minus_entry": str(account.exit_minus_entry),
            "charges": str(account.charges), "realised": str(account.realised),
            "kill_switch": {"tripped": switch.tripped, "reason": switch.reason, "tripped_at_ns": switch.tripped_at_ns,
                            "reset_reason": switch.reset_reason, "reset_at_ns": switch.reset_at_ns}}


def _account_of(data: dict[str, Any]) -> AccountFigures:
    equity = data["start_of_day_equity"]
    return AccountFigures(start_of_day_equity=None if equity is None else Decimal(equity),
                          baseline=Decimal(data["baseline"]),
                          exit_minus_entry=Decimal(data["exit_minus_entry"]), charges=Decimal(data["charges"]),
                          realised=Decimal(data["realised"]), kill_switch=KillSwitch(**data["kill_switch"]))

"""The desk's settings: one frozen record, checked when built (a `TradingDeskError` naming the field).

    DeskConfig(
        accounts=[Account(...)],                                   # processors.risk.Account, by account_id
        strategies={"breakout": StrategyTrading(account_id="acct-1", stop=StopPercent(Decimal(2)),
                                                target=TargetPercent(Decimal(4)), intraday=True, lot_size=1)},
        trade_manager=TradeManagerConfig(calendar=..., strategies={"breakout": StrategySettings(time_close=...)}),
        days=TradingDays.of(calendar),
        charges=default_charges_model(), fill_model=FillModel(slippage_ticks=0))

Per strategy (`StrategyTrading`), with the plan's names:

    account_id               the account its orders trade in (an account the desk does not hold makes its
                             intents rejected with the reason, not a start-up error: an account may be closed
                             while strategies still run, and the audit shows every refused intent)
    stop                     TM-Isp: StopPercent / StopAmount / StopPrice (processors.risk.stops), from the
                             intent's reference price; the risk decision puts it on the tick grid
    target                   TM-IProfit: TargetPercent(pct) or TargetAmount(amount) from the entry's first fill
                             price, on the tick grid away from it (a long's rounds up, a short's down); None: none
    intraday                 SS-Type: intraday (time-closed, intraday buying power) or positional
    lot_size                 orders in whole lots of this many units
    cap_at_intent_quantity   True: the intent's quantity (when above 0) caps the risk-sized quantity;
                             False (default): the quantity comes from the risk budget alone
    signal_type              SS-signal-Type, written in the deals report

The trade manager's own settings (time close, risk reduction, sweep interval, calendar) stay in its
`TradeManagerConfig`. Each desk account is added to it (its limits, its starting capital as the first day's
equity) unless it is there already; one that is there with other limits is refused, since the kill switch
would then latch at a different loss in the trade manager than in the risk decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from processors.charges import ChargesModel, default_charges_model
from processors.instruments.ticks import round_to_tick
from processors.paper import FillModel
from processors.risk import Account, StopAmount, StopPercent, StopPrice, TradingDays
from processors.trades import AccountSettings, TradeManagerConfig
from processors.trading.errors import TradingDeskError

BUY = "BUY"


def _positive(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)) or not Decimal(value).is_finite() \
            or Decimal(value) <= 0:
        raise TradingDeskError(name, f"must be a positive Decimal, got {value!r}")
    return Decimal(value)


@dataclass(frozen=True, slots=True)
class TargetPercent:
    """A target `pct` % of the entry price away from it (4 -> a long filled at 100.00 targets 104.00)."""

    pct: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "pct", _positive(self.pct, "target.pct"))

    def distance(self, entry_price: Decimal) -> Decimal:
        return entry_price * self.pct / 100


@dataclass(frozen=True, slots=True)
class TargetAmount:
    """A target `amount` in price units away from the entry price."""

    amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _positive(self.amount, "target.amount"))

    def distance(self, entry_price: Decimal) -> Decimal:
        return self.amount


TargetSpec = TargetPercent | TargetAmount


def target_price(spec: TargetSpec | None, side: str, entry_price: Decimal, tick: Decimal) -> Decimal | None:
    """The target on the tick grid away from `entry_price`; None without a spec or for a short's target at or
    below zero."""
    if spec is None:
        return None
    if side == BUY:
        return round_to_tick(entry_price + spec.distance(entry_price), tick, "sell")
    price = round_to_tick(entry_price - spec.distance(entry_price), tick, "buy")
    return price if price > 0 else None


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyTrading:
    """How the desk trades one strategy's intents (module docstring)."""

    account_id: str
    stop: StopPercent | StopAmount | StopPrice
    target: TargetSpec | None = None
    intraday: bool = True
    lot_size: int = 1
    cap_at_intent_quantity: bool = False
    signal_type: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.account_id, str) or not self.account_id.strip():
            raise TradingDeskError("strategy.account_id", f"must be a non-empty string, got {self.account_id!r}")
        if not isinstance(self.stop, (StopPercent, StopAmount, StopPrice)):
            raise TradingDeskError("strategy.stop", f"must be a StopPercent, StopAmount or StopPrice (TM-Isp), "
                                                    f"got {self.stop!r}")
        if self.target is not None and not isinstance(self.target, (TargetPercent, TargetAmount)):
            raise TradingDeskError("strategy.target", f"must be a TargetPercent, TargetAmount or None, "
                                                      f"got {self.target!r}")
        for name in ("intraday", "cap_at_intent_quantity"):
            if not isinstance(getattr(self, name), bool):
                raise TradingDeskError(f"strategy.{name}", f"must be True or False, got {getattr(self, name)!r}")
        if isinstance(self.lot_size, bool) or not isinstance(self.lot_size, int) or self.lot_size < 1:
            raise TradingDeskError("strategy.lot_size", f"must be an int of at least 1, got {self.lot_size!r}")
        if not isinstance(self.signal_type, str):
            raise TradingDeskError("strategy.signal_type", f"must be a string, got {self.signal_type!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class DeskConfig:
    """Everything the desk is configured with (none of it is in a snapshot: restore with the same config)."""

    accounts: Sequence[Account]
    strategies: Mapping[str, StrategyTrading]
    trade_manager: TradeManagerConfig
    days: TradingDays
    charges: ChargesModel = field(default_factory=default_charges_model)
    fill_model: FillModel = field(default_factory=FillModel)
    settlement_holidays: frozenset[dt.date] = frozenset()
    overnight_check_s: int = 15 * 60
    """How long before each day's close every account's positions are checked for overnight coverage."""

    def __post_init__(self) -> None:
        if isinstance(self.overnight_check_s, bool) or not isinstance(self.overnight_check_s, int) \
                or not 0 <= self.overnight_check_s <= 6 * 3600:
            raise TradingDeskError("overnight_check_s", f"must be whole seconds from 0 to 21,600, got "
                                                        f"{self.overnight_check_s!r}")
        accounts = tuple(self.accounts.values()) if isinstance(self.accounts, Mapping) else tuple(self.accounts)
        if any(not isinstance(a, Account) for a in accounts):
            raise TradingDeskError("accounts", "must hold processors.risk.Account records only")
        by_id = {a.account_id: a for a in accounts}
        if len(by_id) != len(accounts):
            raise TradingDeskError("accounts", "each account_id must be given once")
        object.__setattr__(self, "accounts", MappingProxyType(dict(sorted(by_id.items()))))
        if not isinstance(self.strategies, Mapping):
            raise TradingDeskError("strategies", "must map strategy names to StrategyTrading records")
        for name, settings in self.strategies.items():
            if not isinstance(settings, StrategyTrading):
                raise TradingDeskError(f"strategies.{name}", f"must be a StrategyTrading, got {settings!r}")
        object.__setattr__(self, "strategies", MappingProxyType(dict(self.strategies)))
        for name, kind in (("trade_manager", TradeManagerConfig), ("days", TradingDays), ("charges", ChargesModel),
                           ("fill_model", FillModel)):
            if not isinstance(getattr(self, name), kind):
                raise TradingDeskError(name, f"must be a {kind.__name__}, got {getattr(self, name)!r}")
        object.__setattr__(self, "settlement_holidays", frozenset(self.settlement_holidays))
        object.__setattr__(self, "trade_manager", _with_accounts(self.trade_manager, by_id))


def _with_accounts(config: TradeManagerConfig, accounts: Mapping[str, Account]) -> TradeManagerConfig:
    merged = dict(config.accounts)
    for account_id, account in sorted(accounts.items()):
        given = merged.get(account_id)
        if given is None:
            merged[account_id] = AccountSettings(limits=account.limits, start_of_day_equity=account.starting_capital)
        elif given.limits != account.limits:
            raise TradingDeskError(f"trade_manager.accounts.{account_id}.limits",
                                   "must be the account's own limits (the kill switch would latch at another loss)")
    return TradeManagerConfig(calendar=config.calendar, sweep_interval_s=config.sweep_interval_s,
                              strategies=config.strategies, accounts=merged)

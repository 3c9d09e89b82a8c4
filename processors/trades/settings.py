"""The trade manager's settings: one frozen, validated record per concern; a bad value raises `TradeError`
naming the field.

Glossary (the plan's names and their names in code):

    plan name        code                                      meaning
    TM-Isp           EntryFilled.stop_price                    a trade's initial stop (computed by the risk
                                                               decision, processors.risk.stops)
    TM-IProfit       EntryFilled.target_price                  a trade's profit target (optional)
    RR-Trigger       RiskReductionLevel.trigger_r              the price move, in multiples R of the trade's
                                                               initial per-share risk, that reduces it
    Qty-Sell         RiskReductionLevel.sell                   what is sold at that level: SellShares(n) or
                                                               SellFraction(f), in whole lots
    (stop move)      RiskReductionLevel.move_stop              BreakEven() or StopOffset(amount)
    RM-Max-sp        AccountSettings.limits.max_open_risk      the open-risk budget ($); realised P&L moves it
    RM-Max-sp%       AccountSettings.limits.max_drawdown_pct   the day's loss, % of start-of-day equity, at which
                                                               the kill switch latches
    SS-Type          EntryFilled.intraday                      intraday trades are time-closed; positional
                                                               ones only when TimeClose.positional is set

RR-Trigger is a multiple R of the initial per-share risk, |average entry - initial stop|: at 1R a long
bought at 100.00 with its stop at 98.00 is reduced when the price reaches 102.00. R (not a % move) was chosen
because it scales with the stop the strategy chose, which is how the trigger is meant ("take some off when
the trade has made what it risked"); a % trigger can be given as the equivalent R by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from processors.calendar import MarketCalendar
from processors.risk.account import RiskLimits
from processors.trades.errors import TradeError
from processors.trades.fields import bool_field, decimal_field, int_field, set_field

DEFAULT_SWEEP_INTERVAL_S = 5


@dataclass(frozen=True, slots=True)
class SellShares:
    """Sell `shares` at the level, rounded down to whole lots (and at most what is still open)."""

    shares: int

    def __post_init__(self) -> None:
        int_field(self.shares, "risk_reduction.sell.shares", minimum=1)

    def quantity(self, open_quantity: int, lot_size: int) -> int:
        return min(self.shares, open_quantity) // lot_size * lot_size


@dataclass(frozen=True, slots=True)
class SellFraction:
    """Sell `fraction` (0 < f <= 1) of the shares open at the level that no pending exit already covers,
    rounded down to whole lots (a fraction that rounds to no lot sells nothing; the stop still moves)."""

    fraction: Decimal

    def __post_init__(self) -> None:
        set_field(self, "fraction", decimal_field(self.fraction, "risk_reduction.sell.fraction", above=0,
                                                  maximum=1))

    def quantity(self, open_quantity: int, lot_size: int) -> int:
        return int(open_quantity * self.fraction) // lot_size * lot_size


@dataclass(frozen=True, slots=True)
class BreakEven:
    """Move the stop to the trade's average entry price."""


@dataclass(frozen=True, slots=True)
class StopOffset:
    """Move the stop `amount` towards the price (up for a long, down for a short)."""

    amount: Decimal

    def __post_init__(self) -> None:
        set_field(self, "amount", decimal_field(self.amount, "risk_reduction.move_stop.amount", above=0))


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskReductionLevel:
    """At `trigger_r` R in the trade's favour: sell `sell`, then move the stop by `move_stop` (None: keep it).
    A stop is only ever tightened: a move that would loosen it leaves it where it is."""

    trigger_r: Decimal
    sell: SellShares | SellFraction | None
    move_stop: BreakEven | StopOffset | None = None

    def __post_init__(self) -> None:
        set_field(self, "trigger_r", decimal_field(self.trigger_r, "risk_reduction.trigger_r", above=0))
        if self.sell is not None and not isinstance(self.sell, (SellShares, SellFraction)):
            raise TradeError("risk_reduction.sell", f"must be SellShares, SellFraction or None, got {self.sell!r}")
        if self.move_stop is not None and not isinstance(self.move_stop, (BreakEven, StopOffset)):
            raise TradeError("risk_reduction.move_stop", f"must be BreakEven, StopOffset or None, "
                                                         f"got {self.move_stop!r}")
        if self.sell is None and self.move_stop is None:
            raise TradeError("risk_reduction", "a level must sell something, move the stop, or both")


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeClose:
    """When the running trades are closed on a trading day, in ET: either `at_et` (e.g. 15:55) or
    `before_close_s` seconds before the day's regular close (from the NYSE calendar: 16:00, 13:00 on early
    closes).

    An absolute `at_et` is kept relative to the close on early-close days: a time at or after that day's
    early close is moved earlier by the early close's distance from `regular_close_et` (15:55 becomes 12:55
    on a 13:00 close); a time before the early close (10:30) is kept. Positional trades (held overnight) are
    closed only when `positional` is set.
    """

    at_et: dt.time | None = None
    before_close_s: int | None = None
    positional: bool = False
    regular_close_et: dt.time = dt.time(16, 0)

    def __post_init__(self) -> None:
        if (self.at_et is None) == (self.before_close_s is None):
            raise TradeError("time_close", "give exactly one of at_et and before_close_s")
        if self.at_et is not None and (not isinstance(self.at_et, dt.time) or self.at_et.tzinfo is not None):
            raise TradeError("time_close.at_et", f"must be a naive datetime.time (ET wall time), got {self.at_et!r}")
        if self.before_close_s is not None:
            int_field(self.before_close_s, "time_close.before_close_s", minimum=0)
        bool_field(self.positional, "time_close.positional")
        if not isinstance(self.regular_close_et, dt.time):
            raise TradeError("time_close.regular_close_et", f"must be a datetime.time, got {self.regular_close_et!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategySettings:
    """What the manager does with one strategy's trades beyond their stop and target."""

    time_close: TimeClose | None = None
    risk_reduction: tuple[RiskReductionLevel, ...] = ()

    def __post_init__(self) -> None:
        if self.time_close is not None and not isinstance(self.time_close, TimeClose):
            raise TradeError("strategy.time_close", f"must be a TimeClose or None, got {self.time_close!r}")
        levels = tuple(self.risk_reduction)
        if any(not isinstance(level, RiskReductionLevel) for level in levels):
            raise TradeError("strategy.risk_reduction", "must hold RiskReductionLevel records only")
        triggers = [level.trigger_r for level in levels]
        if triggers != sorted(set(triggers)):
            raise TradeError("strategy.risk_reduction", f"trigger_r must be strictly increasing, got {triggers}")
        set_field(self, "risk_reduction", levels)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountSettings:
    """An account's limits as the manager uses them (RM-Max-sp, RM-Max-sp%: see the glossary), the equity the
    day's loss is measured against, and an optional time close for all its trades."""

    limits: RiskLimits
    start_of_day_equity: Decimal
    time_close: TimeClose | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.limits, RiskLimits):
            raise TradeError("account.limits", f"must be a processors.risk.RiskLimits, got {self.limits!r}")
        set_field(self, "start_of_day_equity",
                  decimal_field(self.start_of_day_equity, "account.start_of_day_equity", above=0))
        if self.time_close is not None and not isinstance(self.time_close, TimeClose):
            raise TradeError("account.time_close", f"must be a TimeClose or None, got {self.time_close!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeManagerConfig:
    """Everything the manager is configured with (none of it is in a snapshot: restore with the same config).

    `calendar` must cover the days traded (a day it does not know has no time close). `sweep_interval_s`:
    the sweeps run at the instants that are multiples of it since the Unix epoch (UTC).
    """

    calendar: MarketCalendar
    sweep_interval_s: int = DEFAULT_SWEEP_INTERVAL_S
    strategies: Mapping[str, StrategySettings] = field(default_factory=dict)
    accounts: Mapping[str, AccountSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.calendar, MarketCalendar):
            raise TradeError("config.calendar", f"must be a processors.calendar.MarketCalendar, got {self.calendar!r}")
        int_field(self.sweep_interval_s, "config.sweep_interval_s", minimum=1)
        for name, kind in (("strategies", StrategySettings), ("accounts", AccountSettings)):
            mapping = getattr(self, name)
            if not isinstance(mapping, Mapping) or any(not isinstance(v, kind) for v in mapping.values()):
                raise TradeError(f"config.{name}", f"must map names to {kind.__name__} records")
            set_field(self, name, MappingProxyType(dict(mapping)))

    def strategy(self, name: str) -> StrategySettings:
        return self.strategies.get(name, NO_STRATEGY_SETTINGS)


NO_STRATEGY_SETTINGS = StrategySettings()

"""The trading sections of a strategy: `risk:` (its account, the initial stop TM-Isp, sizing), `trade:`
(target TM-IProfit, the monitor interval, the close-all time, risk reduction) and `charges:` (the
commission model; regulatory fees from the dated schedule). Each is a frozen dataclass validated through
its table, like the other sections, and read from YAML with every error reported at once.

    risk:
      account: paper-1            # the account in the accounts file the strategy trades in
      stop_pct: 2                 # TM-Isp: 2 % from the signal price (or stop_amount: 0.50, in USD)
      size_from_risk: true        # quantity = floor(risk budget / per-share risk); false: order.quantity is
                                  # asked for, and the risk decision may resize or reject it
    trade:
      target_pct: 4               # TM-IProfit (or target_amount), optional
      monitor_interval_s: 5       # how often stops and targets are checked, on event time
      close_all_at: "15:55"       # ET; moved earlier by as much on early-close days (12:55 at a 13:00 close)
      # close_before_close_minutes: 5     # the alternative: relative to the day's close
      close_positional: false     # also close trades held overnight (type positional) at that time
      risk_reduction:             # RR-Trigger in R (multiples of the initial per-share risk), Qty-Sell
        - {trigger_r: 1, sell_pct: 50, move_stop: break_even}
    charges:
      commission: ibkr_fixed      # ibkr_fixed ($0.005/share, min $1.00, max 1 % of trade value per
                                  # order) or none; per_share/minimum/maximum_pct override its figures
      regulatory_fees: true       # SEC Section 31 and FINRA TAF on sales, by trade date

`to_domain` methods build the pure packages' settings (`processors.risk.stops`, `processors.trades`,
`processors.charges`) from them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from processors.charges.commission import IBKR_FIXED, ZERO_COMMISSION, CommissionModel
from processors.risk.stops import StopAmount, StopPercent, StopSpec
from processors.scanner.config.checks import (INVALID, Checker, boolean, choice, describe, integer, optional,
                                              positive_decimal, wall_time)
from processors.scanner.config.mapping import format_time, read_decimal, read_time, section, write_fields
from processors.scanner.config.table import Field, Table, apply
from processors.trades.settings import (BreakEven, RiskReductionLevel, SellFraction, StrategySettings, TimeClose)

MAX_ACCOUNT_ID_LENGTH = 64
MAX_STOP_PCT = 50
MAX_TARGET_PCT = 1_000
MAX_PRICE_AMOUNT = 1_000_000
MAX_MONITOR_INTERVAL_S = 3_600
MAX_CLOSE_BEFORE_MINUTES = 6 * 60
MAX_TRIGGER_R = 100
MAX_RISK_REDUCTION_STEPS = 10
MAX_COMMISSION_PER_SHARE = 10
MAX_COMMISSION_MINIMUM = 1_000
COMMISSION_MODELS = ("ibkr_fixed", "none")
STOP_MOVES = ("break_even", "none")


def _account(checker: Checker, name: str, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, str) or not value.strip():
        return checker.add(name, f"must be an account id (text), got {describe(value)}")
    if len(value) > MAX_ACCOUNT_ID_LENGTH:
        return checker.add(name, f"must be at most {MAX_ACCOUNT_ID_LENGTH} characters, got {len(value)}")
    return value


def _exactly_one(first: str, second: str, required: bool) -> Any:
    def cross(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
        given = [name for name in (first, second) if values.get(name) is not None]
        if len(given) == 2:
            checker.add(second, f"give {first} or {second}, not both")
        elif required and not given:
            checker.add(first, f"required: give {first} (percent of the signal price) or {second} (USD)")
    return cross


def _non_negative(maximum: int) -> Any:
    """0, or a Decimal above 0 and at most `maximum` (floats refused)."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool) and value == 0:
            return Decimal(0)
        return positive_decimal(maximum)(checker, name, value)
    return check



# risk: -------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSettings:
    """The strategy's account and its entries' initial stop: `stop_pct` percent of the signal price or
    `stop_amount` USD from it (TM-Isp). With `size_from_risk` the risk decision sizes each entry from the
    account's risk budget alone; without, order.quantity is asked for and the risk decision may still
    resize it (down to what the budget and the caps allow) or reject it."""

    account: str
    stop_pct: Decimal | None = None
    stop_amount: Decimal | None = None
    size_from_risk: bool = True

    def __post_init__(self) -> None:
        apply(self, RISK)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(RISK, self)

    @property
    def stop(self) -> StopSpec:
        """The initial stop for `processors.risk`."""
        return StopPercent(self.stop_pct) if self.stop_pct is not None else StopAmount(self.stop_amount)


RISK = Table(RiskSettings, (
    Field("account", check=_account),
    Field("stop_pct", check=optional(positive_decimal(MAX_STOP_PCT)), read=read_decimal, write=str),
    Field("stop_amount", check=optional(positive_decimal(MAX_PRICE_AMOUNT)), read=read_decimal, write=str),
    Field("size_from_risk", check=boolean),
), cross=(_exactly_one("stop_pct", "stop_amount", required=True),))


# trade: ------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class RiskReductionStep:
    """At `trigger_r` R in the trade's favour, sell `sell_pct` percent of the open shares (whole lots; 0:
    sell nothing) and move the stop (`break_even` or `none`)."""

    trigger_r: Decimal
    sell_pct: Decimal = Decimal(0)
    move_stop: str = "break_even"

    def __post_init__(self) -> None:
        apply(self, STEP)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(STEP, self)

    def to_domain(self) -> RiskReductionLevel:
        return RiskReductionLevel(trigger_r=self.trigger_r,
                                  sell=SellFraction(self.sell_pct / 100) if self.sell_pct else None,
                                  move_stop=BreakEven() if self.move_stop == "break_even" else None)


def _does_something(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    if checked.get("sell_pct") == 0 and checked.get("move_stop") == "none":
        checker.add("sell_pct", "a step must sell something (sell_pct above 0), move the stop, or both")


STEP = Table(RiskReductionStep, (
    Field("trigger_r", check=positive_decimal(MAX_TRIGGER_R), read=read_decimal, write=str),
    Field("sell_pct", check=_non_negative(100), read=read_decimal, write=str),
    Field("move_stop", check=choice(STOP_MOVES)),
), cross=(_does_something,))
_read_step = section(STEP)


def _read_steps(checker: Checker, name: str, raw: Any) -> Any:
    if not isinstance(raw, (list, tuple)):
        return checker.add(name, f"must be a list of steps {{trigger_r, sell_pct, move_stop}}, got {describe(raw)}")
    steps = [_read_step(checker, f"{name}[{index}]", item) for index, item in enumerate(raw)]
    return tuple(steps) if all(isinstance(step, RiskReductionStep) for step in steps) else INVALID


def _steps(checker: Checker, name: str, value: Any) -> Any:
    if value is INVALID:
        return INVALID
    if not isinstance(value, tuple) or not all(isinstance(step, RiskReductionStep) for step in value):
        return checker.add(name, f"must be a tuple of RiskReductionStep, got {describe(value)}")
    if len(value) > MAX_RISK_REDUCTION_STEPS:
        return checker.add(name, f"must have at most {MAX_RISK_REDUCTION_STEPS} steps, got {len(value)}")
    triggers = [step.trigger_r for step in value]
    if triggers != sorted(set(triggers)):
        return checker.add(name, f"trigger_r must increase from step to step, got {', '.join(map(str, triggers))}")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeSettings:
    """What happens to a trade after its entry: the profit target (`target_pct` percent or `target_amount`
    USD from the entry, TM-IProfit; none: no target), the interval of the stop/target checks on event time,
    the daily close of running trades (`close_all_at` ET, or `close_before_close_minutes` before the day's
    close; positional trades only with `close_positional`), and the risk-reduction steps."""

    target_pct: Decimal | None = None
    target_amount: Decimal | None = None
    monitor_interval_s: int = 5
    close_all_at: dt.time | None = None
    close_before_close_minutes: int | None = None
    close_positional: bool = False
    risk_reduction: tuple[RiskReductionStep, ...] = ()

    def __post_init__(self) -> None:
        apply(self, TRADE)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(TRADE, self)

    def time_close(self) -> TimeClose | None:
        if self.close_all_at is not None:
            return TimeClose(at_et=self.close_all_at, positional=self.close_positional)
        if self.close_before_close_minutes is not None:
            return TimeClose(before_close_s=self.close_before_close_minutes * 60, positional=self.close_positional)
        return None

    def to_domain(self) -> StrategySettings:
        """The trade manager's settings of the strategy."""
        return StrategySettings(time_close=self.time_close(),
                                risk_reduction=tuple(step.to_domain() for step in self.risk_reduction))

    def target_price(self, entry_price: Decimal, long: bool) -> Decimal | None:
        """The target for an entry at `entry_price` (not on a tick grid: the caller rounds it)."""
        if self.target_pct is not None:
            move = entry_price * self.target_pct / 100
        elif self.target_amount is not None:
            move = self.target_amount
        else:
            return None
        return entry_price + move if long else entry_price - move


def _close_time(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    if values.get("close_all_at") is not None and values.get("close_before_close_minutes") is not None:
        checker.add("close_before_close_minutes", "give close_all_at or close_before_close_minutes, not both")


TRADE = Table(TradeSettings, (
    Field("target_pct", check=optional(positive_decimal(MAX_TARGET_PCT)), read=read_decimal, write=str),
    Field("target_amount", check=optional(positive_decimal(MAX_PRICE_AMOUNT)), read=read_decimal, write=str),
    Field("monitor_interval_s", check=integer(1, MAX_MONITOR_INTERVAL_S)),
    Field("close_all_at", check=optional(wall_time), read=read_time, write=format_time),
    Field("close_before_close_minutes", check=optional(integer(0, MAX_CLOSE_BEFORE_MINUTES))),
    Field("close_positional", check=boolean),
    Field("risk_reduction", check=_steps, read=_read_steps,
          write=lambda steps: [step.to_mapping() for step in steps]),
), cross=(_exactly_one("target_pct", "target_amount", required=False), _close_time))


# charges: ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class ChargesSettings:
    """How fills are charged: `commission` ibkr_fixed (IBKR Pro fixed, U.S. stocks: $0.005 per share,
    $1.00 minimum and 1 % of trade value maximum per order) or none, with `per_share`, `minimum` and
    `maximum_pct` overriding its figures; `regulatory_fees` the SEC Section 31 fee and FINRA TAF on sales
    from the dated schedule (processors/charges/regulatory_fees.csv)."""

    commission: str = "ibkr_fixed"
    per_share: Decimal | None = None
    minimum: Decimal | None = None
    maximum_pct: Decimal | None = None
    regulatory_fees: bool = True

    def __post_init__(self) -> None:
        apply(self, CHARGES)

    def to_mapping(self) -> dict[str, Any]:
        return write_fields(CHARGES, self)

    def commission_model(self) -> CommissionModel:
        base = IBKR_FIXED if self.commission == "ibkr_fixed" else ZERO_COMMISSION
        maximum = base.maximum_rate_of_trade_value if self.maximum_pct is None else self.maximum_pct / 100
        return CommissionModel(per_share=base.per_share if self.per_share is None else self.per_share,
                               minimum_per_order=base.minimum_per_order if self.minimum is None else self.minimum,
                               maximum_rate_of_trade_value=maximum)


CHARGES = Table(ChargesSettings, (
    Field("commission", check=choice(COMMISSION_MODELS)),
    Field("per_share", check=optional(_non_negative(MAX_COMMISSION_PER_SHARE)), read=read_decimal, write=str),
    Field("minimum", check=optional(_non_negative(MAX_COMMISSION_MINIMUM)), read=read_decimal, write=str),
    Field("maximum_pct", check=optional(positive_decimal(100)), read=read_decimal, write=str),
    Field("regulatory_fees", check=boolean),
))

read_risk, read_trade, read_charges = section(RISK), section(TRADE), section(CHARGES)

__all__ = ["CHARGES", "RISK", "STEP", "TRADE", "ChargesSettings", "RiskReductionStep", "RiskSettings",
           "TradeSettings", "read_charges", "read_risk", "read_trade"]

"""An account as it is written in a file (YAML or JSON loaded into plain values), read into `Account`.

    account = read_account(yaml.safe_load(text))     # AccountFileError listing every problem at once

The shape, with the plan's names beside the keys (money and percentages as strings or integers, never
floats: 0.1 in YAML is a binary float, "0.1" is the decimal that was meant):

    account_id: paper-1
    broker: paper                          # paper, or the live broker (ibkr)
    currency: USD
    starting_capital: "100000"
    regimes:                               # each in force from its date (00:00 New York time)
      - {from: 2026-01-01, regime: legacy_pdt}
      - {from: 2026-06-04, regime: intraday_margin}
    margin: {initial_pct: 50, maintenance_pct: 25}       # house levels; Reg-T/FINRA when left out
    limits:
      max_loss_per_trade: "500"            # RM-Max-sp-per-trade ($)
      max_loss_per_trade_pct: "1"          # RM-Max-sp-per-trade% (of equity)
      max_open_risk: "2000"                # RM-Max-sp ($)
      max_drawdown_pct: "3"                # RM-Max-sp% (the day's loss that latches the kill switch)
      max_active_trades: 5
      max_trades_per_day: 20
      max_position_pct: "25"               # Position%
      max_capital_utilized_pct: "100"      # Capital Utilized%
      stop_breach_policy: reject           # or adjust
    what_if_margin: false                  # a live account: IBKR's margin impact (whatIf) before each order

Unknown keys are refused (a misspelt limit must not fall back to a default silently).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from processors.risk.account import Account, MarginLevels, RegimePeriod, RiskLimits
from processors.risk.errors import RiskConfigError

ACCOUNT_KEYS = ("account_id", "broker", "currency", "starting_capital", "regimes", "margin", "limits",
                "pattern_day_trader_minimum_equity", "good_faith_violations_refused", "what_if_margin")
REQUIRED_KEYS = ("account_id", "broker", "starting_capital", "regimes", "limits")
LIMIT_DECIMALS = ("max_loss_per_trade", "max_loss_per_trade_pct", "max_open_risk", "max_drawdown_pct",
                  "max_position_pct", "max_capital_utilized_pct")
LIMIT_INTEGERS = ("max_active_trades", "max_trades_per_day")
LIMIT_KEYS = LIMIT_DECIMALS + LIMIT_INTEGERS + ("stop_breach_policy",)
MARGIN_KEYS = ("initial_pct", "maintenance_pct")


class AccountFileError(RiskConfigError):
    """An account file with problems; `problems` lists each as (dotted field, message), all at once."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(problems[0][0], "; ".join(f"{field}: {message}" for field, message in problems))


def read_decimal_value(value: Any, name: str) -> Decimal:
    """A Decimal from a string or an integer as written in a file; floats are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise RiskConfigError(name, f"must be written as a string or an integer (\"{value}\"), not the binary "
                                    f"float {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise RiskConfigError(name, f"must be a decimal number, got {value!r}") from None
        if result.is_finite():
            return result
    raise RiskConfigError(name, f"must be a decimal number, got {value!r}")


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise RiskConfigError(name, f"must be a date YYYY-MM-DD, got {value!r}")


class _Collector:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def take(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except RiskConfigError as error:
            self.problems.append((error.field, error.message))
            return None

    def unknown(self, data: Mapping, allowed: tuple[str, ...], prefix: str) -> None:
        for key in data:
            if key not in allowed:
                self.problems.append((f"{prefix}{key}", f"is not a setting here (known: {', '.join(allowed)})"))


def _mapping(value: Any, name: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise RiskConfigError(name, f"must be a mapping of settings, got {type(value).__name__}")
    return value


def _limits(collect: _Collector, data: Mapping) -> RiskLimits | None:
    before = len(collect.problems)
    collect.unknown(data, LIMIT_KEYS, "limits.")
    values: dict[str, Any] = {key: data[key] for key in (*LIMIT_INTEGERS, "stop_breach_policy") if key in data}
    for key in LIMIT_DECIMALS:
        if key in data:
            values[key] = collect.take(lambda key=key: read_decimal_value(data[key], f"limits.{key}"))
    for key in ("max_loss_per_trade", "max_loss_per_trade_pct", "max_open_risk", "max_drawdown_pct",
                *LIMIT_INTEGERS):
        if key not in data:
            collect.problems.append((f"limits.{key}", "is required"))
    if len(collect.problems) > before:
        return None
    return collect.take(lambda: RiskLimits(**values))


def _margin(collect: _Collector, data: Mapping) -> MarginLevels | None:
    collect.unknown(data, MARGIN_KEYS, "margin.")
    values = {key: collect.take(lambda key=key: read_decimal_value(data[key], f"margin.{key}"))
              for key in MARGIN_KEYS if key in data}
    if any(value is None for value in values.values()):
        return None
    return collect.take(lambda: MarginLevels(**values))


def _regimes(collect: _Collector, data: Any) -> tuple[RegimePeriod, ...] | None:
    if not isinstance(data, list) or not data:
        collect.problems.append(("regimes", "must be a non-empty list of {from: YYYY-MM-DD, regime: ...}"))
        return None
    periods = []
    for index, item in enumerate(data):
        name = f"regimes[{index}]"
        if not isinstance(item, Mapping) or set(item) != {"from", "regime"}:
            collect.problems.append((name, f"must be {{from: YYYY-MM-DD, regime: legacy_pdt | intraday_margin | "
                                           f"cash}}, got {item!r}"))
            continue
        period = collect.take(lambda item=item, name=name: RegimePeriod(_date(item["from"], f"{name}.from"),
                                                                        item["regime"]))
        if period is not None:
            periods.append(period)
    return tuple(periods) if len(periods) == len(data) else None


def read_account(data: Any) -> Account:
    """The account written in `data`; AccountFileError naming every problem."""
    collect = _Collector()
    data = collect.take(lambda: _mapping(data, "account"))
    if data is None:
        raise AccountFileError(collect.problems)
    collect.unknown(data, ACCOUNT_KEYS, "")
    for key in REQUIRED_KEYS:
        if key not in data:
            collect.problems.append((key, "is required"))
    values: dict[str, Any] = {key: data[key] for key in ("account_id", "broker", "currency",
                                                         "good_faith_violations_refused", "what_if_margin")
                              if key in data}
    for key in ("starting_capital", "pattern_day_trader_minimum_equity"):
        if key in data:
            values[key] = collect.take(lambda key=key: read_decimal_value(data[key], key))
    if "regimes" in data:
        values["regimes"] = _regimes(collect, data["regimes"])
    if "limits" in data:
        limits = collect.take(lambda: _mapping(data["limits"], "limits"))
        values["limits"] = None if limits is None else _limits(collect, limits)
    if "margin" in data:
        margin = collect.take(lambda: _mapping(data["margin"], "margin"))
        values["margin"] = None if margin is None else _margin(collect, margin)
    if collect.problems or any(value is None for value in values.values()):
        raise AccountFileError(collect.problems or [("account", "has invalid settings")])
    account = collect.take(lambda: Account(**values))
    if account is None:
        raise AccountFileError(collect.problems)
    return account


def write_account(account: Account) -> dict[str, Any]:
    """`account` as plain file values; `read_account` of the result equals it."""
    limits = account.limits
    return {
        "account_id": account.account_id, "broker": account.broker, "currency": account.currency,
        "starting_capital": str(account.starting_capital),
        "regimes": [{"from": p.effective_from.isoformat(), "regime": p.regime.value} for p in account.regimes],
        "margin": {"initial_pct": str(account.margin.initial_pct),
                   "maintenance_pct": str(account.margin.maintenance_pct)},
        "limits": {**{key: str(getattr(limits, key)) for key in LIMIT_DECIMALS},
                   **{key: getattr(limits, key) for key in LIMIT_INTEGERS},
                   "stop_breach_policy": limits.stop_breach_policy.value},
        "pattern_day_trader_minimum_equity": str(account.pattern_day_trader_minimum_equity),
        "good_faith_violations_refused": account.good_faith_violations_refused,
        "what_if_margin": account.what_if_margin,
    }

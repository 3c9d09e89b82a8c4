"""The account model validates every field and names the one that is wrong."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest

from processors.risk import Account, MarginLevels, RegimePeriod, RiskConfigError, RiskLimits, StopPercent
from schemas.errors import TradestreamError

from .conftest import CUT_OVER, LIMITS

D = Decimal


def field_of(make) -> str:
    with pytest.raises(RiskConfigError) as error:
        make()
    assert isinstance(error.value, TradestreamError) and isinstance(error.value, ValueError)
    return error.value.field


def make(**fields) -> Account:
    base = {"account_id": "acct-1", "broker": "paper", "starting_capital": D(50_000), "regimes": CUT_OVER,
            "limits": LIMITS}
    return Account(**{**base, **fields})


def test_reg_t_levels_are_the_default_and_validated() -> None:
    assert (make().margin.initial_pct, make().margin.maintenance_pct) == (D(50), D(25))
    assert field_of(lambda: MarginLevels(initial_pct=D(30), maintenance_pct=D(35))) == "margin.maintenance_pct"
    assert field_of(lambda: MarginLevels(initial_pct=D(101))) == "margin.initial_pct"
    assert field_of(lambda: MarginLevels(maintenance_pct=D(0))) == "margin.maintenance_pct"
    assert MarginLevels(initial_pct=D(100), maintenance_pct=D(100)).initial_pct == D(100)


@pytest.mark.parametrize(("name", "value"), [
    ("max_loss_per_trade", D(0)), ("max_loss_per_trade", 0.5), ("max_loss_per_trade_pct", D(101)),
    ("max_open_risk", D(-1)), ("max_drawdown_pct", D(0)), ("max_position_pct", D("NaN")),
    ("max_capital_utilized_pct", D(0)), ("max_active_trades", 0), ("max_trades_per_day", True),
    ("stop_breach_policy", "shrug"),
])
def test_each_limit_is_validated_by_name(name, value) -> None:
    assert field_of(lambda: replace(LIMITS, **{name: value})) == f"limits.{name}"


def test_limits_accept_ints_and_the_policy_by_name() -> None:
    limits = RiskLimits(max_loss_per_trade=500, max_loss_per_trade_pct=1, max_open_risk=2000, max_drawdown_pct=3,
                        max_active_trades=1, max_trades_per_day=1, stop_breach_policy="adjust")
    assert limits.max_loss_per_trade == D(500) and limits.stop_breach_policy.value == "adjust"


@pytest.mark.parametrize(("fields", "name"), [
    ({"account_id": ""}, "account_id"), ({"broker": " "}, "broker"), ({"currency": "usd"}, "currency"),
    ({"starting_capital": D(0)}, "starting_capital"), ({"starting_capital": 50_000.0}, "starting_capital"),
    ({"regimes": ()}, "regimes"), ({"regimes": [(dt.date(2026, 1, 1), "margin")]}, "regimes.regime"),
    ({"regimes": [(dt.date(2026, 7, 1), "cash"), (dt.date(2026, 6, 4), "legacy_pdt")]}, "regimes"),
    ({"regimes": [(dt.date(2026, 6, 3), "intraday_margin")]}, "regimes.effective_from"),
    ({"regimes": [("2026-06-04", "cash")]}, "regimes.effective_from"),
    ({"pattern_day_trader_minimum_equity": D(20_000)}, "pattern_day_trader_minimum_equity"),
    ({"limits": None}, "limits"),
])
def test_the_account_names_the_wrong_field(fields, name) -> None:
    assert field_of(lambda: make(**fields)) == name


def test_regimes_accept_pairs_and_keep_periods() -> None:
    acct = make(regimes=[(dt.date(2026, 1, 1), "cash"), (dt.date(2026, 6, 4), "intraday_margin")])
    assert acct.regimes == (RegimePeriod(dt.date(2026, 1, 1), "cash"), RegimePeriod(dt.date(2026, 6, 4),
                                                                                      "intraday_margin"))
    assert acct.regime_on(dt.date(2026, 6, 3)).value == "cash"


def test_stop_settings_are_validated() -> None:
    assert field_of(lambda: StopPercent(D(0))) == "stop.pct"
    assert field_of(lambda: StopPercent(2.0)) == "stop.pct"

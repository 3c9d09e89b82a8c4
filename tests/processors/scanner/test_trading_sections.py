"""The strategy's trading sections (risk:, trade:, charges:): read with every error at once, written
back the same, and turned into the risk, trade-manager and charges settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from processors.charges.commission import IBKR_FIXED
from processors.risk.stops import StopAmount, StopPercent
from processors.scanner import ScannerConfig, ScannerConfigError
from processors.trades.settings import BreakEven, SellFraction, TimeClose

from .test_scanner_config import changed, equity

D = Decimal
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "strategies"


def managed(**sections: Any) -> dict[str, Any]:
    data = changed(equity(), {"risk": {"account": "paper-1", "stop_pct": 2}})
    data.update(sections)
    return data


def errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ScannerConfigError) as caught:
        ScannerConfig.from_mapping(data)
    return [(error.field, error.message) for error in caught.value.errors]


def test_a_strategy_without_trading_sections_trades_nothing_and_charges_default_to_ibkr() -> None:
    config = ScannerConfig.from_mapping(equity())
    assert config.risk is None and config.trade is None
    assert config.charges.commission_model() == IBKR_FIXED and config.charges.regulatory_fees


def test_the_sections_read_into_the_domain_settings() -> None:
    config = ScannerConfig.from_mapping(managed(
        trade={"target_pct": 4, "monitor_interval_s": 10, "close_all_at": "15:55",
               "risk_reduction": [{"trigger_r": 1, "sell_pct": 50, "move_stop": "break_even"},
                                  {"trigger_r": 2, "sell_pct": 25, "move_stop": "none"}]},
        charges={"commission": "ibkr_fixed", "minimum": "0.35", "regulatory_fees": False}))
    assert config.risk.stop == StopPercent(D(2)) and config.risk.size_from_risk
    strategy = config.trade.to_domain()
    assert strategy.time_close == TimeClose(at_et=dt.time(15, 55))
    assert [(level.trigger_r, level.sell, level.move_stop) for level in strategy.risk_reduction] == [
        (D(1), SellFraction(D("0.5")), BreakEven()), (D(2), SellFraction(D("0.25")), None)]
    assert config.trade.target_price(D("100.00"), long=True) == D("104.00")
    assert config.trade.target_price(D("100.00"), long=False) == D("96.00")
    model = config.charges.commission_model()
    assert (model.per_share, model.minimum_per_order, model.maximum_rate_of_trade_value) == (
        D("0.005"), D("0.35"), D("0.01"))
    assert not config.charges.regulatory_fees


def test_written_out_and_read_again_the_sections_are_the_same() -> None:
    config = ScannerConfig.from_mapping(managed(
        risk={"account": "paper-1", "stop_amount": "0.50", "size_from_risk": False},
        trade={"target_amount": "1.25", "close_before_close_minutes": 5, "close_positional": True,
               "risk_reduction": [{"trigger_r": "1.5", "sell_pct": "33.3"}]},
        charges={"commission": "none"}))
    assert config.risk.stop == StopAmount(D("0.50"))
    assert config.trade.time_close() == TimeClose(before_close_s=300, positional=True)
    again = ScannerConfig.from_mapping(yaml.safe_load(yaml.safe_dump(config.to_mapping())))
    assert (again.risk, again.trade, again.charges) == (config.risk, config.trade, config.charges)


def test_every_error_of_the_sections_is_reported_at_once() -> None:
    found = errors(changed(equity(), {
        "risk": {"account": "", "stop_pct": 2, "stop_amount": 1},
        "trade": {"target_pct": -1, "monitor_interval_s": 0, "close_all_at": "15:55",
                  "close_before_close_minutes": 5, "risk_reduction": [{"trigger_r": 2}, {"trigger_r": 1}],
                  "trailing": True},
        "charges": {"commission": "ibkr_tiered"}}))
    fields = [field for field, _ in found]
    assert fields == ["risk.account", "risk.stop_amount", "trade.trailing", "trade.target_pct",
                      "trade.monitor_interval_s", "trade.risk_reduction", "trade.close_before_close_minutes",
                      "charges.commission"]
    assert "trigger_r must increase" in dict(found)["trade.risk_reduction"]


def test_a_risk_reduction_step_must_do_something() -> None:
    found = errors(managed(trade={"risk_reduction": [{"trigger_r": 1, "sell_pct": 0, "move_stop": "none"}]}))
    assert found == [("trade.risk_reduction[0].sell_pct",
                      "a step must sell something (sell_pct above 0), move the stop, or both")]


def test_a_trade_section_needs_a_risk_section() -> None:
    data = changed(equity(), {"trade": {"target_pct": 4}})
    assert errors(data) == [("trade", "needs a risk section: trades are managed from their initial stop "
                                      "(risk.stop_pct or risk.stop_amount) in the account named by risk.account")]


def test_a_risk_section_needs_its_stop() -> None:
    assert [field for field, _ in errors(changed(equity(), {"risk": {"account": "paper-1"}}))] == ["risk.stop_pct"]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda path: path.name)
def test_the_example_strategies_validate(path: Path) -> None:
    ScannerConfig.from_mapping(yaml.safe_load(path.read_text()))

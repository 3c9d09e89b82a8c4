"""The rules and the strategy's conditions are compiled once, with the configuration; the scanner
package does not depend on the strategies."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from processors.rules import compile_rule
from processors.scanner import ScannerConfig, ScannerRules


def settings(**changes: Any) -> dict[str, Any]:
    return {"name": "rules", "type": "intraday", "instrument": "equity", "days": "all", "interval": "5m",
            "max_signals_per_day": 5, "max_signals_per_symbol": 2, "direction": "long", "mode": "virtual",
            "symbols": ["SPY", "QQQ"], "timeframe": "15m", "entry_rules": ["price(SPY) > 1"],
            "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 10}} | changes


def test_one_entry_rule_is_the_buy_condition_itself():
    config = ScannerConfig.from_mapping(settings())
    assert config.rules.buy is config.rules.entry[0] and config.rules.sell is None


def test_entry_rules_are_anded_into_the_sell_condition_when_short():
    config = ScannerConfig.from_mapping(settings(direction="short", entry_rules=["price(SPY) > 1", "price(QQQ) < 2"]))
    assert config.rules.buy is None
    assert config.rules.sell == compile_rule("(price(SPY) > 1) and (price(QQQ) < 2)", symbols={"SPY", "QQQ"})


def test_correlation_conditions_carry_the_custom_rules():
    config = ScannerConfig.from_mapping(settings(strategy="correlation", primary="SPY", correlated="QQQ",
                                                 direction="both", entry_rules=["price(SPY) > 1"]))
    assert config.rules.buy.text == ("(price(SPY) > swing_high(SPY, 15m) and price(QQQ) < swing_low(QQQ, 15m)) "
                                     "and (price(SPY) > 1)")
    assert config.rules.sell.text == ("(price(SPY) < swing_low(SPY, 15m) and price(QQQ) > swing_high(QQQ, 15m)) "
                                      "and (price(SPY) > 1)")


def test_compile_gives_the_rules_of_a_config():
    config = ScannerConfig.from_mapping(settings(direction="both", exit_rules=["price(QQQ) < 3"]))
    assert ScannerRules.compile(strategy="rules", direction="both", primary=None, correlated=None, timeframe="15m",
                                entry_rules=config.entry_rules, exit_rules=config.exit_rules,
                                symbols=config.symbols) == config.rules


def test_compile_raises_at_the_first_bad_rule():
    with pytest.raises(ValueError, match="unknown symbol 'IWM'"):
        ScannerRules.compile(strategy="rules", direction="long", primary=None, correlated=None, timeframe="5m",
                             entry_rules=["price(IWM) > 1"], exit_rules=[], symbols={"SPY"})


def test_the_scanner_does_not_import_the_strategies():
    code = ("import sys, processors.scanner; "
            "print(sorted(m for m in sys.modules if m.startswith('processors.strategies')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"

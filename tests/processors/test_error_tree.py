"""The domain errors are `TradestreamError`s, so one `except` handles anything of ours, and remain
`ValueError`s, so callers that catch bad input as ValueError keep working."""

from __future__ import annotations

import pytest

from processors.charges.errors import ChargesError, FeeScheduleError
from processors.csvio import CsvFormatError
from processors.orders.intents import IntentError
from processors.paper.errors import PaperBrokerError
from processors.pnl import PnlError
from processors.risk.errors import RiskConfigError
from processors.rules import RuleError, RuleSyntaxError, RuleTypeError
from processors.scanner import FieldError, ScannerConfigError
from processors.settings import SettingsError
from processors.trades.errors import TradeError
from schemas.errors import TradestreamError

ERRORS = [
    RuleError("bad", 0, "x"), RuleSyntaxError("bad", 0, "x"), RuleTypeError("bad", 0, "x"),
    ScannerConfigError([FieldError("name", "must not be empty")]), CsvFormatError("line 2: bad"),
    IntentError("no option chain"), ChargesError("quantity 0"), FeeScheduleError("no SEC row on 2024-01-02"),
    PnlError("exits beyond the entries"), RiskConfigError("limits.max_open_risk", "must be positive"),
    PaperBrokerError("trade.price", "must be above zero"), TradeError("entry.quantity", "must be at least 1"),
    SettingsError([FieldError("capital", "must be greater than 0")]),
]


@pytest.mark.parametrize("error", ERRORS, ids=[type(error).__name__ for error in ERRORS])
def test_domain_errors_are_tradestream_errors_and_value_errors(error: Exception) -> None:
    assert isinstance(error, TradestreamError) and isinstance(error, ValueError)
    with pytest.raises(TradestreamError):
        raise error

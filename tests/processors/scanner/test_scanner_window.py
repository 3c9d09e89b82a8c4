"""The scanner's window must hold an instant at which its timeframe is evaluated: the session close
for 1d (16:00 ET, 13:00 on early-close days), at least one bar for an intraday timeframe. A window
without one is refused at validation, naming the setting, with the configuration's other errors."""

from __future__ import annotations

from typing import Any

import pytest

from processors.scanner import FieldError, ScannerConfig, ScannerConfigError


def config(**settings: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "SPY daily", "type": "positional", "instrument": "equity", "days": "all", "interval": "1m",
        "max_signals_per_day": 5, "max_signals_per_symbol": 2, "direction": "long", "mode": "virtual",
        "symbols": ["SPY"], "timeframe": "1d", "entry_rules": ["close(SPY, 1d) > 1"],
        "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 1},
    }
    data.update(settings)
    return data


def errors_of(data: dict[str, Any]) -> list[FieldError]:
    with pytest.raises(ScannerConfigError) as caught:
        ScannerConfig.from_mapping(data)
    return caught.value.errors


@pytest.mark.parametrize("settings", [
    {},                                                                     # 09:30-16:00
    {"start_time": "12:59", "end_time": "16:00"},
    {"extended_hours": True, "start_time": "04:00", "end_time": "18:00"},
    {"timeframe": "1h", "start_time": "10:00", "end_time": "11:00"},        # exactly one bar
    {"timeframe": "15m", "start_time": "15:45", "end_time": "16:00"},
])
def test_windows_holding_an_evaluation_instant_are_accepted(settings: dict[str, Any]) -> None:
    ScannerConfig.from_mapping(config(**settings))


@pytest.mark.parametrize(("settings", "field", "fragments"), [
    ({"end_time": "15:00"}, "end_time", ("15:00 ends before the session close 16:00 ET", "1d", '"16:00"')),
    ({"end_time": "15:59"}, "end_time", ("15:59 ends before", "never be evaluated")),
    ({"start_time": "13:00"}, "start_time", ("13:00 is not before 13:00 ET", "early-close")),
    ({"timeframe": "1h", "start_time": "09:30", "end_time": "10:29"}, "end_time",
     ("09:30-10:29 ET (59 min)", "shorter than one 1h bar")),
    ({"timeframe": "5m", "start_time": "10:15", "end_time": "10:16"}, "end_time", ("shorter than one 5m bar",)),
])
def test_a_window_without_an_evaluation_instant_is_refused(settings: dict[str, Any], field: str,
                                                           fragments: tuple[str, ...]) -> None:
    errors = errors_of(config(**settings))
    assert [error.field for error in errors] == [field]
    for fragment in fragments:
        assert fragment in errors[0].message


def test_it_is_reported_with_the_other_errors_in_setting_order() -> None:
    errors = errors_of(config(end_time="14:00", max_signals_per_symbol=9, symbols=["SPY", "spy"]))
    assert [error.field for error in errors] == ["end_time", "max_signals_per_symbol", "symbols[1]"]


def test_a_window_already_refused_is_not_reported_again() -> None:
    errors = errors_of(config(start_time="15:00", end_time="14:00"))
    assert [error.field for error in errors] == ["end_time"] and "must be after start_time" in errors[0].message
    errors = errors_of(config(end_time="17:00"))
    assert [error.field for error in errors] == ["end_time"] and "outside the regular session" in errors[0].message

"""The universal settings: defaults, every problem reported at once, JSON/YAML round trip without floats."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from processors.calendar import SessionHours
from processors.instruments.options import CategorySplit
from processors.settings import SettingsError, UniversalSettings, read_settings, write_settings

TEXT = """
capital: "250000.50"
regular_open: "09:45"
extra_closed_dates: [2026-12-24]
extra_half_days: ["2026-12-31", 2026-07-02]
option_category_split: {mode: percent, itm_pct: "0.02", otm_pct: "0.03", deep_pct: "0.10"}
"""


def test_defaults_are_the_exchange_hours_in_et() -> None:
    settings = UniversalSettings(capital=Decimal("100000"))
    assert (settings.pre_market_open, settings.regular_open, settings.regular_close, settings.post_market_close,
            settings.early_close, settings.early_post_market_close) == (
        dt.time(4), dt.time(9, 30), dt.time(16), dt.time(20), dt.time(13), dt.time(17))
    assert settings.exchange == "NYSE" and settings.option_category_split == CategorySplit()
    assert settings.session_hours() == SessionHours()


def test_a_file_is_read_normalised_and_written_back_the_same() -> None:
    settings = read_settings(yaml.safe_load(TEXT))
    assert settings.capital == Decimal("250000.50")
    assert settings.regular_open == dt.time(9, 45)
    assert settings.extra_closed_dates == (dt.date(2026, 12, 24),)
    assert settings.extra_half_days == (dt.date(2026, 7, 2), dt.date(2026, 12, 31))  # sorted
    assert settings.option_category_split == CategorySplit(mode="percent", itm_pct=Decimal("0.02"),
                                                           otm_pct=Decimal("0.03"), deep_pct=Decimal("0.10"))
    written = write_settings(settings)
    assert written["capital"] == "250000.50" and written["extra_half_days"] == ["2026-07-02", "2026-12-31"]
    assert written["regular_open"] == "09:45"
    assert read_settings(written) == settings
    assert read_settings(yaml.safe_load(yaml.safe_dump(written))) == settings


def test_every_problem_is_reported_at_once_in_the_order_of_the_settings() -> None:
    with pytest.raises(SettingsError) as caught:
        read_settings({"capital": 0.1, "exchange": "LSE", "pre_market_open": 400, "regular_close": "25:00",
                       "extra_closed_dates": ["2026-12-26", "2026-12-24", "2026-12-24"],
                       "option_category_split": {"itm_strikes": 0}, "currency": "USD"})
    assert caught.value.fields == [
        "capital", "exchange", "pre_market_open", "regular_close", "extra_closed_dates[0]",
        "extra_closed_dates[2]", "option_category_split.itm_strikes", "currency"]
    messages = str(caught.value).splitlines()
    assert messages[0] == 'capital: must be written as a string or an integer ("0.1"), not the binary float 0.1'
    assert "quote the time" in messages[2]                      # YAML read 04:00 unquoted as a number
    assert messages[4] == "extra_closed_dates[0]: 2026-12-26 is a Saturday: the exchange is closed on weekends anyway"
    assert messages[5] == "extra_closed_dates[2]: 2026-12-24 is listed twice"
    assert messages[7].startswith("currency: unknown setting")


def test_hours_out_of_order_and_a_day_both_closed_and_half_are_refused_together() -> None:
    with pytest.raises(SettingsError) as caught:
        UniversalSettings(capital=Decimal("1"), pre_market_open=dt.time(10), regular_close=dt.time(9),
                          early_close=dt.time(9, 30), early_post_market_close=dt.time(21),
                          extra_closed_dates=(dt.date(2026, 12, 24),), extra_half_days=(dt.date(2026, 12, 24),))
    assert caught.value.fields == ["pre_market_open", "regular_close", "early_close", "early_post_market_close",
                                   "extra_half_days"]
    assert "a day is closed or a half-day, not both" in str(caught.value)


@pytest.mark.parametrize("capital, message", [
    (Decimal("0"), "must be greater than 0"),
    (0.5, "must be a Decimal, got float"),
    (None, "must be a number"),
])
def test_capital_is_a_positive_decimal(capital, message) -> None:
    with pytest.raises(SettingsError, match=message):
        UniversalSettings(capital=capital)


def test_capital_is_required_and_settings_must_be_a_mapping() -> None:
    with pytest.raises(SettingsError, match="capital: required setting is missing"):
        read_settings({})
    with pytest.raises(SettingsError, match="settings: must be a mapping"):
        read_settings(["capital"])

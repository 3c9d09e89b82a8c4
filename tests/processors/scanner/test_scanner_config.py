"""The scanner configuration: every setting's validation, errors collected at once, round trips and
the DST-correct scan window, against expectations worked out by hand."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import yaml

from processors.instruments.futures import RollRule
from processors.instruments.options import CategorySplit, StrikeCategory
from processors.rules import RuleError, compile_rule
from processors.scanner import (
    FieldError,
    FuturesSettings,
    OptionSettings,
    OrderSettings,
    SanitySettings,
    ScannerConfig,
    ScannerConfigError,
)

UTC = dt.timezone.utc
DELETE = object()


def equity() -> dict[str, Any]:
    """A valid config with only the required settings."""
    return {
        "name": "SPY breakout",
        "type": "intraday",
        "instrument": "equity",
        "days": "all",
        "interval": "5m",
        "max_signals_per_day": 5,
        "max_signals_per_symbol": 2,
        "direction": "long",
        "mode": "virtual",
        "symbols": ["SPY", "QQQ"],
        "timeframe": "15m",
        "entry_rules": ["price(SPY) > swing_high(SPY, 15m)"],
        "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 10},
    }


def option() -> dict[str, Any]:
    return changed(equity(), {"instrument": "option", "expiry": "weekly",
                              "option": {"right": "call", "category": "ATM"}})


def futures() -> dict[str, Any]:
    return changed(equity(), {"instrument": "futures", "expiry": "monthly", "symbols": ["ESZ6"],
                              "entry_rules": ["price(ESZ6) > donchian_upper(ESZ6, 5m, 20)"],
                              "futures": {"root": "ES", "roll": "volume", "roll_days": 3}})


def correlation() -> dict[str, Any]:
    return changed(equity(), {"strategy": "correlation", "primary": "SPY", "correlated": "QQQ", "entry_rules": []})


def changed(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `data` with dotted paths set to new values (or removed with DELETE)."""
    result = copy.deepcopy(data)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = result
        for part in parents:
            target = target.setdefault(part, {})
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return result


def errors_of(data: Any) -> list[FieldError]:
    with pytest.raises(ScannerConfigError) as caught:
        ScannerConfig.from_mapping(data)
    return caught.value.errors


def only_error(data: Any) -> FieldError:
    errors = errors_of(data)
    assert len(errors) == 1, "\n".join(map(str, errors))
    return errors[0]


def utc_ns(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp()) * 1_000_000_000


# Valid configs ----------------------------------------------------------------------------------

def test_minimal_equity_config_gets_the_documented_defaults():
    config = ScannerConfig.from_mapping(equity())
    assert config.days == ("mon", "tue", "wed", "thu", "fri")
    assert config.start_time == dt.time(9, 30) and config.end_time == dt.time(16, 0)
    assert config.extended_hours is False
    assert config.interval == dt.timedelta(minutes=5) and config.interval_s == 300
    assert config.timeframe_s == 900
    assert config.strategy == "rules" and config.exit_rules == ()
    assert config.sanity == SanitySettings(max_deviation_pct=Decimal(10), max_staleness_seconds=120)
    assert config.order == OrderSettings(exchange="SMART", order_type="market", product="margin", quantity=10,
                                         limit_offset_ticks=0, stop_offset_ticks=0, multiplier=1)
    assert config.expiry is None and config.option is None and config.futures is None
    assert config.symbols == ("SPY", "QQQ")


def test_days_are_stored_in_calendar_order():
    config = ScannerConfig.from_mapping(changed(equity(), {"days": ["fri", "mon", "wed"]}))
    assert config.days == ("mon", "wed", "fri")
    assert config.weekdays == frozenset({0, 2, 4})


@pytest.mark.parametrize(("text", "seconds"), [
    ("1s", 1), ("30s", 30), ("1m", 60), ("1.5m", 90), ("15m", 900), ("1h", 3600), ("0.5h", 1800), ("1d", 86400),
])
def test_interval_is_parsed_to_whole_seconds(text, seconds):
    config = ScannerConfig.from_mapping(changed(equity(), {"interval": text}))
    assert config.interval_s == seconds


@pytest.mark.parametrize(("timeframe", "seconds"), [("1m", 60), ("5m", 300), ("90m", 5400), ("4h", 14400),
                                                    ("1d", 86400)])
def test_timeframe_accepts_minutes_hours_and_one_day(timeframe, seconds):
    assert ScannerConfig.from_mapping(changed(equity(), {"timeframe": timeframe})).timeframe_s == seconds


@pytest.mark.parametrize("name", ["a", "x" * 64, "SPY_QQQ-pair.v2 test"])
def test_name_accepts_letters_digits_spaces_and_punctuation(name):
    assert ScannerConfig.from_mapping(changed(equity(), {"name": name})).name == name


@pytest.mark.parametrize(("start", "end"), [("09:30", "16:00"), ("10:15", "10:30"), ("12:00", "15:59")])
def test_window_within_the_regular_session(start, end):
    config = ScannerConfig.from_mapping(changed(equity(), {"start_time": start, "end_time": end}))
    assert (config.start_time.strftime("%H:%M"), config.end_time.strftime("%H:%M")) == (start, end)


@pytest.mark.parametrize(("start", "end"), [("04:00", "20:00"), ("07:00", "09:30"), ("16:00", "19:59")])
def test_extended_hours_allow_the_pre_and_post_market(start, end):
    config = ScannerConfig.from_mapping(changed(equity(), {"start_time": start, "end_time": end,
                                                           "extended_hours": True}))
    assert config.extended_hours is True and config.start_time.strftime("%H:%M") == start


def test_option_config_defaults_and_multiplier():
    config = ScannerConfig.from_mapping(option())
    assert config.option == OptionSettings(right="call", category=StrikeCategory.ATM, category_split=None,
                                           min_days_to_expiry=0)
    assert config.order.multiplier == 100


def test_option_category_is_case_insensitive_and_stored_as_the_enum():
    config = ScannerConfig.from_mapping(changed(option(), {"option.category": "ditm"}))
    assert config.option is not None and config.option.category is StrikeCategory.DITM


def test_option_percent_split_is_reused_from_the_instruments_module():
    config = ScannerConfig.from_mapping(changed(option(), {"option.category_split": {
        "mode": "percent", "itm_pct": "0.02", "otm_pct": 0.03, "deep_pct": "0.1"}}))
    assert config.option is not None
    assert config.option.category_split == CategorySplit(mode="percent", itm_pct=Decimal("0.02"),
                                                         otm_pct=Decimal("0.03"), deep_pct=Decimal("0.1"))


def test_explicit_option_multiplier_is_kept():
    config = ScannerConfig.from_mapping(changed(option(), {"order.multiplier": 10}))
    assert config.order.multiplier == 10


@pytest.mark.parametrize(("root", "multiplier"), [("ES", 50), ("NQ", 20), ("CL", 1000), ("GC", 100), ("ZN", 1000)])
def test_futures_multiplier_defaults_to_the_roots_spec(root, multiplier):
    config = ScannerConfig.from_mapping(changed(futures(), {"futures.root": root}))
    assert config.order.multiplier == multiplier


def test_futures_settings_give_the_roll_rule():
    config = ScannerConfig.from_mapping(futures())
    assert config.futures is not None
    assert config.futures.roll_rule == RollRule(mode="volume", days_before_expiry=3)
    assert config.futures.spec.tick == Decimal("0.25")


def test_futures_roll_defaults():
    config = ScannerConfig.from_mapping(changed(futures(), {"futures": {"root": "CL"}}))
    assert config.futures == FuturesSettings(root="CL", roll="days_before_expiry", roll_days=5)


def test_correlation_strategy_needs_no_entry_rules():
    config = ScannerConfig.from_mapping(correlation())
    assert config.entry_rules == () and config.rules.entry == ()
    assert (config.primary, config.correlated) == ("SPY", "QQQ")


@pytest.mark.parametrize(("raw", "value"), [(2.5, Decimal("2.5")), ("0.5", Decimal("0.5")), (3, Decimal(3))])
def test_sanity_deviation_accepts_json_and_yaml_numbers(raw, value):
    config = ScannerConfig.from_mapping(changed(equity(), {"sanity": {"max_deviation_pct": raw}}))
    assert config.sanity.max_deviation_pct == value and isinstance(config.sanity.max_deviation_pct, Decimal)
    assert config.sanity.max_staleness_seconds == 120


def test_cash_account_may_buy_and_cboe_routes_options():
    assert ScannerConfig.from_mapping(changed(equity(), {"order.product": "cash"})).order.product == "cash"
    assert ScannerConfig.from_mapping(changed(option(), {"order.exchange": "CBOE"})).order.exchange == "CBOE"


def test_stop_limit_uses_both_offsets():
    config = ScannerConfig.from_mapping(changed(equity(), {
        "order.order_type": "stop_limit", "order.limit_offset_ticks": 2, "order.stop_offset_ticks": 5}))
    assert (config.order.limit_offset_ticks, config.order.stop_offset_ticks) == (2, 5)


def test_symbols_in_the_rule_languages_syntax():
    data = changed(equity(), {"symbols": ["BRK.B", "ESZ6", "SPY"], "entry_rules": ["price(BRK.B) > price(ESZ6)"]})
    assert ScannerConfig.from_mapping(data).symbols == ("BRK.B", "ESZ6", "SPY")


def test_fifty_symbols_are_allowed():
    symbols = ["SPY"] + [f"S{index}" for index in range(49)]
    assert len(ScannerConfig.from_mapping(changed(equity(), {"symbols": symbols})).symbols) == 50


# One error per invalid setting ------------------------------------------------------------------

CASES: list[tuple[str, dict[str, Any], dict[str, Any], str, str]] = [
    # (id, base, changes, field, message fragment)
    ("name-missing", equity(), {"name": DELETE}, "name", "required setting is missing"),
    ("name-empty", equity(), {"name": ""}, "name", "must not be empty"),
    ("name-blank", equity(), {"name": "   "}, "name", "must not be empty"),
    ("name-too-long", equity(), {"name": "x" * 65}, "name", "at most 64 characters, got 65"),
    ("name-character", equity(), {"name": "SPY/QQQ"}, "name", "not '/'"),
    ("name-unicode", equity(), {"name": "Café"}, "name", "not 'é'"),
    ("name-space-edge", equity(), {"name": " SPY"}, "name", "must not start or end with a space"),
    ("name-type", equity(), {"name": 5}, "name", "must be text, got int 5"),
    ("type", equity(), {"type": "swing"}, "type", "must be one of intraday, positional, got 'swing'"),
    ("type-missing", equity(), {"type": DELETE}, "type", "required setting is missing"),
    ("instrument", equity(), {"instrument": "crypto"}, "instrument",
     "must be one of equity, etf, option, futures, got 'crypto'"),
    ("expiry-equity", equity(), {"expiry": "weekly"}, "expiry",
     "only applies to options and futures; remove it for instrument equity"),
    ("expiry-etf", changed(equity(), {"instrument": "etf"}), {"expiry": "monthly"}, "expiry",
     "remove it for instrument etf"),
    ("expiry-option-missing", option(), {"expiry": DELETE}, "expiry", "is required for instrument option"),
    ("expiry-futures-missing", futures(), {"expiry": None}, "expiry", "is required for instrument futures"),
    ("expiry-choice", option(), {"expiry": "daily"}, "expiry", "must be one of weekly, monthly, got 'daily'"),
    ("days-saturday", equity(), {"days": ["mon", "sat"]}, "days[1]", "U.S. markets trade Mon-Fri"),
    ("days-sunday", equity(), {"days": ["Sunday"]}, "days[0]", "'Sunday' is not a trading day"),
    ("days-duplicate", equity(), {"days": ["mon", "tue", "mon"]}, "days[2]", "'mon' is listed twice"),
    ("days-unknown", equity(), {"days": ["monday"]}, "days[0]", "did you mean 'mon'?"),
    ("days-type", equity(), {"days": ["mon", 1]}, "days[1]", "must be one of mon, tue, wed, thu, fri, got int 1"),
    ("days-empty", equity(), {"days": []}, "days", "must name at least one weekday"),
    ("days-text", equity(), {"days": "weekdays"}, "days", 'or "all", got \'weekdays\''),
    ("days-missing", equity(), {"days": DELETE}, "days", "required setting is missing"),
    ("interval-format", equity(), {"interval": "5x"}, "interval", "must be a duration"),
    ("interval-number", equity(), {"interval": 300}, "interval", "must be a duration"),
    ("interval-zero", equity(), {"interval": "0s"}, "interval", "must be from 1s to 1d"),
    ("interval-too-long", equity(), {"interval": "25h"}, "interval",
     "must be from 1s to 1d (86400 seconds), got 90000"),
    ("interval-fraction", equity(), {"interval": "1.5s"}, "interval", "must be a whole number of seconds, got 1.5"),
    ("interval-sub-second", equity(), {"interval": "0.5s"}, "interval", "whole number of seconds"),
    ("start-before-open", equity(), {"start_time": "09:00"}, "start_time",
     "09:00 is outside the regular session 09:30-16:00 ET; set extended_hours: true"),
    ("end-after-close", equity(), {"end_time": "16:30"}, "end_time", "16:30 is outside the regular session"),
    ("start-before-pre-open", equity(), {"start_time": "03:59", "extended_hours": True}, "start_time",
     "03:59 is outside the extended hours 04:00-20:00 ET"),
    ("end-after-post-close", equity(), {"end_time": "20:01", "extended_hours": True}, "end_time",
     "20:01 is outside the extended hours 04:00-20:00 ET"),
    ("end-before-start", equity(), {"start_time": "11:00", "end_time": "10:00"}, "end_time",
     "must be after start_time 11:00, got 10:00"),
    ("end-equals-start", equity(), {"start_time": "10:00", "end_time": "10:00"}, "end_time",
     "must be after start_time 10:00"),
    ("start-format", equity(), {"start_time": "9:30"}, "start_time", 'written "HH:MM"'),
    ("start-hour", equity(), {"start_time": "24:00"}, "start_time", 'written "HH:MM"'),
    ("end-yaml-number", equity(), {"end_time": 960}, "end_time", "YAML reads an unquoted 16:00 as the number 960"),
    ("extended-type", equity(), {"extended_hours": "yes"}, "extended_hours", "must be true or false, got str 'yes'"),
    ("per-day-text", equity(), {"max_signals_per_day": "5"}, "max_signals_per_day",
     "must be a whole number, got str '5'"),
    ("per-day-bool", equity(), {"max_signals_per_day": True}, "max_signals_per_day", "must be a whole number"),
    ("per-day-float", equity(), {"max_signals_per_day": 5.0}, "max_signals_per_day", "got float 5.0"),
    ("per-symbol-zero", equity(), {"max_signals_per_symbol": 0}, "max_signals_per_symbol", "at least 1, got 0"),
    ("per-symbol-above-day", equity(), {"max_signals_per_symbol": 6}, "max_signals_per_symbol",
     "must not exceed max_signals_per_day (5), got 6"),
    ("direction", equity(), {"direction": "sideways"}, "direction", "must be one of long, short, both"),
    ("mode", equity(), {"mode": "paper"}, "mode", "must be one of live, virtual, got 'paper'"),
    ("mode-case", equity(), {"mode": "Live"}, "mode", "did you mean 'live'?"),
    ("option-missing", option(), {"option": DELETE}, "option", "is required for instrument option"),
    ("option-on-equity", equity(), {"option": {"right": "call", "category": "ATM"}}, "option",
     "only applies to instrument option; remove it for instrument equity"),
    ("option-not-mapping", option(), {"option": "call"}, "option", "must be a mapping of settings"),
    ("option-right", option(), {"option.right": "cal"}, "option.right", "did you mean 'call'?"),
    ("option-right-missing", option(), {"option.right": DELETE}, "option.right", "required setting is missing"),
    ("option-category", option(), {"option.category": "NTM"}, "option.category",
     "must be one of ATM, ITM, OTM, DITM, DOTM, got 'NTM'"),
    ("option-min-days", option(), {"option.min_days_to_expiry": -1}, "option.min_days_to_expiry",
     "at least 0, got -1"),
    ("option-min-days-type", option(), {"option.min_days_to_expiry": "7"}, "option.min_days_to_expiry",
     "must be a whole number"),
    ("split-itm-strikes", option(), {"option.category_split": {"itm_strikes": 0}},
     "option.category_split.itm_strikes", "itm_strikes must be a positive integer, got 0"),
    ("split-deep", option(), {"option.category_split": {"otm_strikes": 2, "deep_strikes": 2}},
     "option.category_split.deep_strikes", "deep_strikes (2) must be greater than otm_strikes (2)"),
    ("split-mode", option(), {"option.category_split": {"mode": "ratio"}}, "option.category_split.mode",
     "mode must be 'count' or 'percent'"),
    ("split-pct-in-count", option(), {"option.category_split": {"itm_pct": "0.05"}},
     "option.category_split.itm_pct", "only used with mode='percent'"),
    ("split-pct-missing", option(), {"option.category_split": {"mode": "percent", "itm_pct": "0.02",
                                                               "otm_pct": "0.02"}},
     "option.category_split.deep_pct", "deep_pct is required with mode='percent'"),
    ("split-pct-range", option(), {"option.category_split": {"mode": "percent", "itm_pct": "5",
                                                             "otm_pct": "0.02", "deep_pct": "0.1"}},
     "option.category_split.itm_pct", "between 0 and 1"),
    ("split-strikes-type", option(), {"option.category_split": {"itm_strikes": "2"}},
     "option.category_split.itm_strikes", "must be a whole number, got str '2'"),
    ("split-pct-type", option(), {"option.category_split": {"mode": "percent", "itm_pct": "five",
                                                            "otm_pct": "0.02", "deep_pct": "0.1"}},
     "option.category_split.itm_pct", "must be a number such as 10 or 2.5, got 'five'"),
    ("split-not-mapping", option(), {"option.category_split": "count"}, "option.category_split",
     "must be a mapping of settings"),
    ("futures-missing", futures(), {"futures": DELETE}, "futures", "is required for instrument futures"),
    ("futures-on-etf", changed(equity(), {"instrument": "etf"}), {"futures": {"root": "ES"}}, "futures",
     "only applies to instrument futures; remove it for instrument etf"),
    ("futures-root", futures(), {"futures.root": "ESX"}, "futures.root",
     "known spec (CL, ES, GC, NQ, ZN), got 'ESX'; did you mean 'ES'?"),
    ("futures-root-missing", futures(), {"futures.root": DELETE}, "futures.root", "required setting is missing"),
    ("futures-roll", futures(), {"futures.roll": "calendar"}, "futures.roll",
     "must be one of days_before_expiry, volume, open_interest"),
    ("futures-roll-days-high", futures(), {"futures.roll_days": 31}, "futures.roll_days", "at most 30, got 31"),
    ("futures-roll-days-low", futures(), {"futures.roll_days": -1}, "futures.roll_days", "at least 0, got -1"),
    ("symbols-empty", equity(), {"symbols": [], "entry_rules": ["1 > 0"]}, "symbols", "at least one symbol"),
    ("symbols-too-many", equity(), {"symbols": ["SPY"] + [f"S{index}" for index in range(50)]}, "symbols",
     "at most 50 symbols, got 51"),
    ("symbols-lower-case", equity(), {"symbols": ["SPY", "qqq"]}, "symbols[1]", "upper-case symbol"),
    ("symbols-digit-first", equity(), {"symbols": ["SPY", "1ABC"]}, "symbols[1]", "got '1ABC'"),
    ("symbols-too-long", equity(), {"symbols": ["SPY", "A" * 17]}, "symbols[1]", "at most 16 characters"),
    ("symbols-duplicate", equity(), {"symbols": ["SPY", "QQQ", "SPY"]}, "symbols[2]", "'SPY' is listed twice"),
    ("symbols-text", equity(), {"symbols": "SPY"}, "symbols", "must be a list of symbols"),
    ("symbols-item-type", equity(), {"symbols": ["SPY", None]}, "symbols[1]", "got nothing (null)"),
    ("primary-unknown", equity(), {"primary": "IWM"}, "primary", "'IWM' is not among symbols (SPY, QQQ)"),
    ("correlated-unknown", equity(), {"correlated": "DIA"}, "correlated", "'DIA' is not among symbols"),
    ("correlated-same", equity(), {"primary": "SPY", "correlated": "SPY"}, "correlated",
     "must differ from primary, got 'SPY' for both"),
    ("primary-type", equity(), {"primary": 1}, "primary", "must be text"),
    ("correlation-needs-correlated", correlation(), {"correlated": DELETE}, "correlated",
     "is required by strategy correlation"),
    ("strategy", equity(), {"strategy": "momentum"}, "strategy", "must be one of rules, correlation"),
    ("timeframe-unit", equity(), {"timeframe": "15x"}, "timeframe", "must be a bar timeframe"),
    ("timeframe-zero", equity(), {"timeframe": "0m"}, "timeframe", "got '0m'"),
    ("timeframe-days", equity(), {"timeframe": "2d"}, "timeframe", "or 1d"),
    ("timeframe-order", equity(), {"timeframe": "m5"}, "timeframe", "must be a bar timeframe"),
    ("timeframe-number", equity(), {"timeframe": 15}, "timeframe", "got int 15"),
    ("timeframe-missing", equity(), {"timeframe": DELETE}, "timeframe", "required setting is missing"),
    ("entry-rules-empty", equity(), {"entry_rules": []}, "entry_rules",
     "needs at least one rule with strategy rules"),
    ("entry-rules-absent", equity(), {"entry_rules": DELETE}, "entry_rules", "needs at least one rule"),
    ("entry-rules-syntax", equity(), {"entry_rules": ["price(SPY) >"]}, "entry_rules[0]", "at position 12"),
    ("entry-rules-text", equity(), {"entry_rules": "price(SPY) > 1"}, "entry_rules", "must be a list of rule texts"),
    ("entry-rules-item", equity(), {"entry_rules": ["price(SPY) > 1", 5]}, "entry_rules[1]", "must be text, got int 5"),
    ("exit-rules-syntax", equity(), {"exit_rules": ["price(SPY) = 1"]}, "exit_rules[0]",
     "'=' is not an operator: write '==' to compare at position 11"),
    ("exit-rules-type", equity(), {"exit_rules": ["price(SPY)"]}, "exit_rules[0]", "must be true/false"),
    ("sanity-deviation-zero", equity(), {"sanity": {"max_deviation_pct": 0}}, "sanity.max_deviation_pct",
     "must be greater than 0, got 0"),
    ("sanity-deviation-negative", equity(), {"sanity": {"max_deviation_pct": "-1.5"}}, "sanity.max_deviation_pct",
     "greater than 0, got -1.5"),
    ("sanity-deviation-text", equity(), {"sanity": {"max_deviation_pct": "ten"}}, "sanity.max_deviation_pct",
     "must be a number such as 10 or 2.5, got 'ten'"),
    ("sanity-deviation-nan", equity(), {"sanity": {"max_deviation_pct": "NaN"}}, "sanity.max_deviation_pct",
     "must be a finite number"),
    ("sanity-deviation-bool", equity(), {"sanity": {"max_deviation_pct": True}}, "sanity.max_deviation_pct",
     "must be a number, got bool True"),
    ("sanity-staleness-zero", equity(), {"sanity": {"max_staleness_seconds": 0}}, "sanity.max_staleness_seconds",
     "at least 1, got 0"),
    ("sanity-staleness-float", equity(), {"sanity": {"max_staleness_seconds": 1.5}}, "sanity.max_staleness_seconds",
     "must be a whole number, got float 1.5"),
    ("sanity-not-mapping", equity(), {"sanity": [10, 120]}, "sanity", "must be a mapping of settings"),
    ("order-missing", equity(), {"order": DELETE}, "order", "required setting is missing"),
    ("order-exchange", equity(), {"order.exchange": "ARCA"}, "order.exchange",
     "must be one of SMART, NYSE, NASDAQ, CBOE, got 'ARCA'"),
    ("order-exchange-missing", equity(), {"order.exchange": DELETE}, "order.exchange", "required setting is missing"),
    ("order-cboe-equity", equity(), {"order.exchange": "CBOE"}, "order.exchange",
     "CBOE routes options only; use SMART, NYSE or NASDAQ for instrument equity"),
    ("order-cboe-futures", futures(), {"order.exchange": "CBOE"}, "order.exchange",
     "CBOE routes options only; use SMART for instrument futures"),
    ("order-type", equity(), {"order.order_type": "trailing"}, "order.order_type",
     "must be one of market, limit, stop, stop_limit"),
    ("order-product", equity(), {"order.product": "cnc"}, "order.product", "must be one of margin, cash"),
    ("order-cash-short", equity(), {"order.product": "cash", "direction": "short"}, "order.product",
     "a cash account cannot sell short; use margin for direction short"),
    ("order-cash-both", changed(equity(), {"instrument": "etf"}), {"order.product": "cash", "direction": "both"},
     "order.product", "cannot sell short"),
    ("order-quantity", equity(), {"order.quantity": 0}, "order.quantity", "at least 1, got 0"),
    ("order-quantity-text", equity(), {"order.quantity": "10"}, "order.quantity", "must be a whole number, got str"),
    ("order-limit-offset", equity(), {"order.order_type": "limit", "order.limit_offset_ticks": -1},
     "order.limit_offset_ticks", "at least 0, got -1"),
    ("order-limit-offset-unused", equity(), {"order.limit_offset_ticks": 2}, "order.limit_offset_ticks",
     "only used with order_type limit or stop_limit, not market"),
    ("order-stop-offset", equity(), {"order.order_type": "stop", "order.stop_offset_ticks": -2},
     "order.stop_offset_ticks", "at least 0, got -2"),
    ("order-stop-offset-unused", equity(), {"order.order_type": "limit", "order.stop_offset_ticks": 3},
     "order.stop_offset_ticks", "only used with order_type stop or stop_limit, not limit"),
    ("order-multiplier", option(), {"order.multiplier": 0}, "order.multiplier", "at least 1, got 0"),
    ("order-multiplier-equity", equity(), {"order.multiplier": 100}, "order.multiplier",
     "must be 1 for instrument equity"),
    ("unknown-top", equity(), {"intervall": "5m"}, "intervall", "unknown setting; did you mean 'interval'?"),
    ("unknown-order", equity(), {"order.qty": 5}, "order.qty", "unknown setting"),
    ("unknown-sanity", equity(), {"sanity": {"max_deviation": 5}}, "sanity.max_deviation",
     "unknown setting; did you mean 'max_deviation_pct'?"),
    ("unknown-option", option(), {"option.strike": "ATM"}, "option.strike", "unknown setting"),
    ("unknown-split", option(), {"option.category_split": {"itm_strike": 2}}, "option.category_split.itm_strike",
     "unknown setting; did you mean 'itm_strikes'?"),
    ("unknown-futures", futures(), {"futures.rol": "volume"}, "futures.rol", "did you mean 'roll'?"),
]


@pytest.mark.parametrize(("base", "changes", "field", "fragment"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_each_invalid_setting_is_one_field_error(base, changes, field, fragment):
    error = only_error(changed(base, changes))
    assert error.field == field
    assert fragment in error.message, error.message


def test_both_limits_at_zero_are_two_errors():
    errors = errors_of(changed(equity(), {"max_signals_per_day": 0, "max_signals_per_symbol": 0}))
    assert [(error.field, error.message) for error in errors] == [
        ("max_signals_per_day", "must be at least 1, got 0"),
        ("max_signals_per_symbol", "must be at least 1, got 0"),
    ]


def test_correlation_strategy_requires_primary_and_correlated():
    errors = errors_of(changed(equity(), {"strategy": "correlation"}))
    assert [error.field for error in errors] == ["primary", "correlated"]
    assert all("is required by strategy correlation" in error.message for error in errors)


def test_config_that_is_not_a_mapping():
    error = only_error(["name", "x"])
    assert error.field == "config"
    assert error.message == "must be a mapping of settings (name: value), got list ['name', 'x']"


def test_non_text_key_is_unknown():
    error = only_error({**equity(), 5: "x"})
    assert (error.field, error.message) == ("5", "unknown setting: setting names are text")


# Rule errors ------------------------------------------------------------------------------------

def test_rule_error_position_is_propagated():
    text = "price(SPY) > price(XYZ)"  # "price(SPY) > price(" is 19 characters: XYZ starts at 19
    error = only_error(changed(equity(), {"entry_rules": ["price(QQQ) > 1", text]}))
    assert error.field == "entry_rules[1]"
    assert error.message.endswith("at position 19")
    assert "unknown symbol 'XYZ'" in error.message
    with pytest.raises(RuleError) as caught:
        compile_rule(text, symbols={"SPY", "QQQ"})
    assert error.message == f"{caught.value.message} at position {caught.value.position}"


def test_rules_are_checked_against_the_configured_symbols():
    valid = ScannerConfig.from_mapping(changed(equity(), {"symbols": ["SPY", "IWM"],
                                                          "entry_rules": ["price(IWM) > 1"]}))
    assert valid.rules.entry[0].text == "price(IWM) > 1"
    error = only_error(changed(equity(), {"entry_rules": ["price(IWM) > 1"]}))
    assert error.field == "entry_rules[0]" and "configured symbols: QQQ, SPY" in error.message


def test_every_bad_rule_is_reported():
    errors = errors_of(changed(equity(), {"entry_rules": ["price(SPY) >", "price(SPY) > 1", "price(SPY) & 1"],
                                          "exit_rules": ["(price(SPY) > 1"]}))
    assert [error.field for error in errors] == ["entry_rules[0]", "entry_rules[2]", "exit_rules[0]"]
    assert errors[1].message == "'&' is not an operator: write 'and' at position 11"


def test_compiled_rules_and_their_requirements():
    config = ScannerConfig.from_mapping(changed(equity(), {
        "entry_rules": ["price(SPY) > swing_high(SPY, 15m)", "correlation(SPY, QQQ, 15m, 20) > 0.8"],
        "exit_rules": ["price(SPY) < swing_low(SPY, 5m)"]}))
    assert [rule.text for rule in config.rules.entry] == list(config.entry_rules)
    assert config.rules.entry[0].requirements == {("price", "SPY", None), ("swing_high", "SPY", "15m")}
    assert config.rules.entry[1].period(("correlation", "SPY|QQQ", "15m")) == 20
    assert config.rules.exit[0].requirements == {("price", "SPY", None), ("swing_low", "SPY", "5m")}


def test_primary_is_checked_even_when_another_symbol_is_invalid():
    errors = errors_of(changed(equity(), {"symbols": ["SPY", "qqq"], "primary": "IWM"}))
    assert [error.field for error in errors] == ["symbols[1]", "primary"]


# Many errors at once ----------------------------------------------------------------------------

def test_all_errors_of_a_config_are_collected_in_setting_order():
    data = changed(equity(), {
        "name": "",
        "tipe": "intraday",
        "expiry": "weekly",
        "days": ["mon", "sat"],
        "interval": "2.5s",
        "start_time": "08:00",
        "max_signals_per_symbol": 9,
        "symbols": ["SPY", "QQQ", "SPY"],
        "entry_rules": ["price(SPY) >"],
        "sanity": {"max_deviation_pct": 0},
        "order.quantity": "ten",
        "order.exchange": "CBOE",
    })
    errors = errors_of(data)
    assert [error.field for error in errors] == [
        "name", "expiry", "days[1]", "start_time", "interval", "max_signals_per_symbol", "symbols[2]",
        "entry_rules[0]", "sanity.max_deviation_pct", "order.quantity", "order.exchange", "tipe",
    ]
    with pytest.raises(ScannerConfigError) as caught:
        ScannerConfig.from_mapping(data)
    lines = str(caught.value).split("\n")
    assert lines == [f"{error.field}: {error.message}" for error in errors]
    assert lines[0] == "name: must not be empty"
    assert lines[-1] == "tipe: unknown setting; did you mean 'type'?"
    assert isinstance(caught.value, ValueError)
    assert caught.value.fields == [error.field for error in errors]


def test_errors_inside_sections_and_across_sections_together():
    data = changed(option(), {"option.right": "cal", "option.category": "XTM", "option.min_days_to_expiry": -1,
                              "order.multiplier": 0, "order.limit_offset_ticks": 1})
    errors = errors_of(data)
    assert {error.field for error in errors} == {"option.right", "option.category", "option.min_days_to_expiry",
                                                 "order.multiplier", "order.limit_offset_ticks"}


def test_cross_checks_run_beside_errors_in_the_same_section():
    errors = errors_of(changed(equity(), {"order.exchange": "CBOE", "order.quantity": 0}))
    assert [error.field for error in errors] == ["order.quantity", "order.exchange"]


def test_option_section_errors_beside_a_missing_expiry():
    errors = errors_of(changed(option(), {"expiry": DELETE, "option.category_split": {"itm_strikes": 0}}))
    assert [error.field for error in errors] == ["expiry", "option.category_split.itm_strikes"]


# Round trips and immutability -------------------------------------------------------------------

ROUND_TRIP_CONFIGS = {
    "equity": equity(),
    "etf-extended": changed(equity(), {"instrument": "etf", "days": ["tue", "thu"], "start_time": "04:00",
                                       "end_time": "20:00", "extended_hours": True, "interval": "90s"}),
    "option-count": changed(option(), {"option.category": "OTM", "option.min_days_to_expiry": 7,
                                       "option.category_split": {"itm_strikes": 2, "otm_strikes": 3,
                                                                 "deep_strikes": 6},
                                       "order.exchange": "CBOE", "order.order_type": "limit",
                                       "order.limit_offset_ticks": 1}),
    "option-percent": changed(option(), {"option.right": "put", "option.category": "DOTM",
                                         "option.category_split": {"mode": "percent", "itm_pct": "0.02",
                                                                   "otm_pct": "0.025", "deep_pct": "0.1"}}),
    "futures": changed(futures(), {"order.order_type": "stop_limit", "order.limit_offset_ticks": 2,
                                   "order.stop_offset_ticks": 4, "mode": "live", "direction": "both"}),
    "correlation": changed(correlation(), {"exit_rules": ["correlation(SPY, QQQ, 15m, 20) < 0.5"],
                                           "sanity": {"max_deviation_pct": "2.5", "max_staleness_seconds": 30},
                                           "interval": "1d", "type": "positional"}),
}


@pytest.mark.parametrize("data", ROUND_TRIP_CONFIGS.values(), ids=ROUND_TRIP_CONFIGS.keys())
def test_round_trip_through_to_mapping(data):
    config = ScannerConfig.from_mapping(data)
    assert ScannerConfig.from_mapping(config.to_mapping()) == config


@pytest.mark.parametrize("data", ROUND_TRIP_CONFIGS.values(), ids=ROUND_TRIP_CONFIGS.keys())
def test_round_trip_through_json_and_yaml_text(data):
    config = ScannerConfig.from_mapping(data)
    assert ScannerConfig.from_mapping(json.loads(json.dumps(config.to_mapping()))) == config
    assert ScannerConfig.from_mapping(yaml.safe_load(yaml.safe_dump(config.to_mapping()))) == config


def test_to_mapping_writes_canonical_values():
    mapping = ScannerConfig.from_mapping(ROUND_TRIP_CONFIGS["etf-extended"]).to_mapping()
    assert mapping["interval"] == "90s"
    assert (mapping["start_time"], mapping["end_time"]) == ("04:00", "20:00")
    assert mapping["days"] == ["tue", "thu"]
    assert mapping["sanity"] == {"max_deviation_pct": "10", "max_staleness_seconds": 120}
    assert mapping["order"]["multiplier"] == 1
    assert "expiry" not in mapping and "option" not in mapping and "primary" not in mapping


def test_different_configs_are_not_equal():
    assert ScannerConfig.from_mapping(equity()) != ScannerConfig.from_mapping(changed(equity(), {"interval": "1m"}))


def test_config_and_sections_are_frozen_with_slots():
    config = ScannerConfig.from_mapping(option())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.order.quantity = 1  # type: ignore[misc]
    assert config.option is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.option.right = "put"  # type: ignore[misc]
    for value in (config, config.order, config.option, config.sanity, config.rules):
        assert not hasattr(value, "__dict__")
    assert isinstance(config.symbols, tuple) and isinstance(config.entry_rules, tuple)
    assert hash(config) == hash(ScannerConfig.from_mapping(option()))


def test_from_mapping_does_not_keep_the_callers_lists():
    data = equity()
    config = ScannerConfig.from_mapping(data)
    data["symbols"].append("IWM")
    data["entry_rules"].clear()
    assert config.symbols == ("SPY", "QQQ") and len(config.entry_rules) == 1


# Direct construction validates too --------------------------------------------------------------

def direct(**changes: Any) -> ScannerConfig:
    settings: dict[str, Any] = dict(
        name="direct", type="intraday", instrument="equity", days=("mon",), interval=dt.timedelta(minutes=1),
        max_signals_per_day=3, max_signals_per_symbol=1, direction="long", mode="virtual", symbols=("SPY",),
        timeframe="5m", entry_rules=("price(SPY) > 1",),
        order=OrderSettings(exchange="SMART", order_type="market", product="margin", quantity=1),
    )
    return ScannerConfig(**(settings | changes))


def test_direct_construction_normalises_and_equals_the_parsed_config():
    config = direct(days=["wed", "mon"], symbols=["SPY"], entry_rules=["price(SPY) > 1"])
    assert config.days == ("mon", "wed") and config.symbols == ("SPY",) and config.entry_rules == ("price(SPY) > 1",)
    assert config.order.multiplier == 1
    assert ScannerConfig.from_mapping(config.to_mapping()) == config


@pytest.mark.parametrize(("changes", "field", "fragment"), [
    ({"interval": dt.timedelta(milliseconds=1500)}, "interval", "must be a whole number of seconds, got 1.5"),
    ({"interval": dt.timedelta(days=2)}, "interval", "must be from 1s to 1d"),
    ({"interval": 60}, "interval", "must be a datetime.timedelta, got int 60"),
    ({"start_time": dt.time(9, 45, tzinfo=UTC)}, "start_time", "naive ET wall time"),
    ({"start_time": dt.time(9, 45, 30)}, "start_time", "must be a whole minute"),
    ({"end_time": "16:00"}, "end_time", "must be a datetime.time"),
    ({"days": "all"}, "days", "must be a list of weekdays"),
    ({"sanity": {"max_deviation_pct": 5}}, "sanity", "must be a SanitySettings, got dict"),
    ({"instrument": "option", "expiry": "weekly", "option": {"right": "call", "category": "ATM"}}, "option",
     "must be a OptionSettings, got dict"),
])
def test_direct_construction_reports_wrong_python_values(changes, field, fragment):
    with pytest.raises(ScannerConfigError) as caught:
        direct(**changes)
    assert len(caught.value.errors) == 1, str(caught.value)
    assert caught.value.errors[0].field == field and fragment in caught.value.errors[0].message


@pytest.mark.parametrize(("make", "field", "fragment"), [
    (lambda: SanitySettings(max_deviation_pct=2.5), "max_deviation_pct", "convert floats with Decimal(str(x))"),
    (lambda: SanitySettings(max_deviation_pct=Decimal("Infinity")), "max_deviation_pct", "finite"),
    (lambda: OptionSettings(right="call", category="ATM", category_split="count"), "category_split",
     "must be a CategorySplit"),
    (lambda: FuturesSettings(root="6E"), "root", "known spec"),
    (lambda: OrderSettings(exchange="SMART", order_type="market", product="margin", quantity=1, multiplier=-5),
     "multiplier", "at least 1, got -5"),
])
def test_sections_validate_on_construction(make, field, fragment):
    with pytest.raises(ScannerConfigError) as caught:
        make()
    assert [error.field for error in caught.value.errors] == [field]
    assert fragment in caught.value.errors[0].message


def test_section_constructor_collects_all_its_errors():
    with pytest.raises(ScannerConfigError) as caught:
        OrderSettings(exchange="LSE", order_type="iceberg", product="isa", quantity=0)
    assert caught.value.fields == ["exchange", "order_type", "product", "quantity"]


def test_sanity_int_is_stored_as_decimal():
    assert SanitySettings(max_deviation_pct=5).max_deviation_pct == Decimal(5)
    assert isinstance(SanitySettings(max_deviation_pct=5).max_deviation_pct, Decimal)


def test_option_category_text_becomes_the_enum():
    assert OptionSettings(right="put", category="otm").category is StrikeCategory.OTM


def test_replace_revalidates():
    config = direct()
    with pytest.raises(ScannerConfigError) as caught:
        dataclasses.replace(config, max_signals_per_symbol=4)
    assert caught.value.fields == ["max_signals_per_symbol"]
    assert dataclasses.replace(config, name="renamed").rules.entry[0].text == "price(SPY) > 1"


# The scan window in UTC -------------------------------------------------------------------------

def test_window_utc_follows_daylight_saving_time():
    config = ScannerConfig.from_mapping(equity())
    # Friday 2026-03-06 is EST (UTC-5); DST starts Sunday 2026-03-08; Monday 2026-03-09 is EDT (UTC-4).
    assert config.window_utc(dt.date(2026, 3, 6)) == (utc_ns(2026, 3, 6, 14, 30), utc_ns(2026, 3, 6, 21, 0))
    assert config.window_utc(dt.date(2026, 3, 9)) == (utc_ns(2026, 3, 9, 13, 30), utc_ns(2026, 3, 9, 20, 0))
    # DST ends Sunday 2026-11-01.
    assert config.window_utc(dt.date(2026, 10, 30)) == (utc_ns(2026, 10, 30, 13, 30), utc_ns(2026, 10, 30, 20, 0))
    assert config.window_utc(dt.date(2026, 11, 2)) == (utc_ns(2026, 11, 2, 14, 30), utc_ns(2026, 11, 2, 21, 0))


def test_window_utc_of_an_extended_window():
    config = ScannerConfig.from_mapping(changed(equity(), {"start_time": "04:00", "end_time": "20:00",
                                                           "extended_hours": True}))
    assert config.window_utc(dt.date(2026, 7, 1)) == (utc_ns(2026, 7, 1, 8, 0), utc_ns(2026, 7, 2, 0, 0))
    assert config.window_utc(dt.date(2026, 1, 5)) == (utc_ns(2026, 1, 5, 9, 0), utc_ns(2026, 1, 6, 1, 0))


@pytest.mark.parametrize("date", [dt.datetime(2026, 3, 9, 12, 0), "2026-03-09", 20260309])
def test_window_utc_needs_a_date(date):
    with pytest.raises(ValueError, match="date must be a datetime.date"):
        ScannerConfig.from_mapping(equity()).window_utc(date)


def test_entry_rules_that_compile_alone_but_not_together_are_refused_at_save_time() -> None:
    """The engine ANDs entry rules; one Donchian requirement with two periods cannot be evaluated."""
    import yaml
    from pathlib import Path

    data = yaml.safe_load((Path(__file__).resolve().parents[3] / "examples/strategies/correlation.yaml").read_text())
    data["entry_rules"] = ["price(SPY) > donchian_upper(SPY, 5m, 10)", "price(SPY) > donchian_upper(SPY, 5m, 600)"]
    with pytest.raises(ScannerConfigError) as raised:
        ScannerConfig.from_mapping(data)
    (error,) = raised.value.errors
    assert error.field == "entry_rules" and error.message.startswith("the rules cannot be evaluated together")
    data["entry_rules"] = ["price(SPY) > donchian_upper(SPY, 5m, 10)"]
    assert ScannerConfig.from_mapping(data).entry_rules == ("price(SPY) > donchian_upper(SPY, 5m, 10)",)

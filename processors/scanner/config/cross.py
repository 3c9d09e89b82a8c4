"""The checks of a scanner configuration that read more than one setting, in the form the table of
`ScannerConfig` runs them after the checks of single settings: `check(checker, values, checked)`, with
the settings as written and as checked (INVALID where refused, so that a refused setting is not
reported again through another).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from processors.instruments.options import EXPIRY_KINDS
from processors.instruments.ticks import FUTURES_SPECS
from processors.rules import RuleError, compile_rule
from processors.scanner.config.checks import INVALID, Checker, Partial, choice, describe, instance, text_list
from processors.scanner.config.choices import (DERIVATIVES, MAX_RULE_LENGTH, MAX_RULES, OPTION_MULTIPLIER,
                                               SESSION_HOURS, UNIT_SECONDS)
from processors.scanner.config.mapping import format_time
from processors.scanner.config.rules import ScannerRules, compile_conditions
from processors.scanner.config.sections import FuturesSettings, OptionSettings, OrderSettings


def named_symbols(values: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The symbols written as text (None: no list): even when one symbol is invalid, the others still
    say which symbols primary and the rules may name."""
    symbols = values["symbols"]
    return tuple(item for item in symbols if isinstance(item, str)) if isinstance(symbols, (list, tuple)) else None


def instrument_sections(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """expiry, option and futures: required by the instruments that use them, refused by the others."""
    instrument = checked["instrument"]
    expiry = values["expiry"]
    if expiry is not None:
        if instrument in ("equity", "etf"):
            checker.add("expiry", f"only applies to options and futures; remove it for instrument {instrument}")
        else:
            choice(EXPIRY_KINDS)(checker, "expiry", expiry)
    elif instrument in DERIVATIVES:
        checker.add("expiry", f"is required for instrument {instrument}: weekly or monthly")
    for section, kind in (("option", OptionSettings), ("futures", FuturesSettings)):
        value = values[section]
        if value is None:
            if instrument == section:
                checker.add(section, f"is required for instrument {section}")
        elif instrument is not INVALID and instrument != section:
            checker.add(section, f"only applies to instrument {section}; remove it for instrument {instrument}")
        else:
            instance(kind)(checker, section, value)


def window(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """start_time before end_time, both within the regular session, or the extended hours."""
    start, end, extended = checked["start_time"], checked["end_time"], checked["extended_hours"]
    if extended is True:
        low, high, session = SESSION_HOURS.pre_open, SESSION_HOURS.post_close, "the extended hours"
        hint = ""
    else:
        low, high, session = SESSION_HOURS.regular_open, SESSION_HOURS.regular_close, "the regular session"
        hint = (f"; set extended_hours: true to scan within {format_time(SESSION_HOURS.pre_open)}-"
                f"{format_time(SESSION_HOURS.post_close)} ET")
    span = f"{format_time(low)}-{format_time(high)} ET"
    if extended is INVALID:
        return
    if start is not INVALID and not low <= start <= high:
        checker.add("start_time", f"{format_time(start)} is outside {session} {span}{hint}")
        start = INVALID
    if end is not INVALID and not low <= end <= high:
        checker.add("end_time", f"{format_time(end)} is outside {session} {span}{hint}")
        end = INVALID
    if start is not INVALID and end is not INVALID and not start < end:
        checker.add("end_time", f"must be after start_time {format_time(start)}, got {format_time(end)}")


def evaluated_window(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """The window holds an instant at which the timeframe's bars are evaluated (checked once `window`
    found it valid). Timeframe 1d is evaluated once per session, at its close (16:00 ET, 13:00 on
    early-close days), when the daily bar closes: the window must reach the close and start before
    13:00. An intraday timeframe needs a window at least one bar long."""
    timeframe, start, end, extended = (checked["timeframe"], checked["start_time"], checked["end_time"],
                                       checked["extended_hours"])
    if INVALID in (timeframe, start, end, extended):
        return
    low, high = ((SESSION_HOURS.pre_open, SESSION_HOURS.post_close) if extended
                 else (SESSION_HOURS.regular_open, SESSION_HOURS.regular_close))
    if not low <= start < end <= high:
        return  # `window` reported it
    close, early_close = SESSION_HOURS.regular_close, SESSION_HOURS.early_close
    if timeframe == "1d":
        if end < close:
            checker.add("end_time", f"{format_time(end)} ends before the session close {format_time(close)} ET: "
                                    f"timeframe 1d is evaluated once per session, at its close, so the strategy would "
                                    f"never be evaluated; set end_time to \"{format_time(close)}\"")
        elif start >= early_close:
            checker.add("start_time", f"{format_time(start)} is not before {format_time(early_close)} ET, the close of "
                                      f"early-close days: timeframe 1d would not be evaluated on those sessions; "
                                      f"start before {format_time(early_close)}")
        return
    window_s = _seconds(end) - _seconds(start)
    bar_s = int(timeframe[:-1]) * UNIT_SECONDS[timeframe[-1]]
    if window_s < bar_s:
        checker.add("end_time", f"the window {format_time(start)}-{format_time(end)} ET ({window_s // 60} min) is "
                                f"shorter than one {timeframe} bar of timeframe: no {timeframe} bar closes within it; "
                                f"widen the window or choose a shorter timeframe")


def _seconds(time: dt.time) -> int:
    return time.hour * 3600 + time.minute * 60 + time.second


def signal_limits(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    per_day, per_symbol = checked["max_signals_per_day"], checked["max_signals_per_symbol"]
    if per_day is not INVALID and per_symbol is not INVALID and per_symbol > per_day:
        checker.add("max_signals_per_symbol", f"must not exceed max_signals_per_day ({per_day}), got {per_symbol}")


def pair(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """primary and correlated: members of symbols, different, and required by strategy correlation."""
    symbols, strategy = named_symbols(values), checked["strategy"]
    written: dict[str, str] = {}
    for name in ("primary", "correlated"):
        value = values[name]
        if value is None:
            if strategy == "correlation":
                checker.add(name, "is required by strategy correlation: name two of the symbols as primary and "
                                  "correlated")
            continue
        if value is INVALID:
            continue
        if not isinstance(value, str):
            checker.add(name, f"must be text (one of the symbols), got {describe(value)}")
        elif symbols is not None and value not in symbols:
            checker.add(name, f"{value!r} is not among symbols ({', '.join(symbols)})")
        else:
            written[name] = value
    if len(written) == 2 and written["primary"] == written["correlated"]:
        checker.add("correlated", f"must differ from primary, got {written['correlated']!r} for both")


def rules(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """The entry and exit rules compiled against the symbols, alone and as the strategy's conditions;
    `checked["rules"]` the compiled `ScannerRules` when they all compile."""
    symbols = named_symbols(values)
    rule_symbols = None if symbols is None else set(symbols)
    entry = _compile(checker, "entry_rules", values["entry_rules"], rule_symbols)
    exit_ = _compile(checker, "exit_rules", values["exit_rules"], rule_symbols)
    if entry is not INVALID and not entry and checked["strategy"] == "rules":
        checker.add("entry_rules", "needs at least one rule with strategy rules (only strategy correlation "
                                   "brings its own entry rules)")
    conditions: Any = INVALID
    if entry is not INVALID:
        checked["entry_rules"] = tuple(rule.text for rule in entry)
        conditions = _conditions(checker, values, checked, entry, rule_symbols)
    if exit_ is not INVALID:
        checked["exit_rules"] = tuple(rule.text for rule in exit_)
        if conditions is not INVALID:
            checked["rules"] = ScannerRules(entry, exit_, *conditions)


def _compile(checker: Checker, name: str, value: Any, symbols: set[str] | None) -> Any:
    """The rules of `name`, each compiled; INVALID after recording every error. Counted and measured before
    anything is compiled, so that validation stays fast however much text was sent (see MAX_RULE_LENGTH)."""
    if isinstance(value, (list, tuple)) and len(value) > MAX_RULES:
        return checker.add(name, f"must list at most {MAX_RULES} rules, got {len(value):,}; combine conditions "
                                 "with 'and' / 'or' or split the scanner")
    texts = text_list("rule texts")(checker, name, value)
    if texts is INVALID:
        return INVALID
    too_long = [index for index, text in enumerate(texts) if len(text) > MAX_RULE_LENGTH]
    for index in too_long:
        checker.add(f"{name}[{index}]", f"must be at most {MAX_RULE_LENGTH:,} characters, got {len(texts[index]):,}")
    if too_long:
        return INVALID
    compiled = []
    for index, text in enumerate(texts):
        try:
            compiled.append(compile_rule(text, symbols=symbols))
        except RuleError as error:
            checker.add(f"{name}[{index}]", f"{error.message} at position {error.position}")
    return tuple(compiled) if len(compiled) == len(texts) else INVALID


def _conditions(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any], entry: tuple,
                symbols: set[str] | None) -> Any:
    """The compiled (buy, sell) conditions: the engine ANDs the entry rules (with the built-in
    conditions of the correlation strategy), so a set that compiles rule by rule must also compile
    together, or the strategy could not start. INVALID when they do not, or cannot be known."""
    strategy, direction, timeframe = checked["strategy"], checked["direction"], values["timeframe"]
    primary, correlated = values["primary"], values["correlated"]
    if strategy is INVALID or direction is INVALID or not isinstance(timeframe, str):
        return INVALID
    if strategy == "correlation" and not (isinstance(primary, str) and isinstance(correlated, str)):
        return INVALID
    try:
        return compile_conditions(strategy, direction, primary, correlated, timeframe, entry, symbols)
    except RuleError as error:
        return checker.add("entry_rules", f"the rules cannot be evaluated together: {error.message}")


def order_for_instrument(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """The order settings that depend on the instrument; the instrument's default multiplier filled in."""
    order, instrument, direction = checked["order"], checked["instrument"], checked["direction"]
    exchange, product, multiplier = _value(order, "exchange"), _value(order, "product"), _value(order, "multiplier")
    if instrument is INVALID:
        return
    if exchange == "CBOE" and instrument != "option":
        others = "SMART" if instrument == "futures" else "SMART, NYSE or NASDAQ"  # no futures on NYSE, NASDAQ
        checker.add("order.exchange", f"CBOE routes options only; use {others} for instrument {instrument}")
    if instrument in ("equity", "etf"):
        if product == "cash" and direction in ("short", "both"):
            checker.add("order.product", f"a cash account cannot sell short; use margin for direction {direction}")
        if multiplier not in (None, 1, INVALID):
            checker.add("order.multiplier",
                        f"must be 1 for instrument {instrument} (one share per unit), got {multiplier}")
    if multiplier is None:
        multiplier = _default_multiplier(instrument, values["futures"])
    if isinstance(order, OrderSettings) and multiplier is not INVALID and order.multiplier != multiplier:
        checked["order"] = dataclasses.replace(order, multiplier=multiplier)


def _default_multiplier(instrument: str, futures: Any) -> Any:
    if instrument == "option":
        return OPTION_MULTIPLIER
    if instrument == "futures":
        root = _value(futures, "root")
        return FUTURES_SPECS[root].multiplier if isinstance(root, str) and root in FUTURES_SPECS else INVALID
    return 1


def _value(section: Any, name: str) -> Any:
    """A setting of a section that may be valid, partial, INVALID or absent (INVALID for all but the first)."""
    if isinstance(section, Partial):
        return section.values.get(name, INVALID)
    if isinstance(section, (OrderSettings, FuturesSettings)):
        return getattr(section, name)
    return INVALID


def trading(checker: Checker, values: Mapping[str, Any], checked: dict[str, Any]) -> None:
    """Trade management needs the entries' initial stop: a `trade:` section only with a `risk:` section."""
    if values.get("trade") is not None and values.get("risk") is None:
        checker.add("trade", "needs a risk section: trades are managed from their initial stop (risk.stop_pct or "
                             "risk.stop_amount) in the account named by risk.account")

"""The scanner (SS) configuration: one frozen, validated model of everything a scanner needs.

A scanner watches `symbols` on `days` between `start_time` and `end_time` (ET wall times), every
`interval`, evaluates its entry and exit rules on `timeframe` bars, emits at most
`max_signals_per_day` signals (`max_signals_per_symbol` per symbol), and describes the orders its
signals become in `order`.

    config = ScannerConfig.from_mapping(yaml.safe_load(text))  # ScannerConfigError lists every bad field
    config.rules.entry                                         # the compiled entry rules
    config.rules.buy                                           # the strategy's compiled buy condition
    config.window_utc(dt.date(2026, 3, 9))                     # the day's [start, end) in UTC ns
    ScannerConfig.from_mapping(config.to_mapping()) == config  # True

Settings (the mapping's keys; the plan's SS-* names are these keys without the prefix):

    name                     1-64 letters, digits, spaces, _ - . (required)
    type                     intraday | positional (required)
    instrument               equity | etf | option | futures (required)
    expiry                   weekly | monthly: required for option and futures, absent otherwise
    option                   section, required iff instrument is option:
        right                    call | put (required)
        category                 ATM | ITM | OTM | DITM | DOTM (required)
        category_split           CategorySplit fields: mode count (itm_strikes, otm_strikes,
                                 deep_strikes) or percent (itm_pct, otm_pct, deep_pct); default: the
                                 universal settings' option_category_split (count 1/1/5 unless changed)
        min_days_to_expiry       whole number >= 0, default 0
    futures                  section, required iff instrument is futures:
        root                     a root of `ticks.FUTURES_SPECS` (ES, NQ, CL, GC, ZN) (required)
        roll                     days_before_expiry | volume | open_interest, default days_before_expiry
        roll_days                0-30 business days before expiry (the backstop of volume and
                                 open-interest rolls too), default 5
    days                     list of mon..fri, or "all" (required)
    start_time, end_time     "HH:MM" ET, default "09:30" and "16:00"; start before end; within the
                             regular session 09:30-16:00 ET unless extended_hours
    extended_hours           true allows 04:00-20:00 ET, default false
    interval                 how often the scanner evaluates: "30s", "1m", "5m", "1h" ... 1s to 1d,
                             a whole number of seconds (required)
    max_signals_per_day      whole number >= 1 (required)
    max_signals_per_symbol   whole number >= 1, at most max_signals_per_day (required)
    direction                long | short | both (required)
    mode                     live | virtual (required)
    symbols                  1-50 distinct upper-case symbols (SPY, BRK.B, ESZ6) (required)
    primary, correlated      optional, two different members of symbols
    timeframe                indicator bars: "<n>m", "<n>h" or "1d" (required); the window must be at
                             least one bar long; 1d is one bar per regular session, evaluated once at
                             its close (16:00 ET, 13:00 on early-close days; `interval` does not
                             apply), so its window must reach 16:00 and start before 13:00
    strategy                 rules | correlation (the built-in strategy on primary and correlated),
                             default rules
    entry_rules, exit_rules  lists of rule texts (see `processors.rules`), compiled against symbols;
                             entry_rules needs one rule or more unless strategy is correlation
    sanity                   section: max_deviation_pct (number > 0, default 10),
                             max_staleness_seconds (whole number > 0, default 120)
    order                    section (required):
        exchange                 SMART | NYSE | NASDAQ | CBOE (CBOE for options only) (required)
        order_type               market | limit | stop | stop_limit (required)
        product                  margin | cash (required; selling equities short needs margin)
        quantity                 whole number >= 1 (required)
        limit_offset_ticks       >= 0, default 0; only for limit and stop_limit
        stop_offset_ticks        >= 0, default 0; only for stop and stop_limit
        multiplier               >= 1; default 100 for options, the root's multiplier for futures,
                                 1 for equities and ETFs (which allow only 1)

`from_mapping` parses JSON/YAML-loaded data strictly: a value of the wrong type (the text "5" for a
whole number) or an unknown key is an error, like an out-of-range value. Constructing the dataclasses
directly validates the same way (with Python values: `datetime.time`, `timedelta`, `Decimal`). Times
are ET wall times; `window_utc` converts them to UTC for one date (DST-correct, via America/New_York).
Pure: no I/O, no clock.

The modules, one job each:

    choices.py    the words, limits and formats the settings accept
    checks.py     the checks of one value (`Checker` collects the errors with their paths)
    table.py      `Field` and `Table`: per setting its check, reader and writer; `apply` validates
    mapping.py    the one reader of a table (`read_config`, `section`), the JSON/YAML value readers,
                  and the writer
    sections.py   `OptionSettings`, `FuturesSettings`, `SanitySettings`, `OrderSettings` and their tables
    rules.py      `ScannerRules`: the rules and the strategy's conditions, compiled once
    cross.py      the checks that read more than one setting (the window holds an evaluation
                  instant of the timeframe, among them)
    model.py      `ScannerConfig` and its table
"""

from processors.scanner.config.choices import (DIRECTIONS, EXCHANGES, INSTRUMENTS, MODES, ORDER_TYPES, PRODUCTS,
                                               SCAN_TYPES, STRATEGIES, WEEKDAYS)
from processors.scanner.config.model import ScannerConfig
from processors.scanner.config.rules import ScannerRules
from processors.scanner.config.sections import FuturesSettings, OptionSettings, OrderSettings, SanitySettings
from processors.scanner.errors import FieldError, ScannerConfigError

__all__ = [
    "DIRECTIONS",
    "EXCHANGES",
    "INSTRUMENTS",
    "MODES",
    "ORDER_TYPES",
    "PRODUCTS",
    "SCAN_TYPES",
    "STRATEGIES",
    "WEEKDAYS",
    "FieldError",
    "FuturesSettings",
    "OptionSettings",
    "OrderSettings",
    "SanitySettings",
    "ScannerConfig",
    "ScannerConfigError",
    "ScannerRules",
]

"""The words, limits and formats the scanner settings accept: one place for every allowed value."""

from __future__ import annotations

import re

from processors.calendar import SessionHours
from processors.instruments.options import StrikeCategory

SCAN_TYPES = ("intraday", "positional")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")  # index = Python's weekday() number
WEEKEND_NAMES = frozenset({"sat", "sun", "saturday", "sunday"})
DIRECTIONS = ("long", "short", "both")
INSTRUMENTS = ("equity", "etf", "option", "futures")
DERIVATIVES = ("option", "futures")
MODES = ("live", "virtual")
STRATEGIES = ("rules", "correlation")
EXCHANGES = ("SMART", "NYSE", "NASDAQ", "CBOE")
ORDER_TYPES = ("market", "limit", "stop", "stop_limit")
LIMIT_ORDER_TYPES = ("limit", "stop_limit")
STOP_ORDER_TYPES = ("stop", "stop_limit")
PRODUCTS = ("margin", "cash")
CATEGORY_NAMES = tuple(category.value for category in StrikeCategory)

MAX_NAME_LENGTH = 64
MAX_SYMBOLS = 50
MAX_SYMBOL_LENGTH = 16
MAX_ROLL_DAYS = 30
OPTION_MULTIPLIER = 100

# Upper bounds of the whole numbers (and the one decimal) a scanner may set. Each ends up in an Avro int or long
# (an order intent's quantity is a long, its multiplier an int) or in arithmetic on every bar, so each has a
# business limit far inside its type: a value past it is a typo, never a strategy.
MAX_SIGNALS_PER_DAY = 10_000        # max_signals_per_day and max_signals_per_symbol
MAX_QUANTITY = 1_000_000            # order.quantity: shares or contracts in one order
MAX_OFFSET_TICKS = 10_000           # order.limit_offset_ticks and order.stop_offset_ticks
MAX_MULTIPLIER = 100_000_000        # order.multiplier (yen futures have 12,500,000; Avro int ends at 2**31 - 1)
MAX_STALENESS_SECONDS = 604_800     # sanity.max_staleness_seconds: a week (a positional scan over a holiday weekend)
MAX_DEVIATION_PCT = 1_000           # sanity.max_deviation_pct: ten times the price
MAX_DAYS_TO_EXPIRY = 3_650          # option.min_days_to_expiry: ten years (LEAPS run about three)
MAX_STRIKES = 500                   # option.category_split itm_strikes, otm_strikes, deep_strikes

# The rules: the parser already refuses a rule deeper than 100 operations, but only after reading all of it, at
# about 8 microseconds a character; these bounds keep the whole configuration's validation well under a second
# (20 entry and 20 exit rules of 1,000 characters, each compiled alone and the entry rules together: 0.45 s).
MAX_RULES = 20                      # entry_rules and exit_rules, each
MAX_RULE_LENGTH = 1_000             # characters of one rule

# The session hours the window is checked against (ET): regular 09:30-16:00, extended 04:00-20:00.
SESSION_HOURS = SessionHours()
DEFAULT_START = SESSION_HOURS.regular_open
DEFAULT_END = SESSION_HOURS.regular_close

MIN_INTERVAL_S = 1
MAX_INTERVAL_S = 86400  # one day
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

NAME = re.compile(r"[A-Za-z0-9 _.\-]+")
SYMBOL = re.compile(r"[A-Z][A-Z0-9]*(?:\.[A-Z0-9]+)*")  # also a symbol in the rule language
TIMEFRAME = re.compile(r"[1-9][0-9]*[mh]|1d")
TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)([smhd])")

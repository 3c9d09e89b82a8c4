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

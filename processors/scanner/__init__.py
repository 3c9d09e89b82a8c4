"""The scanner (SS): its configuration and the limits on when it may signal.

    config/     `ScannerConfig` (frozen, validated; `from_mapping` / `to_mapping`), its sections
                `OptionSettings`, `FuturesSettings`, `SanitySettings`, `OrderSettings`, and
                `ScannerRules`: the rules and the strategy's conditions, compiled once
    errors.py   `ScannerConfigError` (a TradestreamError and a ValueError) carrying every
                `FieldError` of a config at once
    limits.py   `in_schedule` (weekday and ET time window) and `SignalLimiter` (signals per ET day)

Pure: no I/O, no clock. Times arrive as UTC epoch nanoseconds and are read in America/New_York.
The strategies (`processors.strategies`) depend on the scanner's configuration, never the reverse.
"""

from processors.scanner.config import (
    FuturesSettings,
    OptionSettings,
    OrderSettings,
    SanitySettings,
    ScannerConfig,
    ScannerRules,
)
from processors.scanner.errors import FieldError, ScannerConfigError
from processors.scanner.limits import SignalLimiter, in_schedule

__all__ = [
    "FieldError",
    "FuturesSettings",
    "OptionSettings",
    "OrderSettings",
    "SanitySettings",
    "ScannerConfig",
    "ScannerConfigError",
    "ScannerRules",
    "SignalLimiter",
    "in_schedule",
]

"""The configuration as JSON/YAML values: the one reader of a settings table, the readers of the
values JSON and YAML cannot write as Python does (times, durations, decimals), and the writer.

Reading is strict: an unknown key, a missing required setting and a value of the wrong type (the
text "5" for a whole number) are errors like an out-of-range value. A section whose reading failed
becomes a `Partial`, so that the checks across sections still run and every error is reported at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from processors.scanner.config.checks import (INVALID, Check, Checker, Invalid, Partial, describe, is_int, join,
                                              shown, suggestion)
from processors.scanner.config.choices import (DURATION, MAX_INTERVAL_S, MIN_INTERVAL_S, TIME, UNIT_SECONDS,
                                               WEEKDAYS)
from processors.scanner.config.table import Table, check_values, in_setting_order
from processors.scanner.errors import ScannerConfigError

# The one reader ----------------------------------------------------------------------------------

def read_config(table: Table, data: Any) -> dict[str, Any]:
    """The settings of the whole configuration written in `data`, ready for `table.kind(**values)`;
    ScannerConfigError listing every reading error and every check's error, in the order of the settings."""
    checker = Checker()
    values = read_fields(checker, "", data, table)
    if values is INVALID:
        raise ScannerConfigError(checker.errors)
    if checker.errors:
        errors, _ = check_values(table, table.defaults | values)
        raise ScannerConfigError(in_setting_order(table, checker.errors + errors))
    return values


def read_fields(checker: Checker, path: str, data: Any, table: Table) -> dict[str, Any] | Invalid:
    """The settings of `table` given in the mapping `data` at `path`, each read by its field's `read`
    (INVALID where that failed, and for missing required settings); unknown keys are errors."""
    values = _read_mapping(checker, path, data, table)
    if values is INVALID:
        return INVALID
    for item in table.fields:
        if item.read is not None and item.name in values and values[item.name] is not INVALID:
            values[item.name] = item.read(checker, join(path, item.name), values[item.name])
    return values


def _read_mapping(checker: Checker, path: str, data: Any, table: Table) -> dict[str, Any] | Invalid:
    if not isinstance(data, Mapping):
        return checker.add(path or "config", f"must be a mapping of settings (name: value), got {describe(data)}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in table.names:
            values[key] = value
        elif isinstance(key, str):
            checker.add(join(path, key), f"unknown setting{suggestion(key, table.names)}")
        else:
            checker.add(join(path, repr(key)), "unknown setting: setting names are text")
    for key in table.required:
        if key not in values:
            values[key] = checker.add(join(path, key), "required setting is missing")
    return values


def section(table: Table) -> Check:
    """The reader of a section (a nested mapping) whose class validates through `table`: the section
    object, None for null (as if absent: the checks decide), or a `Partial` after recording its errors."""
    def read(checker: Checker, path: str, data: Any) -> Any:
        if data is None:
            return None
        errors_before = len(checker.errors)
        values = read_fields(checker, path, data, table)
        if values is INVALID:
            return INVALID
        full = table.defaults | values
        if len(checker.errors) > errors_before:  # reading failed somewhere: add the checks' errors, no object
            errors, checked = check_values(table, full)
            checker.extend(path, errors)
            return Partial(full | {name: value for name, value in checked.items() if value is not INVALID})
        try:
            return table.kind(**values)
        except ScannerConfigError as error:
            checker.extend(path, error.errors)
            return Partial(full)
    return read


# The values JSON and YAML write differently ------------------------------------------------------

def read_time(checker: Checker, name: str, raw: Any) -> Any:
    """"HH:MM" as a `datetime.time`."""
    if isinstance(raw, str):
        match = TIME.fullmatch(raw)
        if match:
            return dt.time(int(match[1]), int(match[2]))
    hint = ""
    if is_int(raw) and 0 <= raw < 24 * 60:
        hint = f" (YAML reads an unquoted {raw // 60}:{raw % 60:02d} as the number {raw}: quote the time)"
    return checker.add(name, f"must be an ET wall time written \"HH:MM\" such as \"09:30\", got {shown(raw)}{hint}")


def read_interval(checker: Checker, name: str, raw: Any) -> Any:
    """"30s", "5m", "1h", "1d" as a `datetime.timedelta` of whole seconds, from 1s to 1d."""
    match = DURATION.fullmatch(raw) if isinstance(raw, str) else None
    if match is None:
        return checker.add(name, "must be a duration: a number and s, m, h or d, such as 30s, 1m, 5m, 15m "
                                 f"or 1h; got {shown(raw)}")
    seconds = Decimal(match[1]) * UNIT_SECONDS[match[2]]
    problem = interval_problem(seconds)
    if problem:
        return checker.add(name, f"{problem} ({raw!r})")
    return dt.timedelta(seconds=int(seconds))


def interval_problem(seconds: Decimal) -> str | None:
    """Why an interval of `seconds` cannot be used, or None."""
    if seconds != seconds.to_integral_value():
        return f"must be a whole number of seconds, got {seconds.normalize():f} seconds"
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        return f"must be from 1s to 1d (86400 seconds), got {seconds.normalize():f} seconds"
    return None


def read_days(checker: Checker, name: str, raw: Any) -> Any:
    """A list of weekdays as a tuple (checked by the constructor), or "all"."""
    if raw == "all":
        return WEEKDAYS
    if isinstance(raw, (list, tuple)):
        return tuple(raw)
    return checker.add(name, f"must be a list of weekdays from {', '.join(WEEKDAYS)}, or \"all\", got {shown(raw)}")


def read_decimal(checker: Checker, name: str, raw: Any) -> Any:
    """A number from JSON/YAML: an int, a float (by its shortest repr), a numeric text or a Decimal."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str, Decimal)):
        return checker.add(name, f"must be a number, got {describe(raw)}")
    try:
        number = Decimal(str(raw)) if isinstance(raw, (float, str)) else Decimal(raw)
    except InvalidOperation:
        return checker.add(name, f"must be a number such as 10 or 2.5, got {raw!r}")
    if not number.is_finite():
        return checker.add(name, f"must be a finite number, got {raw!r}")
    return number


def read_whole_number(checker: Checker, name: str, raw: Any) -> Any:
    return raw if is_int(raw) else checker.add(name, f"must be a whole number, got {describe(raw)}")


def read_word(what: str) -> Check:
    """Any text (its value is checked by the constructor); `what` says which words are meant."""
    def read(checker: Checker, name: str, raw: Any) -> Any:
        return raw if isinstance(raw, str) else checker.add(name, f"must be {what}, got {describe(raw)}")
    return read


# Writing -----------------------------------------------------------------------------------------

def write_fields(table: Table, instance: Any) -> dict[str, Any]:
    """The settings of `instance` as plain JSON/YAML values, in the table's order; None is left out."""
    mapping: dict[str, Any] = {}
    for item in table.fields:
        value = getattr(instance, item.name)
        if value is not None:
            mapping[item.name] = value if item.write is None else item.write(value)
    return mapping


def format_time(value: dt.time) -> str:
    return value.strftime("%H:%M")


def format_duration(value: dt.timedelta) -> str:
    """The largest whole unit: 90s, 5m, 1h, 1d."""
    seconds = value // dt.timedelta(seconds=1)
    for unit in ("d", "h", "m"):
        if seconds % UNIT_SECONDS[unit] == 0:
            return f"{seconds // UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"

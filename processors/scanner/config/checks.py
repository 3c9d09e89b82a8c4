"""Checks of one setting's value, shared by the constructors (Python values) and the reader (JSON/YAML).

A check is called as `check(checker, path, value)`: it returns the value (normalised, e.g. an int as a
Decimal), or records what is wrong at `path` in the `Checker` and returns INVALID. A check given
INVALID returns INVALID without a second error, so a value refused once (say, by the reader) is
reported once, and the checks across settings skip it.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, Final

from processors.scanner.errors import FieldError


class _Invalid(Enum):
    """Marks a value that already failed (its error is recorded); later checks skip it."""

    VALUE = "invalid"


INVALID: Final = _Invalid.VALUE
Invalid = _Invalid


@dataclass(frozen=True, slots=True)
class Partial:
    """A section that has errors: its values (the given one where a check failed), for the checks
    across sections."""

    values: Mapping[str, Any]


def join(prefix: str, name: str) -> str:
    """The path of `name` inside `prefix`: `order.quantity`, `symbols[2]`."""
    if not prefix:
        return name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


SHOWN_LENGTH = 60  # characters of a value a message quotes


def number(value: int) -> str:
    """A whole number for a message: written out, or its size when it is too long to read (Python refuses to
    write out an int of more than 4,300 digits at all)."""
    if value.bit_length() <= 200:
        return str(value)  # 60 digits
    digits = int(value.bit_length() * 0.30103) + 1
    return f"{'-' if value < 0 else ''}a number of about {digits:,} digits"


def abbreviated(text: str) -> str:
    """`text`, cut to SHOWN_LENGTH characters."""
    return text if len(text) <= SHOWN_LENGTH else f"{text[:SHOWN_LENGTH - 3]}... ({len(text):,} characters)"


def describe(value: object) -> str:
    """A value's type and (shortened) repr, for messages: `int 5`, `nothing (null)`."""
    if value is None:
        return "nothing (null)"
    if is_int(value):
        return f"int {number(value)}"  # type: ignore[arg-type]
    if isinstance(value, (str, list, tuple, dict)) and len(value) > 10_000:
        return f"{type(value).__name__} of length {len(value):,}"  # not even written out to be shortened
    text = repr(value)
    if len(text) > SHOWN_LENGTH:
        text = text[:SHOWN_LENGTH - 3] + "..."
    return f"{type(value).__name__} {text}"


def shown(value: object) -> str:
    """Text quoted as written (shortened), anything else described with its type."""
    if not isinstance(value, str):
        return describe(value)
    if len(value) > SHOWN_LENGTH:
        return f"{value[:SHOWN_LENGTH - 3]!r}... ({len(value):,} characters)"
    return repr(value)


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def suggestion(word: object, candidates: Collection[str]) -> str:
    """"; did you mean 'x'?" for the candidate closest to `word` (ignoring case), or ""."""
    if not isinstance(word, str):
        return ""
    lowered = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


class Checker:
    """Collects the errors of one mapping or object, each with its path below `prefix`."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.errors: list[FieldError] = []

    def add(self, name: str, message: str) -> _Invalid:
        self.errors.append(FieldError(join(self.prefix, name), message))
        return INVALID

    def extend(self, name: str, errors: list[FieldError]) -> None:
        """Record a section's errors below `name`."""
        self.errors.extend(FieldError(join(join(self.prefix, name), error.field), error.message) for error in errors)


Check = Callable[[Checker, str, Any], Any]


def choice(choices: tuple[str, ...]) -> Check:
    """One of `choices`, exactly as written."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        if value is INVALID:
            return INVALID
        if isinstance(value, str) and value in choices:
            return value
        return checker.add(name, f"must be one of {', '.join(choices)}, got {shown(value)}"
                                 f"{suggestion(value, choices)}")
    return check


def integer(minimum: int, maximum: int) -> Check:
    """A whole number (not a bool) from `minimum` to `maximum`. Every whole-number setting has a maximum:
    each ends up in an Avro int or long, or in arithmetic, that a number without bound would break."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        if value is INVALID:
            return INVALID
        if not is_int(value):
            return checker.add(name, f"must be a whole number, got {describe(value)}")
        if value < minimum:
            return checker.add(name, f"must be at least {minimum:,}, got {number(value)}")
        if value > maximum:
            return checker.add(name, f"must be at most {maximum:,}, got {number(value)}")
        return value
    return check


def optional(inner: Check) -> Check:
    """None (the setting's default is decided elsewhere), or a value `inner` accepts."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        return None if value is None else inner(checker, name, value)
    return check


def instance(kind: type) -> Check:
    """An object of `kind` (or a section that already reported its errors)."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        if value is INVALID or isinstance(value, (kind, Partial)):
            return value
        return checker.add(name, f"must be a {kind.__name__}, got {describe(value)}")
    return check


def text_list(what: str) -> Check:
    """A list (or tuple) whose items are all text, as a tuple; `what` names the items."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        if value is INVALID:
            return INVALID
        if not isinstance(value, (list, tuple)):
            return checker.add(name, f"must be a list of {what}, got {describe(value)}")
        valid = True
        for index, item in enumerate(value):
            if not isinstance(item, str):
                checker.add(f"{name}[{index}]", f"must be text, got {describe(item)}")
                valid = False
        return tuple(value) if valid else INVALID
    return check


def boolean(checker: Checker, name: str, value: Any) -> Any:
    if value is INVALID or isinstance(value, bool):
        return value
    return checker.add(name, f"must be true or false, got {describe(value)}")


def positive_decimal(maximum: int) -> Check:
    """A Decimal or int greater than 0 and at most `maximum`, as a Decimal; floats are refused (they are
    not exact)."""
    def check(checker: Checker, name: str, value: Any) -> Any:
        if value is INVALID:
            return INVALID
        if isinstance(value, float):
            return checker.add(name, f"must be a Decimal, got float {value!r}; convert floats with Decimal(str(x))")
        if not isinstance(value, Decimal) and not is_int(value):
            return checker.add(name, f"must be a number, got {describe(value)}")
        decimal = Decimal(value)
        if not decimal.is_finite():
            return checker.add(name, f"must be a finite number, got {value}")
        if decimal <= 0:
            return checker.add(name, f"must be greater than 0, got {abbreviated(str(value))}")
        if decimal > maximum:
            return checker.add(name, f"must be at most {maximum:,}, got {abbreviated(str(value))}")
        return decimal
    return check


def wall_time(checker: Checker, name: str, value: Any) -> Any:
    """A naive `datetime.time` on a whole minute (an ET wall time)."""
    if value is INVALID:
        return INVALID
    if not isinstance(value, dt.time):
        return checker.add(name, f"must be a datetime.time (ET wall time), got {describe(value)}")
    if value.tzinfo is not None:
        return checker.add(name, f"must be a naive ET wall time without tzinfo, got {value.isoformat()}")
    if value.second or value.microsecond:
        return checker.add(name, f"must be a whole minute (HH:MM), got {value.isoformat()}")
    return value

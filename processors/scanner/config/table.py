"""The table of a settings class: one `Field` per setting (how its value is checked, read from
JSON/YAML and written back), and the checks across its settings. Every class of the configuration
validates, reads and writes through its table with the generic functions here and in `mapping`.

    ORDER = Table(OrderSettings, (Field("exchange", check=choice(EXCHANGES)), ...), cross=(offsets,))
    apply(order, ORDER)            # in __post_init__: ScannerConfigError, or the normalised values set
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from processors.scanner.config.checks import Check, Checker
from processors.scanner.errors import FieldError, ScannerConfigError

# A check across settings: given the settings as written (`values`) and as the field checks left
# them (`checked`: normalised, INVALID where refused), it records errors and may normalise `checked`.
Cross = Callable[[Checker, Mapping[str, Any], dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Field:
    """One setting: `check` validates the Python value (None: any value, or checked across settings),
    `read` turns the JSON/YAML value into the Python value (None: taken as it is), `write` turns the
    Python value into a JSON/YAML value (None: written as it is). A None value is never written."""

    name: str
    check: Check | None = None
    read: Check | None = None
    write: Callable[[Any], Any] | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """The settings of `kind` (a dataclass), in the order they are checked, read and written; `cross`
    runs after the field checks. With `in_setting_order` the errors are sorted by setting (stably), as
    the whole configuration reports them; a section reports them in the order of its checks.
    `required` and `defaults` follow from the dataclass."""

    kind: type
    fields: tuple[Field, ...]
    cross: tuple[Cross, ...] = ()
    in_setting_order: bool = False
    names: tuple[str, ...] = field(init=False, compare=False)
    required: tuple[str, ...] = field(init=False, compare=False)
    defaults: dict[str, Any] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        init = [item for item in dataclasses.fields(self.kind) if item.init]
        names = tuple(item.name for item in self.fields)
        if sorted(names) != sorted(item.name for item in init):
            raise TypeError(f"the table of {self.kind.__name__} must list its settings "
                            f"{[item.name for item in init]}, got {list(names)}")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "required", tuple(
            item.name for item in init
            if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING))
        object.__setattr__(self, "defaults", {
            item.name: item.default for item in init if item.default is not dataclasses.MISSING})


def check_values(table: Table, values: Mapping[str, Any]) -> tuple[list[FieldError], dict[str, Any]]:
    """Every check of `table` on `values` (INVALID, or a partial section, where reading already
    failed): the errors, and the values as checked (normalised; INVALID where refused)."""
    checker = Checker()
    checked: dict[str, Any] = {}
    for item in table.fields:
        value = values[item.name]
        checked[item.name] = value if item.check is None else item.check(checker, item.name, value)
    for cross in table.cross:
        cross(checker, values, checked)
    return (in_setting_order(table, checker.errors) if table.in_setting_order else checker.errors), checked


def apply(instance: Any, table: Table) -> None:
    """The validation of a settings object (its `__post_init__`): raise ScannerConfigError with every
    error, or store the normalised values on the (frozen) object."""
    errors, checked = check_values(table, {name: getattr(instance, name) for name in table.names})
    if errors:
        raise ScannerConfigError(errors)
    for name, value in checked.items():
        object.__setattr__(instance, name, value)


_TOP_LEVEL = re.compile(r"[^.\[]*")


def in_setting_order(table: Table, errors: list[FieldError]) -> list[FieldError]:
    """`errors` sorted (stably) by the setting their path starts with; unknown settings last."""
    order = {name: index for index, name in enumerate(table.names)}

    def key(error: FieldError) -> int:
        top = _TOP_LEVEL.match(error.field)
        return order.get(top.group() if top else "", len(order))
    return sorted(errors, key=key)

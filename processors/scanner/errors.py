"""The one exception a scanner configuration raises, and the field errors it carries.

    ScannerConfigError                the settings cannot be used: fix every listed field and load
                                      them again; loading the same settings again fails the same way
                                      (a `schemas.errors.TradestreamError` and a ValueError)
    FieldError                        one problem: the path of the setting and what is wrong with it

Paths name settings as they are written in the mapping, with dots into sections and indices into
lists: `name`, `entry_rules[1]`, `option.category_split.itm_strikes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.errors import TradestreamError


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid setting: `field` is its path, `message` says what is wrong and what to write."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ScannerConfigError(TradestreamError, ValueError):
    """Scanner settings that cannot be used. Show `str(error)` to the author: one line per problem,
    `field: message`, every problem of the settings at once. Fix them all and load the settings
    again; nothing about the data or the time of day changes the outcome.

    `errors` is the list of `FieldError`s, in the order of the settings.
    """

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        if not self.errors:
            raise ValueError("ScannerConfigError needs at least one FieldError")
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    @property
    def fields(self) -> list[str]:
        """The paths of the invalid settings, in order (a field appears once per problem)."""
        return [error.field for error in self.errors]

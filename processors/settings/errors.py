"""The one exception the universal settings raise.

    SettingsError       the settings (or a change of them) cannot be used: fix every listed field and
                        try again; the same input fails the same way (a TradestreamError and a ValueError)
"""

from __future__ import annotations

from collections.abc import Iterable

from processors.scanner.errors import FieldError
from schemas.errors import TradestreamError


class SettingsError(TradestreamError, ValueError):
    """Universal settings, or a change of them, that cannot be used. `str(error)` is one line per problem,
    `field: message`, every problem at once; `errors` lists the `FieldError`s in the order of the settings."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: list[FieldError] = list(errors)
        if not self.errors:
            raise ValueError("SettingsError needs at least one FieldError")
        super().__init__(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)

    @property
    def fields(self) -> list[str]:
        """The paths of the invalid settings, in order."""
        return [error.field for error in self.errors]

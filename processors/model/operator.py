"""An operator's changes: to one account (`AccountChanged`) and to the universal settings (`SettingsChanged`).

Part of processors.model (see its docstring for what every message shares).
"""

from __future__ import annotations

from dataclasses import dataclass



@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChanged:
    """An operator's change of an account from ts_event on (schemas/account_changed.avsc)."""
    account_id: str
    kind: str
    ts_event: int
    ts_init: int
    reason: str
    operator: str = ""
    settings: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsChanged:
    """A new version of the universal settings, in force from ts_event on (schemas/settings_changed.avsc)."""
    version: int
    ts_event: int
    ts_init: int
    reason: str
    operator: str = ""
    settings: str

"""The universal settings: what every account and strategy shares, typed, validated, versioned.

    universal.py   UniversalSettings (capital, session hours in ET, the exchange whose calendar applies with
                   extra closed dates and half-days, the default option category split); read_settings and
                   write_settings to and from JSON/YAML values, every problem reported at once
    history.py     SettingsHistory: the versions from SettingsChanged events and their effective instants;
                   `at(ts_ns)` gives the settings in force then; back-dated changes are refused
    effects.py     where the settings take effect: the adjusted calendar (a version governs the trading days
                   that begin once it is in force), the option category split default
    errors.py      SettingsError, listing each invalid field

Every change is a SettingsChanged event on the `settings` topic (`tradestream settings change`), so a replay
reads the same versions and knows which settings were in force at any instant.
"""

from processors.settings.effects import (CalendarInForce, adjusted_calendar, calendar_in_force, first_date_under,
                                        option_category_split)
from processors.settings.errors import SettingsError
from processors.settings.history import SettingsHistory, SettingsVersion, settings_of
from processors.settings.universal import UniversalSettings, read_settings, write_settings

__all__ = ["CalendarInForce", "SettingsError", "SettingsHistory", "SettingsVersion", "UniversalSettings",
           "adjusted_calendar", "calendar_in_force", "first_date_under", "option_category_split", "read_settings",
           "settings_of", "write_settings"]

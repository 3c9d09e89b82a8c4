"""The one place the Interactive Brokers client library is imported.

`ib_insync` is the default; its maintained fork `ib_async` has the same objects and wrapper method
names, so `IBKR_API_LIBRARY=ib_async` swaps it in without another change. Nothing outside this
package sees the library's types: `connectors.ibkr.feed` receives plain callbacks.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from schemas.errors import ConfigError

SUPPORTED_LIBRARIES = ("ib_insync", "ib_async")


def load_library(name: str = "ib_insync") -> ModuleType:
    if name not in SUPPORTED_LIBRARIES:
        raise ConfigError(f"IBKR_API_LIBRARY must be one of {', '.join(SUPPORTED_LIBRARIES)}, not {name!r}")
    try:
        return importlib.import_module(name)
    except ImportError:
        raise ConfigError(f"IBKR_API_LIBRARY={name} is not installed: pip install {name.replace('_', '-')}") from None

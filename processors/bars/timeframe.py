"""Bar timeframes: minutes (`5m`), hours (`1h`) or one bar per session window (`1d`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

NS = 1_000_000_000
_TIMEFRAME = re.compile(r"^(\d+)([mhd])$")


@dataclass(frozen=True, slots=True)
class Timeframe:
    text: str
    length_ns: int | None  # None: one bar per session window (1d)

    @classmethod
    def parse(cls, text: str) -> Timeframe:
        match = _TIMEFRAME.match(text.strip().lower())
        if not match:
            raise ValueError(f"timeframe must look like 5m, 1h or 1d, not {text!r}")
        count, unit = int(match.group(1)), match.group(2)
        if count <= 0:
            raise ValueError(f"timeframe must be positive, not {text!r}")
        if unit == "d":
            if count != 1:
                raise ValueError(f"timeframe {text!r}: only 1d is supported for daily bars")
            return cls("1d", None)
        minutes = count * (60 if unit == "h" else 1)
        return cls(f"{minutes}m" if unit == "m" or minutes % 60 else f"{count}h", minutes * 60 * NS)

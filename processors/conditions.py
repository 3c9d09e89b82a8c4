"""Which U.S. trade prints count towards a bar's OHLC and volume, by sale condition.

The rule follows the consolidated-tape (CTA/UTP SIP) eligibility matrix in simplified form: a print
updates the bar's open/high/low/close only if every one of its condition codes is "last-sale
eligible", and its volume only if every code is "volume eligible". Unknown codes are treated as
regular trades (most feeds send only the codes below), and extended-hours prints (T, U) are
eligible because tradestream builds pre- and post-market bars from exactly those prints.

| code | meaning                        | OHLC | volume |
|------|--------------------------------|------|--------|
| @, blank, F (intermarket sweep), O (opening), 5 (reopening), 6 (closing), T/U (extended hours), X (cross) | regular | yes | yes |
| I    | odd lot                        | no   | yes    |
| W    | average price                  | no   | yes    |
| C    | cash sale                      | no   | yes    |
| N    | next day                       | no   | yes    |
| R    | seller                         | no   | yes    |
| P    | prior reference price          | no   | yes    |
| Z    | sold (out of sequence)         | no   | yes    |
| 4    | derivatively priced            | no   | yes    |
| 7    | qualified contingent trade     | no   | yes    |
| V    | contingent trade               | no   | yes    |
| H    | price variation trade          | no   | yes    |
| Q    | market center official open    | no   | no     |
| M    | market center official close   | no   | no     |
| 9    | corrected consolidated close   | no   | no     |

A print eligible for neither is reported back (not merged, not silently dropped).
"""

from __future__ import annotations

from collections.abc import Iterable

# code -> (updates OHLC, updates volume); codes not listed are regular.
RULES: dict[str, tuple[bool, bool]] = {
    "I": (False, True),
    "W": (False, True),
    "C": (False, True),
    "N": (False, True),
    "R": (False, True),
    "P": (False, True),
    "Z": (False, True),
    "4": (False, True),
    "7": (False, True),
    "V": (False, True),
    "H": (False, True),
    "Q": (False, False),
    "M": (False, False),
    "9": (False, False),
}

_CACHE: dict[tuple[str, ...], tuple[bool, bool]] = {(): (True, True)}


def eligibility(conditions: Iterable[str] | None) -> tuple[bool, bool]:
    """(updates OHLC, updates volume) for a print with these condition codes."""
    key = tuple(conditions) if conditions else ()
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    ohlc = volume = True
    for code in key:
        rule = RULES.get(code.strip().upper())
        if rule is not None:
            ohlc = ohlc and rule[0]
            volume = volume and rule[1]
    if len(_CACHE) < 4096:
        _CACHE[key] = (ohlc, volume)
    return ohlc, volume

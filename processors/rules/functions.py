"""The built-in functions of the rule language: their parameters, result type and meaning.

Data functions (every function but `crosses_above` and `crosses_below`) are the leaves of a rule:
their value is not computed here but supplied by the caller at each evaluation, keyed by the
requirement `(kind, symbol, timeframe)` that the call names (see `requirements.Requirement`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType


class ValueType(Enum):
    """The type of an expression; the value is how the type is named in error messages."""

    NUMBER = "a number"
    BOOLEAN = "true/false"
    SYMBOL = "a symbol"
    TIMEFRAME = "a timeframe"


class Parameter(Enum):
    """What an argument must be; the value is how it is shown in signatures."""

    SYMBOL = "SYMBOL"  # a bare symbol such as SPY
    TIMEFRAME = "TIMEFRAME"  # a timeframe such as 15m
    NUMBER = "NUMBER"  # any number-valued expression
    BAR_COUNT = "N"  # a whole number written literally, at least the function's minimum


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """One built-in: `parameters` are required, `optional` may follow them (in order).

    `reads_data` marks a leaf whose value the caller supplies; `minimum_bar_count` bounds a
    BAR_COUNT argument from below."""

    name: str
    parameters: tuple[Parameter, ...]
    result: ValueType
    summary: str
    optional: tuple[Parameter, ...] = ()
    reads_data: bool = True
    minimum_bar_count: int = 1

    @property
    def signature(self) -> str:
        """How to call the function, e.g. `donchian_upper(SYMBOL, TIMEFRAME[, N])`."""
        required = ", ".join(parameter.value for parameter in self.parameters)
        optional = "".join(f"[, {parameter.value}]" for parameter in self.optional)
        return f"{self.name}({required}{optional})"

    def accepts(self, count: int) -> bool:
        """Whether `count` arguments is a valid number of arguments."""
        return len(self.parameters) <= count <= len(self.parameters) + len(self.optional)


_BAR = (Parameter.SYMBOL, Parameter.TIMEFRAME)
_NUMBER = ValueType.NUMBER


def _bar_function(name: str, summary: str) -> FunctionSpec:
    """A number read per symbol and timeframe: `name(SYMBOL, TIMEFRAME)`."""
    return FunctionSpec(name, _BAR, _NUMBER, summary)


def _donchian(name: str, summary: str) -> FunctionSpec:
    """A Donchian value with an optional period: `name(SYMBOL, TIMEFRAME[, N])`."""
    return FunctionSpec(name, _BAR, _NUMBER, summary, optional=(Parameter.BAR_COUNT,))


_SPECS: tuple[FunctionSpec, ...] = (
    FunctionSpec("price", (Parameter.SYMBOL,), _NUMBER, "last trade price"),
    _bar_function("open", "open of the last closed bar"),
    _bar_function("high", "high of the last closed bar"),
    _bar_function("low", "low of the last closed bar"),
    _bar_function("close", "close of the last closed bar"),
    _bar_function("volume", "volume of the last closed bar"),
    _bar_function("swing_high", "level of the last confirmed swing high"),
    _bar_function("swing_low", "level of the last confirmed swing low"),
    _bar_function("fractal_high", "level of the last confirmed fractal high"),
    _bar_function("fractal_low", "level of the last confirmed fractal low"),
    _bar_function("atr", "average true range"),
    _donchian("donchian_upper", "highest high of the last N bars (N: the configured period if omitted)"),
    _donchian("donchian_lower", "lowest low of the last N bars (N: the configured period if omitted)"),
    _donchian("donchian_mid", "middle of the Donchian channel of the last N bars"),
    _bar_function("pivot", "classic floor pivot of the last closed bar"),
    _bar_function("r1", "first resistance of the classic pivots"),
    _bar_function("r2", "second resistance of the classic pivots"),
    _bar_function("r3", "third resistance of the classic pivots"),
    _bar_function("s1", "first support of the classic pivots"),
    _bar_function("s2", "second support of the classic pivots"),
    _bar_function("s3", "third support of the classic pivots"),
    FunctionSpec(
        "correlation",
        (Parameter.SYMBOL, Parameter.SYMBOL, Parameter.TIMEFRAME, Parameter.BAR_COUNT),
        _NUMBER,
        "Pearson correlation of the two symbols' close-to-close bar returns over the last N bars",
        minimum_bar_count=2,
    ),
    FunctionSpec(
        "crosses_above",
        (Parameter.NUMBER, Parameter.NUMBER),
        ValueType.BOOLEAN,
        "true when the first value was <= the second at the previous evaluation and is > it now",
        reads_data=False,
    ),
    FunctionSpec(
        "crosses_below",
        (Parameter.NUMBER, Parameter.NUMBER),
        ValueType.BOOLEAN,
        "true when the first value was >= the second at the previous evaluation and is < it now",
        reads_data=False,
    ),
)

FUNCTIONS: Mapping[str, FunctionSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})

"""The data a rule reads: the series each data-function call names, and the parsed `Rule` holding them.

A call to a data function (`swing_high(SPY, 15m)`) reads one series, a `Requirement`; a call that
writes a whole bar count (`correlation(SPY, QQQ, 15m, 20)`) also says how long that series' window is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from processors.rules.functions import FUNCTIONS, Parameter
from processors.rules.tree import Call, Expression, NumberLiteral, SymbolRef, TimeframeRef, iter_calls


class Requirement(NamedTuple):
    """A series the caller must supply at each evaluation: `kind` is the function name, `symbol`
    the symbol (`"SPY|QQQ"` for a pair), `timeframe` the timeframe or None (for `price`).
    Equal to the plain tuple `(kind, symbol, timeframe)`, so either can key the values."""

    kind: str
    symbol: str
    timeframe: str | None


@dataclass(frozen=True, slots=True)
class Rule:
    """A parsed rule: its source `text`, its syntax tree and the data it needs.

    `periods` pairs each requirement whose call has a bar count (correlation's N, donchian's
    optional period) with that count, so the caller knows how to compute the series (e.g.
    `RollingCorrelation(20)`); a requirement missing there uses the configured default."""

    text: str
    expression: Expression
    requirements: frozenset[Requirement]
    periods: tuple[tuple[Requirement, int], ...] = ()

    def period(self, requirement: tuple[str, str, str | None]) -> int | None:
        """The bar count written for `requirement`, or None when the rule does not give one."""
        return next((count for key, count in self.periods if key == requirement), None)


def rule_of(text: str, expression: Expression) -> Rule:
    """The rule of source `text` whose syntax tree is `expression`, with the requirements and bar
    counts of its calls in the order written (the first bar count written for a requirement wins)."""
    requirements: dict[Requirement, None] = {}
    periods: dict[Requirement, int] = {}
    for call in iter_calls(expression):
        requirement = requirement_of(call)
        if requirement is None:
            continue
        requirements.setdefault(requirement, None)
        count = period_of(call)
        if count is not None:
            periods.setdefault(requirement, count)
    return Rule(text, expression, frozenset(requirements), tuple(periods.items()))


def requirement_of(call: Call) -> Requirement | None:
    """The data a call to a data function reads; None for other calls (including unknown names).
    Symbols are joined with `|` in the order written; the timeframe is the first timeframe argument."""
    spec = FUNCTIONS.get(call.name)
    if spec is None or not spec.reads_data:
        return None
    symbols = [argument.name for argument in call.arguments if isinstance(argument, SymbolRef)]
    timeframes = [argument.text for argument in call.arguments if isinstance(argument, TimeframeRef)]
    return Requirement(call.name, "|".join(symbols), timeframes[0] if timeframes else None)


_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


def whole_number(expression: Expression) -> int | None:
    """The value of a number literal written as a whole number (`20`, `-3`; not `2.0`), else None."""
    if isinstance(expression, NumberLiteral) and _WHOLE_NUMBER.fullmatch(expression.text):
        return int(expression.text)
    return None


def period_of(call: Call) -> int | None:
    """The bar count a call writes (correlation's N, donchian's period), if it writes a whole one."""
    spec = FUNCTIONS.get(call.name)
    if spec is None:
        return None
    for parameter, argument in zip(spec.parameters + spec.optional, call.arguments):
        if parameter is Parameter.BAR_COUNT:
            return whole_number(argument)
    return None


"""Evaluating a checked rule, one call per evaluation instant.

Semantics:
- Leaves (data-function calls) take the value the caller supplies for their requirement; None, NaN
  or an infinity means *undefined* (the series has no value yet).
- Arithmetic is in float; an undefined operand, a division by zero or a non-finite result gives
  undefined (never an exception).
- Comparisons and `and`/`or`/`not` use three-valued (Kleene) logic: a comparison with an undefined
  operand is *unknown*; `false and unknown` is false, `true or unknown` is true, `not unknown` is
  unknown, and every other combination with unknown is unknown.
- `crosses_above(a, b)` is true when, at the previous evaluation, a <= b, and now a > b (for
  `crosses_below`: a >= b, then a < b). It is false, never unknown, on the first evaluation and
  when a or b is undefined now or was undefined at the previous evaluation. Each call site keeps
  its own previous values, so `evaluate` must be called once per instant, in time order.
- Every operand is evaluated at every call (no short-circuit), so a crossing's memory is updated
  even when the rest of the rule has already decided the outcome.
- The rule fires only when its value is definitely true.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

from processors.rules.checker import check
from processors.rules.requirements import Requirement, Rule, requirement_of
from processors.rules.tree import (
    Arithmetic,
    BooleanLiteral,
    Call,
    Comparison,
    Expression,
    Logical,
    Negate,
    Not,
    NumberLiteral,
    render,
)

Number: TypeAlias = float | None  # None: undefined
Truth: TypeAlias = bool | None  # None: unknown
Leaves: TypeAlias = Mapping[str, Number]  # leaf text -> value at this evaluation
NumberFunction: TypeAlias = Callable[[Leaves], Number]
TruthFunction: TypeAlias = Callable[[Leaves], Truth]
InputValue: TypeAlias = float | int | Decimal | None

_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class RuleResult:
    """One evaluation: `fired` when the rule is definitely true; `truth` is the three-valued result
    (None: unknown); `values` maps each leaf's canonical text (e.g. "swing_high(SPY, 15m)") to the
    float used (None: undefined), in source order; `undefined` lists the undefined leaves."""

    fired: bool
    truth: bool | None
    values: dict[str, float | None]
    undefined: tuple[str, ...]


class Crossing:
    """The memory of one `crosses_above`/`crosses_below` call site: the previous (a, b)."""

    __slots__ = ("above", "previous")

    def __init__(self, above: bool) -> None:
        self.above = above
        self.previous: tuple[Number, Number] | None = None

    def update(self, a: Number, b: Number) -> bool:
        """Whether a crossed b between the previous call and this one; remembers (a, b)."""
        previous, self.previous = self.previous, (a, b)
        if previous is None:
            return False
        before_a, before_b = previous
        if a is None or b is None or before_a is None or before_b is None:
            return False
        if self.above:
            return before_a <= before_b and a > b
        return before_a >= before_b and a < b


class RuleEvaluator:
    """Incremental evaluation of one rule (see the module docstring for the semantics)."""

    def __init__(self, rule: Rule) -> None:
        """Raises RuleError if `rule` does not type-check (symbols are not checked here)."""
        check(rule)
        self.rule = rule
        self._leaves: dict[str, Requirement] = {}
        self._crossings: list[Crossing] = []
        self._root = self._truth(rule.expression)

    def evaluate(self, values: Mapping[tuple[str, str, str | None], InputValue]) -> RuleResult:
        """Evaluate at one instant. `values` maps every requirement of the rule (a `Requirement` or
        the plain tuple `(kind, symbol, timeframe)`) to its current value: a float, int or Decimal,
        or None while undefined. A missing requirement raises KeyError."""
        leaves = {text: _read(values, requirement) for text, requirement in self._leaves.items()}
        truth = self._root(leaves)
        undefined = tuple(text for text, value in leaves.items() if value is None)
        return RuleResult(fired=truth is True, truth=truth, values=leaves, undefined=undefined)

    def reset(self) -> None:
        """Forget every crossing's previous values: the next evaluation is a first one."""
        for crossing in self._crossings:
            crossing.previous = None

    def to_state(self) -> dict[str, Any]:
        """The crossings' memory, as plain data (for a state table)."""
        return {"crossings": [None if c.previous is None else list(c.previous) for c in self._crossings]}

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Restore what `to_state` returned for the same rule."""
        saved = state["crossings"]
        if len(saved) != len(self._crossings):
            raise ValueError(f"state has {len(saved)} crossings, the rule has {len(self._crossings)}")
        for crossing, previous in zip(self._crossings, saved):
            crossing.previous = None if previous is None else (previous[0], previous[1])

    # -- compilation of the tree into closures, once ------------------------------------------

    def _number(self, node: Expression) -> NumberFunction:
        match node:
            case NumberLiteral(value=value):
                return lambda leaves: value
            case Call():
                return self._leaf(node)
            case Negate(operand=operand):
                inner = self._number(operand)
                return lambda leaves: _negate(inner(leaves))
            case Arithmetic(operator=op, left=left, right=right):
                return _arithmetic(op, self._number(left), self._number(right))
        raise TypeError(f"not a number expression (was the rule checked?): {node!r}")

    def _truth(self, node: Expression) -> TruthFunction:
        match node:
            case BooleanLiteral(value=value):
                return lambda leaves: value
            case Call(name="crosses_above" | "crosses_below" as name, arguments=(a, b)):
                return self._crossing(name == "crosses_above", self._number(a), self._number(b))
            case Not(operand=operand):
                inner = self._truth(operand)
                return lambda leaves: _kleene_not(inner(leaves))
            case Comparison(operator=op, left=left, right=right):
                return _comparison(op, self._number(left), self._number(right))
            case Logical(operator=op, left=left, right=right):
                return _logical(op, self._truth(left), self._truth(right))
        raise TypeError(f"not a true/false expression (was the rule checked?): {node!r}")

    def _leaf(self, node: Call) -> NumberFunction:
        requirement = requirement_of(node)
        assert requirement is not None  # a checked number-valued call reads data
        text = render(node)
        self._leaves[text] = requirement
        return lambda leaves: leaves[text]

    def _crossing(self, above: bool, a: NumberFunction, b: NumberFunction) -> TruthFunction:
        crossing = Crossing(above)
        self._crossings.append(crossing)
        return lambda leaves: crossing.update(a(leaves), b(leaves))


def _read(values: Mapping[tuple[str, str, str | None], InputValue], requirement: Requirement) -> Number:
    """The supplied value of `requirement` as a finite float, or None when undefined."""
    try:
        value = values[requirement]
    except KeyError:
        raise KeyError(
            f"no value for {tuple(requirement)!r}: supply every requirement of the rule, None while undefined"
        ) from None
    if value is None:
        return None
    if isinstance(value, Decimal):
        return None if not value.is_finite() else _finite(float(value))
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"the value for {tuple(requirement)!r} must be a number or None, not {value!r}")
    return _finite(float(value))


def _finite(value: float) -> Number:
    return value if math.isfinite(value) else None


def _negate(value: Number) -> Number:
    return None if value is None else -value


def _arithmetic(op: str, left: NumberFunction, right: NumberFunction) -> NumberFunction:
    """`left op right`: undefined if either side is, if dividing by zero, or if not finite."""

    def apply(leaves: Leaves) -> Number:
        a, b = left(leaves), right(leaves)
        if a is None or b is None:
            return None
        if op == "+":
            return _finite(a + b)
        if op == "-":
            return _finite(a - b)
        if op == "*":
            return _finite(a * b)
        return None if b == 0.0 else _finite(a / b)

    return apply


def _comparison(op: str, left: NumberFunction, right: NumberFunction) -> TruthFunction:
    """`left op right`, unknown when either side is undefined."""
    compare = _COMPARE[op]

    def apply(leaves: Leaves) -> Truth:
        a, b = left(leaves), right(leaves)
        return None if a is None or b is None else compare(a, b)

    return apply


def _logical(op: str, left: TruthFunction, right: TruthFunction) -> TruthFunction:
    """Kleene `and`/`or`; both sides are always evaluated (crossings must see every instant)."""
    combine = _kleene_and if op == "and" else _kleene_or
    return lambda leaves: combine(left(leaves), right(leaves))


def _kleene_and(a: Truth, b: Truth) -> Truth:
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def _kleene_or(a: Truth, b: Truth) -> Truth:
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def _kleene_not(a: Truth) -> Truth:
    return None if a is None else not a

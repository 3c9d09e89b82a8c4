"""Evaluating a checked rule over whole series at once: the batch twin of `evaluator.RuleEvaluator`.

    result = evaluate_series(rule, {requirement: column for requirement in rule.requirements})
    for index in np.flatnonzero(result.fired):          # explain each instant the rule fired
        print(index, result.values_at(index))

Each column is a float array with one entry per evaluation instant, in time order (NaN, or an
infinity, while the series is undefined). Entry i of the result is what `RuleEvaluator(rule)`
returns at its i-th call when given entry i of every column, with the same semantics (see the
`evaluator` docstring): undefined leaves, float arithmetic that is undefined on an undefined
operand, a zero divisor or a non-finite result, Kleene `and`/`or`/`not`, and crossings that
compare each instant with the one before (false at the first instant and whenever either operand
is undefined at either instant). Every operation is one numpy operation over the whole series
(IEEE float64 `+ - * /`, exactly as Python's float), so the results are identical, not close.

Undefined numbers are NaN; a truth value is a pair of masks (true, false), neither being unknown.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np

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
    iter_calls,
    render,
)

Series: TypeAlias = np.ndarray  # float64, NaN where undefined
TruthSeries: TypeAlias = tuple[np.ndarray, np.ndarray]  # (true, false) boolean masks; neither: unknown

TRUE, FALSE, UNKNOWN = 1, 0, -1  # the codes of `SeriesResult.truth`

_COMPARE: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """A rule evaluated at every instant: `fired` (bool) where the rule is definitely true; `truth`
    (int8) the three-valued result, TRUE (1), FALSE (0) or UNKNOWN (-1); `leaf_values` maps each
    leaf's canonical text (e.g. "swing_high(SPY, 15m)"), in source order, to the float values used
    (NaN: undefined). The arrays are read-only."""

    fired: np.ndarray
    truth: np.ndarray
    leaf_values: dict[str, np.ndarray]

    def values_at(self, index: int) -> dict[str, float | None]:
        """The leaf values at instant `index`, as `RuleResult.values` gives them (None: undefined)."""
        values = {text: float(series[index]) for text, series in self.leaf_values.items()}
        return {text: None if math.isnan(value) else value for text, value in values.items()}


def evaluate_series(
    rule: Rule,
    columns: Mapping[tuple[str, str, str | None], np.ndarray],
    *,
    length: int | None = None,
) -> SeriesResult:
    """Evaluate `rule` at every instant of `columns`, which maps every requirement of the rule (a
    `Requirement` or the plain tuple `(kind, symbol, timeframe)`) to a one-dimensional array of
    numbers, all of the same length. `length` is the number of instants; it is needed only when
    the rule reads no data, and otherwise must agree with the columns if given.

    Raises RuleError if the rule does not type-check, KeyError for a missing requirement,
    ValueError for columns of other shapes or lengths, TypeError for a column that is not of a float
    or integer dtype (booleans, None and Decimal are refused: write NaN for undefined)."""
    check(rule)
    leaves = _leaves(rule.expression)
    read = {requirement: _read(columns, requirement) for requirement in dict.fromkeys(leaves.values())}
    instants = _length(read, length)
    leaf_values = {text: read[requirement] for text, requirement in leaves.items()}
    is_true, is_false = _SeriesEvaluation(leaf_values, instants).truth(rule.expression)
    truth = np.full(instants, UNKNOWN, dtype=np.int8)
    truth[is_true] = TRUE
    truth[is_false] = FALSE
    fired = truth == TRUE
    for array in (fired, truth, *read.values()):
        array.flags.writeable = False
    return SeriesResult(fired=fired, truth=truth, leaf_values=leaf_values)


def _leaves(expression: Expression) -> dict[str, Requirement]:
    """Each data leaf's canonical text and requirement, in the order `RuleEvaluator` lists them."""
    leaves: dict[str, Requirement] = {}
    for call in iter_calls(expression):
        requirement = requirement_of(call)
        if requirement is not None:
            leaves.setdefault(render(call), requirement)
    return leaves


def _read(columns: Mapping[tuple[str, str, str | None], np.ndarray], requirement: Requirement) -> Series:
    """The column of `requirement` as a new float64 array, NaN where undefined (NaN or infinite)."""
    try:
        column = columns[requirement]
    except KeyError:
        raise KeyError(
            f"no column for {tuple(requirement)!r}: supply every requirement of the rule, NaN while undefined"
        ) from None
    array = np.asarray(column)
    if array.dtype.kind not in "fiu":
        raise TypeError(
            f"the column for {tuple(requirement)!r} must hold numbers (NaN while undefined), not {array.dtype}"
        )
    if array.ndim != 1:
        raise ValueError(f"the column for {tuple(requirement)!r} must be one-dimensional, not of shape {array.shape}")
    values = array.astype(np.float64)  # always a copy: the caller's array is never aliased
    values[~np.isfinite(values)] = np.nan
    return values


def _length(read: Mapping[Requirement, Series], length: int | None) -> int:
    """The number of instants, which every column must have."""
    lengths = {requirement: len(values) for requirement, values in read.items()}
    if length is not None:
        if isinstance(length, bool) or not hasattr(length, "__index__") or operator.index(length) < 0:
            raise ValueError(f"length must be a whole number >= 0, got {length!r}")
        expected = operator.index(length)
    elif lengths:
        expected = next(iter(lengths.values()))
    else:
        raise ValueError("the rule reads no data: give the number of instants as length=")
    for requirement, count in lengths.items():
        if count != expected:
            raise ValueError(
                f"the column for {tuple(requirement)!r} has {count} values, expected {expected} (one per instant)"
            )
    return expected


class _SeriesEvaluation:
    """One evaluation of a tree over the whole series, node by node (the tree is at most
    `parser.MAX_DEPTH` deep, so the recursion is bounded)."""

    def __init__(self, leaf_values: Mapping[str, Series], instants: int) -> None:
        self.leaf_values = leaf_values
        self.instants = instants

    def number(self, node: Expression) -> Series:
        match node:
            case NumberLiteral(value=value):
                return np.full(self.instants, value, dtype=np.float64)
            case Call():
                return self.leaf_values[render(node)]
            case Negate(operand=operand):
                return np.negative(self.number(operand))
            case Arithmetic(operator=op, left=left, right=right):
                return _arithmetic(op, self.number(left), self.number(right))
        raise TypeError(f"not a number expression (was the rule checked?): {node!r}")

    def truth(self, node: Expression) -> TruthSeries:
        match node:
            case BooleanLiteral(value=value):
                return np.full(self.instants, value), np.full(self.instants, not value)
            case Call(name="crosses_above" | "crosses_below" as name, arguments=(a, b)):
                crossed = _crossed(name == "crosses_above", self.number(a), self.number(b))
                return crossed, ~crossed
            case Not(operand=operand):
                is_true, is_false = self.truth(operand)
                return is_false, is_true
            case Comparison(operator=op, left=left, right=right):
                return _comparison(op, self.number(left), self.number(right))
            case Logical(operator=op, left=left, right=right):
                (left_true, left_false), (right_true, right_false) = self.truth(left), self.truth(right)
                if op == "and":
                    return left_true & right_true, left_false | right_false
                return left_true | right_true, left_false & right_false
        raise TypeError(f"not a true/false expression (was the rule checked?): {node!r}")


def _arithmetic(op: str, left: Series, right: Series) -> Series:
    """`left op right`: NaN where either side is, where dividing by zero, or where not finite."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        if op == "+":
            result = left + right
        elif op == "-":
            result = left - right
        elif op == "*":
            result = left * right
        else:
            result = np.divide(left, right, out=np.full(len(left), np.nan), where=right != 0.0)
    result[np.isinf(result)] = np.nan
    return result


def _comparison(op: str, left: Series, right: Series) -> TruthSeries:
    """`left op right`, unknown where either side is undefined."""
    defined = ~(np.isnan(left) | np.isnan(right))
    with np.errstate(invalid="ignore"):
        holds = _COMPARE[op](left, right)
    return holds & defined, ~holds & defined


def _crossed(above: bool, a: Series, b: Series) -> np.ndarray:
    """Where a crossed above (or below) b since the previous instant. An ordered comparison with
    NaN is false, so an operand undefined now or before gives false, as the first instant does."""
    crossed = np.zeros(len(a), dtype=bool)
    before_a, before_b, now_a, now_b = a[:-1], b[:-1], a[1:], b[1:]
    with np.errstate(invalid="ignore"):
        if above:
            crossed[1:] = (before_a <= before_b) & (now_a > now_b)
        else:
            crossed[1:] = (before_a >= before_b) & (now_a < now_b)
    return crossed

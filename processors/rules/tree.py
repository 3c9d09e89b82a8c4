"""The syntax tree of a rule: its immutable node types, walking it, and rendering it as text.

Every node records `position` (offset of its first character in the rule text) and `end` (offset
just after its last); a parenthesised expression's span includes its parentheses. The tree is built
by `parser.parse` and read by `checker`, `evaluator` and `vectorized`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeAlias


@dataclass(frozen=True, slots=True)
class NumberLiteral:
    """A number as written (`text`, with a leading `-` when negated) and its value."""

    value: float
    text: str
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class BooleanLiteral:
    """`true` or `false`."""

    value: bool
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class SymbolRef:
    """A bare symbol such as `SPY`: valid only as a function argument."""

    name: str
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class TimeframeRef:
    """A timeframe as written (`15m`; possibly invalid, such as `15x`): valid only as an argument."""

    text: str
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class Call:
    """`name(arguments...)`; `end - 1` is the offset of the closing parenthesis."""

    name: str
    arguments: tuple[Expression, ...]
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class Negate:
    """Unary minus of a non-literal operand."""

    operand: Expression
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class Not:
    """Boolean `not`."""

    operand: Expression
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class Arithmetic:
    """`left operator right` with operator one of `+ - * /`."""

    operator: str
    left: Expression
    right: Expression
    operator_position: int
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class Comparison:
    """`left operator right` with operator one of `< <= > >= == !=`."""

    operator: str
    left: Expression
    right: Expression
    operator_position: int
    position: int
    end: int


@dataclass(frozen=True, slots=True)
class Logical:
    """`left and right` or `left or right`."""

    operator: str
    left: Expression
    right: Expression
    operator_position: int
    position: int
    end: int


Expression: TypeAlias = (
    NumberLiteral | BooleanLiteral | SymbolRef | TimeframeRef | Call | Negate | Not | Arithmetic | Comparison | Logical
)


def children(expression: Expression) -> tuple[Expression, ...]:
    """The direct sub-expressions of a node, left to right."""
    match expression:
        case Call(arguments=arguments):
            return arguments
        case Negate(operand=operand) | Not(operand=operand):
            return (operand,)
        case Arithmetic(left=left, right=right) | Comparison(left=left, right=right) | Logical(
            left=left, right=right
        ):
            return (left, right)
    return ()


def iter_nodes(expression: Expression) -> Iterator[Expression]:
    """Every node of the tree, parents before children, left to right (source order)."""
    yield expression
    for child in children(expression):
        yield from iter_nodes(child)


def iter_calls(expression: Expression) -> Iterator[Call]:
    """Every call in the tree, in source order."""
    return (node for node in iter_nodes(expression) if isinstance(node, Call))


def render(expression: Expression) -> str:
    """Canonical text of an expression: every operation parenthesised, calls as `name(a, b)`.
    A call's rendering is its leaf name in evaluation results, e.g. `swing_high(SPY, 15m)`."""
    match expression:
        case NumberLiteral(text=text) | TimeframeRef(text=text):
            return text
        case BooleanLiteral(value=value):
            return "true" if value else "false"
        case SymbolRef(name=name):
            return name
        case Call(name=name, arguments=arguments):
            return f"{name}({', '.join(render(argument) for argument in arguments)})"
        case Negate(operand=operand):
            return f"(-{render(operand)})"
        case Not(operand=operand):
            return f"(not {render(operand)})"
        case Arithmetic(operator=op, left=left, right=right) | Comparison(
            operator=op, left=left, right=right
        ) | Logical(operator=op, left=left, right=right):
            return f"({render(left)} {op} {render(right)})"
    raise TypeError(f"not an expression: {expression!r}")


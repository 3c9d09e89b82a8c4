"""Type-checking a parsed rule, so that evaluation cannot fail on the rule's shape.

A rule is accepted when:
- every call names a built-in function (see `functions.FUNCTIONS`) with a valid number of arguments;
- SYMBOL arguments are bare symbols (and, when `symbols` is given, configured ones), TIMEFRAME
  arguments are `<whole number >= 1><m|h|d>` without leading zeros (`1m`, `15m`, `1h`, `1d`), bar
  counts are whole numbers written literally and at least the function's minimum (2 for
  correlation), and correlation names two different symbols;
- arithmetic, unary minus and comparisons take numbers; `and`, `or`, `not` take true/false values;
- no divisor is a constant expression equal to zero (`x / 0`, `x / (1 - 1)`);
- the same requirement is not read with two different bar counts (values are keyed without them);
- the whole rule is true/false.
Parts are checked left to right and the first problem raises a RuleTypeError (a RuleError) that
points at the offending part: an argument, an operand, a timeframe, or a call's name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from processors.rules.errors import RuleTypeError
from processors.rules.functions import FUNCTIONS, FunctionSpec, Parameter, ValueType
from processors.rules.parser import parse
from processors.rules.requirements import Requirement, Rule, period_of, requirement_of, whole_number
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
    SymbolRef,
    TimeframeRef,
    iter_calls,
)

_TIMEFRAME = re.compile(r"[1-9][0-9]*[mhd]")


def compile_rule(text: str, symbols: Collection[str] | None = None) -> Rule:
    """Parse and check `text`: the rule, ready for `RuleEvaluator`, or a RuleError."""
    rule = parse(text)
    check(rule, symbols=symbols)
    return rule


def check(rule: Rule, symbols: Collection[str] | None = None) -> None:
    """Raise RuleTypeError at the first problem in `rule` (see the module docstring); when
    `symbols` is given, every symbol the rule names must be one of them."""
    checker = _Checker(rule.text, None if symbols is None else frozenset(symbols))
    result = checker.infer(rule.expression)
    if result is not ValueType.BOOLEAN:
        raise checker.error(
            f"a rule must be true/false (a comparison, crosses_above/crosses_below, or such conditions joined "
            f"with and/or/not), but this is {result.value}",
            rule.expression.position,
        )
    _check_periods(rule)


def _check_periods(rule: Rule) -> None:
    """Every call of one requirement writes the same bar count (or none)."""
    seen: dict[Requirement, tuple[int | None, Call]] = {}
    for call in iter_calls(rule.expression):
        requirement = requirement_of(call)
        if requirement is None:
            continue
        count = period_of(call)
        first = seen.setdefault(requirement, (count, call))
        if first[0] != count:
            raise RuleTypeError(
                f"{call.name} for {requirement.symbol} {requirement.timeframe} is used with bar counts "
                f"{_count_text(first[0])} and {_count_text(count)}; a rule may use only one, because values "
                f"are supplied per (function, symbol, timeframe)",
                call.position,
                rule.text,
            )


def _count_text(count: int | None) -> str:
    return "the default" if count is None else str(count)


def _count_of_arguments(spec: FunctionSpec) -> str:
    """E.g. "1 argument", "2 arguments", "2 or 3 arguments"."""
    least = len(spec.parameters)
    most = least + len(spec.optional)
    counts = str(least) if least == most else f"{least} or {most}" if most == least + 1 else f"{least} to {most}"
    return f"{counts} argument{'' if most == 1 else 's'}"


def _closest(name: str, candidates: Collection[str]) -> list[str]:
    """Up to three candidates that look like `name` (case-insensitively), best first."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    return [by_lower[match] for match in matches]


def _describe(node: Expression, value_type: ValueType) -> str:
    """How to name an ill-typed operand in a message, e.g. "'SPY' is a symbol"."""
    if isinstance(node, SymbolRef):
        return f"'{node.name}' is a symbol"
    if isinstance(node, TimeframeRef):
        return f"'{node.text}' is a timeframe"
    return f"this is {value_type.value}"


class _Checker:
    """Infers the type of each node, raising at the first ill-typed one."""

    def __init__(self, text: str, symbols: frozenset[str] | None) -> None:
        self.text = text
        self.symbols = symbols

    def error(self, message: str, position: int) -> RuleTypeError:
        return RuleTypeError(message, position, self.text)

    def infer(self, node: Expression) -> ValueType:
        """The type of `node` once its parts are checked."""
        match node:
            case NumberLiteral():
                return ValueType.NUMBER
            case BooleanLiteral():
                return ValueType.BOOLEAN
            case SymbolRef():
                return ValueType.SYMBOL
            case TimeframeRef():
                return ValueType.TIMEFRAME
            case Call():
                return self.call(node)
            case Negate(operand=operand):
                self.expect(operand, ValueType.NUMBER, "unary '-' needs a number")
                return ValueType.NUMBER
            case Not(operand=operand):
                self.expect(operand, ValueType.BOOLEAN, "'not' needs true/false")
                return ValueType.BOOLEAN
            case Arithmetic():
                return self.arithmetic(node)
            case Comparison(operator=operator, left=left, right=right):
                self.expect(left, ValueType.NUMBER, f"the comparison '{operator}' needs a number on both sides")
                self.expect(right, ValueType.NUMBER, f"the comparison '{operator}' needs a number on both sides")
                return ValueType.BOOLEAN
            case Logical(operator=operator, left=left, right=right):
                self.expect(left, ValueType.BOOLEAN, f"'{operator}' needs true/false on both sides")
                self.expect(right, ValueType.BOOLEAN, f"'{operator}' needs true/false on both sides")
                return ValueType.BOOLEAN
        raise TypeError(f"not an expression: {node!r}")

    def expect(self, node: Expression, expected: ValueType, need: str) -> None:
        """Check `node` and raise at it, saying `need`, unless its type is `expected`."""
        actual = self.infer(node)
        if actual is expected:
            return
        hint = ""
        if isinstance(node, SymbolRef) and expected is ValueType.NUMBER:
            hint = f"; read a number from it, e.g. price({node.name})"
        raise self.error(f"{need}, but {_describe(node, actual)}{hint}", node.position)

    def arithmetic(self, node: Arithmetic) -> ValueType:
        self.expect(node.left, ValueType.NUMBER, f"'{node.operator}' needs a number on both sides")
        self.expect(node.right, ValueType.NUMBER, f"'{node.operator}' needs a number on both sides")
        if node.operator == "/" and _constant_value(node.right) == 0.0:
            raise self.error("division by zero: the divisor is always 0", node.right.position)
        return ValueType.NUMBER

    def call(self, node: Call) -> ValueType:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise self.error(self.unknown_function_message(node.name), node.position)
        self.check_arity(node, spec)
        for index, (parameter, argument) in enumerate(zip(spec.parameters + spec.optional, node.arguments)):
            self.argument(node, index, parameter, argument, spec)
        if node.name == "correlation":
            self.distinct_symbols(node)
        return spec.result

    def unknown_function_message(self, name: str) -> str:
        suggestions = _closest(name, FUNCTIONS)
        if suggestions:
            return f"unknown function '{name}'; did you mean {', '.join(suggestions)}?"
        return f"unknown function '{name}'; the functions are {', '.join(sorted(FUNCTIONS))}"

    def check_arity(self, node: Call, spec: FunctionSpec) -> None:
        """Too many arguments point at the first extra one, too few at the closing parenthesis."""
        count = len(node.arguments)
        if spec.accepts(count):
            return
        maximum = len(spec.parameters) + len(spec.optional)
        position = node.arguments[maximum].position if count > maximum else node.end - 1
        raise self.error(f"{spec.name} takes {_count_of_arguments(spec)} ({spec.signature}), but was given {count}",
                         position)

    def argument(self, call: Call, index: int, parameter: Parameter, argument: Expression, spec: FunctionSpec) -> None:
        """Check argument number `index` (0-based) of `call` against its parameter."""
        where = f"argument {index + 1} of {call.name}"
        match parameter:
            case Parameter.SYMBOL:
                self.symbol_argument(argument, where)
            case Parameter.TIMEFRAME:
                self.timeframe_argument(argument, where)
            case Parameter.NUMBER:
                self.expect(argument, ValueType.NUMBER, f"{where} needs a number")
            case Parameter.BAR_COUNT:
                self.bar_count_argument(argument, where, spec.minimum_bar_count)

    def symbol_argument(self, argument: Expression, where: str) -> None:
        if not isinstance(argument, SymbolRef):
            actual = self.infer(argument)
            raise self.error(f"{where} must be a symbol such as SPY, but {_describe(argument, actual)}",
                             argument.position)
        if self.symbols is not None and argument.name not in self.symbols:
            raise self.error(self.unknown_symbol_message(argument.name, self.symbols), argument.position)

    @staticmethod
    def unknown_symbol_message(name: str, symbols: frozenset[str]) -> str:
        suggestions = _closest(name, symbols)
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        configured = ", ".join(sorted(symbols)) or "none"
        return f"unknown symbol '{name}' (configured symbols: {configured}){hint}"

    def timeframe_argument(self, argument: Expression, where: str) -> None:
        if not isinstance(argument, TimeframeRef):
            actual = self.infer(argument)
            raise self.error(f"{where} must be a timeframe such as 15m, but {_describe(argument, actual)}",
                             argument.position)
        if not _TIMEFRAME.fullmatch(argument.text):
            raise self.error(
                f"invalid timeframe '{argument.text}': write a whole number of minutes, hours or days "
                "from 1 up, such as 1m, 15m, 1h or 1d",
                argument.position,
            )

    def bar_count_argument(self, argument: Expression, where: str, minimum: int) -> None:
        count = whole_number(argument)
        if count is None:
            raise self.error(f"{where} is a bar count: write a whole number such as 20", argument.position)
        if count < minimum:
            raise self.error(f"{where} is a bar count and must be at least {minimum}, not {count}",
                             argument.position)

    def distinct_symbols(self, node: Call) -> None:
        first, second = node.arguments[0], node.arguments[1]
        assert isinstance(first, SymbolRef) and isinstance(second, SymbolRef)  # checked as arguments
        if first.name == second.name:
            raise self.error(f"correlation needs two different symbols, not {first.name} twice", second.position)


def _constant_value(node: Expression) -> float | None:
    """The value of an expression made of number literals only; None if it reads data."""
    match node:
        case NumberLiteral(value=value):
            return value
        case Negate(operand=operand):
            inner = _constant_value(operand)
            return None if inner is None else -inner
        case Arithmetic(operator=operator, left=left, right=right):
            return _fold(operator, _constant_value(left), _constant_value(right))
    return None


def _fold(operator: str, left: float | None, right: float | None) -> float | None:
    if left is None or right is None:
        return None
    if operator == "+":
        return left + right
    if operator == "-":
        return left - right
    if operator == "*":
        return left * right
    return None if right == 0.0 else left / right

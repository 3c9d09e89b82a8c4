"""Parsing a rule text into an immutable syntax tree, and the data a rule needs.

Grammar (lowest precedence first; `not` binds looser than a comparison, as in Python):

    rule        := or_expr END
    or_expr     := and_expr ("or" and_expr)*
    and_expr    := not_expr ("and" not_expr)*
    not_expr    := "not" not_expr | comparison
    comparison  := additive [("<" | "<=" | ">" | ">=" | "==" | "!=") additive]   -- not chainable
    additive    := term (("+" | "-") term)*
    term        := unary (("*" | "/") unary)*
    unary       := "-" unary | primary
    primary     := NUMBER | TIMEFRAME | "true" | "false" | SYMBOL
                 | NAME "(" [or_expr ("," or_expr)*] ")" | "(" or_expr ")"

Binary operators associate to the left. A bare name must be a symbol, written in capitals (`SPY`,
`BRK.B`, `ESZ6`). `-` directly before a number is folded into a negative number literal. A rule
may nest at most MAX_NESTING parentheses, calls, `not`s and minus signs inside one another, and
its tree may be at most MAX_DEPTH levels deep, so that no stage can exhaust Python's recursion limit.
Every node records `position` (offset of its first character) and `end` (offset just after its
last); a parenthesised expression's span includes its parentheses. Types are not checked here
(see `checker.check`).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple, TypeAlias

from processors.rules.errors import RuleSyntaxError
from processors.rules.functions import FUNCTIONS, Parameter
from processors.rules.lexer import KEYWORDS, Token, TokenKind, tokenize

MAX_NESTING = 40  # parentheses, calls, `not`s and minus signs inside one another
MAX_DEPTH = 100  # levels of the syntax tree


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


def parse(text: str) -> Rule:
    """The rule written in `text`; raises RuleSyntaxError (a RuleError) when it does not parse.
    The rule is not type-checked: use `compile_rule`, or `check` on the result."""
    expression = _Parser(text).parse_rule()
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


_COMPARISONS = frozenset(
    {
        TokenKind.LESS,
        TokenKind.LESS_EQUAL,
        TokenKind.GREATER,
        TokenKind.GREATER_EQUAL,
        TokenKind.EQUAL,
        TokenKind.NOT_EQUAL,
    }
)
_SYMBOL = re.compile(r"[A-Z0-9_.]*[A-Z][A-Z0-9_.]*")


class _Parser:
    """Recursive descent over the token list, one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    @contextmanager
    def nested(self, opening: Token) -> Iterator[None]:
        """Count one level of nesting opened by `opening` ('(', a call's name, 'not' or '-'),
        refusing more than MAX_NESTING levels at the opening token."""
        if self.nesting == MAX_NESTING:
            raise self.error(f"the rule nests more than {MAX_NESTING} levels of parentheses, calls, 'not' "
                             "or '-' inside one another: simplify it", opening.position)
        self.nesting += 1
        try:
            yield
        finally:
            self.nesting -= 1

    # -- token access -------------------------------------------------------------------------

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def at(self, *kinds: TokenKind) -> bool:
        """Whether the current token is of one of `kinds`."""
        return self.tokens[self.index].kind in kinds

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def error(self, message: str, position: int) -> RuleSyntaxError:
        return RuleSyntaxError(message, position, self.text)

    def unexpected(self, expected: str) -> RuleSyntaxError:
        """An error at the current token: `expected <expected>, found <token>`."""
        token = self.current
        found = "the end of the rule" if token.kind is TokenKind.END else f"'{token.text}'"
        hint = ""
        if token.kind is TokenKind.NAME and token.text.lower() in KEYWORDS:
            hint = f"; keywords are lower case: write '{token.text.lower()}'"
        return self.error(f"expected {expected}, found {found}{hint}", token.position)

    # -- grammar ------------------------------------------------------------------------------

    def parse_rule(self) -> Expression:
        if self.at(TokenKind.END):
            raise self.error("the rule is empty: write a condition such as price(SPY) > 400", self.current.position)
        expression = self.or_expression()
        if not self.at(TokenKind.END):
            raise self.unexpected("an operator or the end of the rule")
        self.check_depth(expression)
        return expression

    def check_depth(self, expression: Expression) -> None:
        """Refuse a tree deeper than MAX_DEPTH (long operator chains), pointing at the first node too deep."""
        stack = [(expression, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise self.error(f"the rule has more than {MAX_DEPTH} operations inside one another: "
                                 "split it into simpler rules", node.position)
            stack.extend((child, depth + 1) for child in children(node))

    def or_expression(self) -> Expression:
        left = self.and_expression()
        while self.at(TokenKind.OR):
            operator = self.advance()
            right = self.and_expression()
            left = Logical("or", left, right, operator.position, left.position, right.end)
        return left

    def and_expression(self) -> Expression:
        left = self.not_expression()
        while self.at(TokenKind.AND):
            operator = self.advance()
            right = self.not_expression()
            left = Logical("and", left, right, operator.position, left.position, right.end)
        return left

    def not_expression(self) -> Expression:
        if self.at(TokenKind.NOT):
            keyword = self.advance()
            with self.nested(keyword):
                operand = self.not_expression()
            return Not(operand, keyword.position, operand.end)
        return self.comparison()

    def comparison(self) -> Expression:
        left = self.additive()
        if not self.at(*_COMPARISONS):
            return left
        operator = self.advance()
        right = self.additive()
        if self.at(*_COMPARISONS):
            raise self.error(
                "comparisons cannot be chained: write 'a < b and b < c' instead of 'a < b < c'",
                self.current.position,
            )
        return Comparison(operator.text, left, right, operator.position, left.position, right.end)

    def additive(self) -> Expression:
        left = self.term()
        while self.at(TokenKind.PLUS, TokenKind.MINUS):
            operator = self.advance()
            right = self.term()
            left = Arithmetic(operator.text, left, right, operator.position, left.position, right.end)
        return left

    def term(self) -> Expression:
        left = self.unary()
        while self.at(TokenKind.STAR, TokenKind.SLASH):
            operator = self.advance()
            right = self.unary()
            left = Arithmetic(operator.text, left, right, operator.position, left.position, right.end)
        return left

    def unary(self) -> Expression:
        if not self.at(TokenKind.MINUS):
            return self.primary()
        minus = self.advance()
        if self.at(TokenKind.NUMBER):
            number = self.number(self.advance())
            return NumberLiteral(-number.value, "-" + number.text, minus.position, number.end)
        with self.nested(minus):
            operand = self.unary()
        return Negate(operand, minus.position, operand.end)

    def primary(self) -> Expression:
        token = self.current
        match token.kind:
            case TokenKind.NUMBER:
                return self.number(self.advance())
            case TokenKind.TIMEFRAME:
                self.advance()
                return TimeframeRef(token.text, token.position, token.end)
            case TokenKind.TRUE | TokenKind.FALSE:
                self.advance()
                return BooleanLiteral(token.kind is TokenKind.TRUE, token.position, token.end)
            case TokenKind.LEFT_PAREN:
                return self.parenthesised()
            case TokenKind.NAME:
                return self.name()
        raise self.unexpected("a number, a function call, true, false or '('")

    def number(self, token: Token) -> NumberLiteral:
        value = float(token.text)
        if value == float("inf"):
            raise self.error(f"the number {token.text} is too large", token.position)
        return NumberLiteral(value, token.text, token.position, token.end)

    def parenthesised(self) -> Expression:
        opening = self.advance()
        with self.nested(opening):
            inner = self.or_expression()
        if not self.at(TokenKind.RIGHT_PAREN):
            raise self.unexpected(f"')' to close the '(' at position {opening.position}")
        closing = self.advance()
        return dataclasses.replace(inner, position=opening.position, end=closing.end)

    def name(self) -> Expression:
        token = self.advance()
        if self.at(TokenKind.LEFT_PAREN):
            return self.call(token)
        if _SYMBOL.fullmatch(token.text):
            return SymbolRef(token.text, token.position, token.end)
        if token.text in FUNCTIONS:
            spec = FUNCTIONS[token.text]
            raise self.error(f"{token.text} is a function: call it as {spec.signature}", token.position)
        raise self.error(
            f"unknown name '{token.text}': symbols are written in capitals (SPY), functions with arguments "
            "(price(SPY))",
            token.position,
        )

    def call(self, name: Token) -> Call:
        self.advance()  # "("
        arguments: list[Expression] = []
        with self.nested(name):
            if not self.at(TokenKind.RIGHT_PAREN):
                arguments.append(self.or_expression())
                while self.at(TokenKind.COMMA):
                    self.advance()
                    arguments.append(self.or_expression())
        if not self.at(TokenKind.RIGHT_PAREN):
            raise self.unexpected(f"',' or ')' in the arguments of {name.text}")
        closing = self.advance()
        return Call(name.text, tuple(arguments), name.position, closing.end)

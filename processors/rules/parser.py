"""Parsing a rule text into its syntax tree (the node types are in `tree`, the data read in `requirements`).

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

from processors.rules.cursor import MAX_NESTING as MAX_NESTING, TokenCursor
from processors.rules.functions import FUNCTIONS
from processors.rules.lexer import Token, TokenKind
from processors.rules.requirements import Rule, rule_of
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
    children,
)

MAX_DEPTH = 100  # levels of the syntax tree


def parse(text: str) -> Rule:
    """The rule written in `text`; raises RuleSyntaxError (a RuleError) when it does not parse.
    The rule is not type-checked: use `compile_rule`, or `check` on the result."""
    return rule_of(text, _Parser(text).parse_rule())


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


class _Parser(TokenCursor):
    """Recursive descent over the token list, one method per grammar rule."""

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

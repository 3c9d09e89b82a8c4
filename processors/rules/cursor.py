"""A cursor over a rule's tokens: reading and consuming them, counting nesting, and building syntax
errors that point at a position. The grammar in `parser` is written on top of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from processors.rules.errors import RuleSyntaxError
from processors.rules.lexer import KEYWORDS, Token, TokenKind, tokenize

MAX_NESTING = 40  # parentheses, calls, `not`s and minus signs inside one another


class TokenCursor:
    """The tokens of `text` and the index of the current one (the END token stays current once reached)."""

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

"""Splitting a rule text into tokens.

Tokens: numbers (`2`, `0.8`; a sign is the unary operator `-`, not part of the number), timeframes
(any digits directly followed by letters, `15m`, `1h`, and also `0m` or `15x`: whether a timeframe
is valid is decided by the checker), names (`price`, `SPY`, `BRK.B`, `r1`: letters, digits and
underscores, with dots allowed between parts), the keywords `and or not true false` (lower case),
the operators `+ - * / < <= > >= == !=`, parentheses and commas. Whitespace separates tokens. The
last token is always END, positioned at `len(text)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from processors.rules.errors import RuleSyntaxError


class TokenKind(Enum):
    """The kind of a token; the value is how the token is named in error messages."""

    NUMBER = "number"
    TIMEFRAME = "timeframe"
    NAME = "name"
    AND = "and"
    OR = "or"
    NOT = "not"
    TRUE = "true"
    FALSE = "false"
    LEFT_PAREN = "("
    RIGHT_PAREN = ")"
    COMMA = ","
    PLUS = "+"
    MINUS = "-"
    STAR = "*"
    SLASH = "/"
    LESS = "<"
    LESS_EQUAL = "<="
    GREATER = ">"
    GREATER_EQUAL = ">="
    EQUAL = "=="
    NOT_EQUAL = "!="
    END = "end of rule"


@dataclass(frozen=True, slots=True)
class Token:
    """One token: its kind, its exact text and the 0-based offset of its first character."""

    kind: TokenKind
    text: str
    position: int

    @property
    def end(self) -> int:
        """The offset just after the token's last character."""
        return self.position + len(self.text)


KEYWORDS: dict[str, TokenKind] = {
    "and": TokenKind.AND,
    "or": TokenKind.OR,
    "not": TokenKind.NOT,
    "true": TokenKind.TRUE,
    "false": TokenKind.FALSE,
}

# Longest first, so that `<=` wins over `<`.
_OPERATORS: tuple[tuple[str, TokenKind], ...] = (
    ("<=", TokenKind.LESS_EQUAL),
    (">=", TokenKind.GREATER_EQUAL),
    ("==", TokenKind.EQUAL),
    ("!=", TokenKind.NOT_EQUAL),
    ("<", TokenKind.LESS),
    (">", TokenKind.GREATER),
    ("+", TokenKind.PLUS),
    ("-", TokenKind.MINUS),
    ("*", TokenKind.STAR),
    ("/", TokenKind.SLASH),
    ("(", TokenKind.LEFT_PAREN),
    (")", TokenKind.RIGHT_PAREN),
    (",", TokenKind.COMMA),
)

# Characters that are not operators here but that authors type from other languages.
_MISTAKES: dict[str, str] = {
    "=": "'=' is not an operator: write '==' to compare",
    "!": "'!' is not an operator: write 'not' to negate, '!=' to compare",
    "&": "'&' is not an operator: write 'and'",
    "|": "'|' is not an operator: write 'or'",
}

_NUMBER_OR_TIMEFRAME = re.compile(r"[0-9]+(?:\.[0-9]+)?(?P<unit>[A-Za-z_][A-Za-z0-9_]*)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`, ending with END; raises RuleSyntaxError at the first character that
    cannot start a token."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        token = _read_token(text, position)
        tokens.append(token)
        position = token.end
    tokens.append(Token(TokenKind.END, "", len(text)))
    return tokens


def _read_token(text: str, position: int) -> Token:
    """The token starting at `position` (which is not whitespace)."""
    char = text[position]
    if char.isdigit() and char.isascii():
        return _read_number_or_timeframe(text, position)
    name = _NAME.match(text, position)
    if name is not None:
        word = name.group()
        return Token(KEYWORDS.get(word, TokenKind.NAME), word, position)
    for operator, kind in _OPERATORS:
        if text.startswith(operator, position):
            return Token(kind, operator, position)
    if char in _MISTAKES:
        raise RuleSyntaxError(_MISTAKES[char], position, text)
    raise RuleSyntaxError(f"unexpected character {char!r}", position, text)


def _read_number_or_timeframe(text: str, position: int) -> Token:
    """A number (`2`, `0.8`) or, when letters follow the digits directly, a timeframe (`15m`)."""
    match = _NUMBER_OR_TIMEFRAME.match(text, position)
    assert match is not None  # text[position] is an ASCII digit
    if match.group().isdigit() and text.startswith(".", match.end()):
        raise RuleSyntaxError("a decimal point must be followed by digits, as in 0.5", match.end(), text)
    kind = TokenKind.TIMEFRAME if match.group("unit") else TokenKind.NUMBER
    return Token(kind, match.group(), position)

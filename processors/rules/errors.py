"""The one exception the rule language raises for a rule text it cannot accept.

    RuleError                   the text cannot be used: fix it at `position` and submit it again
                                (a `schemas.errors.TradestreamError` and a ValueError)
    ├── RuleSyntaxError         lexing or parsing failed (an unexpected character or token)
    └── RuleTypeError           the rule parses but is ill-typed, names an unknown function or
                                symbol, or has an invalid argument (timeframe, bar count, divisor)

Retrying the same text fails the same way: these errors are about the text, never about data.
"""

from __future__ import annotations

from schemas.errors import TradestreamError


class RuleError(TradestreamError, ValueError):
    """A rule text that cannot be used. Show `str(error)` to the author and ask for a corrected text.

    `message` says what is wrong and what to write instead, `position` is the 0-based character
    offset in `text` where the problem is (`len(text)` when the text ended too early). `str()` is
    the message, " at position <n>", a newline, the rule text, a newline and a caret under the
    position. For a text of several lines only the line holding the position is shown.
    """

    def __init__(self, message: str, position: int, text: str) -> None:
        super().__init__(message, position, text)
        self.message = message
        self.position = position
        self.text = text

    def __str__(self) -> str:
        line_start = self.text.rfind("\n", 0, self.position) + 1
        line_end = self.text.find("\n", self.position)
        line = self.text[line_start:] if line_end < 0 else self.text[line_start:line_end]
        # Keep tabs so that the caret lines up under the character in a terminal.
        indent = "".join("\t" if char == "\t" else " " for char in self.text[line_start:self.position])
        return f"{self.message} at position {self.position}\n{line}\n{indent}^"


class RuleSyntaxError(RuleError):
    """The text does not lex or parse: a character or token is not allowed where it stands."""


class RuleTypeError(RuleError):
    """The text parses but cannot be evaluated: a wrong type, an unknown name, or an invalid argument."""

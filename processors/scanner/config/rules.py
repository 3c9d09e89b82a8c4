"""The compiled rules of a scanner and the conditions its strategy evaluates, compiled once, when the
configuration is validated: the strategy engine only evaluates them (`processors.strategies.engine`).

The conditions: the correlation strategy's built-in buy and sell conditions with the custom entry
rules ANDed to both; the rules strategy's entry rules ANDed, as the buy condition, or as the sell
condition when the direction is short. A set of entry rules that compile one by one but not together
(one Donchian requirement with two different periods) is refused with the configuration.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from processors.rules import Rule, compile_rule


@dataclass(frozen=True, slots=True)
class ScannerRules:
    """The compiled rules of a config (see `processors.rules.RuleEvaluator`): `entry` and `exit` as
    written, in order; `buy` the condition that enters long (or exits a short), `sell` the one that
    enters short (or exits a long), None where the strategy has no such condition."""

    entry: tuple[Rule, ...]
    exit: tuple[Rule, ...]
    buy: Rule | None = None
    sell: Rule | None = None

    @classmethod
    def compile(cls, *, strategy: str, direction: str, primary: str | None, correlated: str | None,
                timeframe: str, entry_rules: Iterable[str], exit_rules: Iterable[str],
                symbols: Collection[str] | None = None) -> ScannerRules:
        """The rules of these settings, or RuleError for the first that does not compile (a
        `ScannerConfig` has them in `rules`, with every error reported at once instead)."""
        entry = tuple(compile_rule(text, symbols=symbols) for text in entry_rules)
        exit_ = tuple(compile_rule(text, symbols=symbols) for text in exit_rules)
        buy, sell = compile_conditions(strategy, direction, primary, correlated, timeframe, entry, symbols)
        return cls(entry, exit_, buy, sell)


def correlation_rules(primary: str, correlated: str, timeframe: str) -> tuple[str, str]:
    """The built-in correlation strategy's buy and sell conditions."""
    buy = (f"price({primary}) > swing_high({primary}, {timeframe}) and "
           f"price({correlated}) < swing_low({correlated}, {timeframe})")
    sell = (f"price({primary}) < swing_low({primary}, {timeframe}) and "
            f"price({correlated}) > swing_high({correlated}, {timeframe})")
    return buy, sell


def all_of(texts: Iterable[str]) -> str:
    texts = list(texts)
    return texts[0] if len(texts) == 1 else " and ".join(f"({t})" for t in texts)


def entry_conditions(strategy: str, direction: str, primary: str | None, correlated: str | None, timeframe: str,
                     custom: Sequence[str]) -> tuple[str | None, str | None]:
    """(buy condition, sell condition) texts; None where the strategy has no such condition.
    Correlation: the built-in conditions with the custom rules ANDed to both. Rules: the custom rules
    ANDed, as the buy condition, or as the sell condition when the direction is short."""
    if strategy == "correlation":
        buy, sell = correlation_rules(primary or "", correlated or "", timeframe)
        return all_of([buy, *custom]), all_of([sell, *custom])
    if not custom:
        return None, None
    return (None, all_of(custom)) if direction == "short" else (all_of(custom), None)


def compile_conditions(strategy: str, direction: str, primary: str | None, correlated: str | None, timeframe: str,
                       entry: Sequence[Rule], symbols: Collection[str] | None) -> tuple[Rule | None, Rule | None]:
    """The compiled (buy, sell) conditions over the compiled `entry` rules; RuleError (the buy
    condition's first) when they cannot be evaluated together."""
    written = {rule.text: rule for rule in entry}  # a single rule is its own condition: not compiled again

    def compiled(text: str | None) -> Rule | None:
        if text is None:
            return None
        return written.get(text) or compile_rule(text, symbols=symbols)

    buy, sell = entry_conditions(strategy, direction, primary, correlated, timeframe, [rule.text for rule in entry])
    return compiled(buy), compiled(sell)

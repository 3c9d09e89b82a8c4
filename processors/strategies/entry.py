"""The entry conditions a strategy evaluates, as rule texts: shared by the engine, which compiles and
runs them, and by the scanner configuration, which refuses at save time a set of entry rules that
compile one by one but not together (e.g. one Donchian requirement with two different periods)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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

"""A small, safe language for the entry conditions of trading strategies.

    price(SPY) > swing_high(SPY, 15m) and price(QQQ) < swing_low(QQQ, 15m)
    crosses_above(price(SPY), donchian_upper(SPY, 5m, 20))
    correlation(SPY, QQQ, 15m, 20) > 0.8 and not (atr(SPY, 5m) > 2.5)

A rule is text that is tokenised and parsed (never evaluated as Python) into an immutable tree,
type-checked, then evaluated incrementally on values the caller supplies:

    rule = compile_rule(text, symbols={"SPY", "QQQ"})    # RuleError, with a position, if invalid
    evaluator = RuleEvaluator(rule)
    for instant in ...:                                  # in time order, one call per instant
        values = {requirement: current_value(requirement) for requirement in rule.requirements}
        result = evaluator.evaluate(values)              # result.fired, result.values, result.undefined

Language: numbers (`2`, `0.8`, `-1.5`), `true`/`false`, `+ - * /`, unary `-`, comparisons
`< <= > >= == !=` (not chainable), `not` > `and` > `or`, parentheses, and calls of the built-ins in
`functions.FUNCTIONS`. Symbols are bare capitals (`SPY`, `BRK.B`, `ESZ6`), timeframes `<n>m|h|d`.
The semantics of undefined values (three-valued logic) are in `evaluator`; the grammar in `parser`;
the type rules in `checker`.
"""

from processors.rules.checker import check, compile_rule
from processors.rules.correlation import RollingCorrelation, rolling_correlation
from processors.rules.errors import RuleError, RuleSyntaxError, RuleTypeError
from processors.rules.evaluator import RuleEvaluator, RuleResult
from processors.rules.functions import FUNCTIONS, FunctionSpec
from processors.rules.parser import Requirement, Rule, parse, render
from processors.rules.vectorized import SeriesResult as SeriesResult, evaluate_series as evaluate_series

__all__ = [
    "FUNCTIONS",
    "FunctionSpec",
    "Requirement",
    "RollingCorrelation",
    "Rule",
    "RuleError",
    "RuleEvaluator",
    "RuleResult",
    "RuleSyntaxError",
    "RuleTypeError",
    "check",
    "compile_rule",
    "parse",
    "render",
    "rolling_correlation",
]

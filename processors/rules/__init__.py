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

The modules, in the order a rule passes through them:

    lexer         the text into tokens (numbers, timeframes, names, keywords, operators)
    cursor        reading tokens one at a time, counting nesting, syntax errors with a position
    parser        the grammar: tokens into a syntax tree, with the nesting and depth limits
    tree          the syntax tree's node types, walking it, and rendering it as canonical text
    requirements  the series a rule reads (`Requirement`) and the parsed `Rule` that lists them
    functions     the built-in functions: their parameters, result types and whether they read data
    checker       the type rules, and `compile_rule` (parse, then check)
    evaluator     incremental evaluation, one instant at a time, with three-valued logic for undefined values
    vectorized    the evaluator's twin over whole series at once
    correlation   the rolling correlation of two series that `correlation(...)` reads
    errors        RuleError and its syntax and type subclasses
"""

from processors.rules.checker import check, compile_rule
from processors.rules.correlation import RollingCorrelation, rolling_correlation
from processors.rules.errors import RuleError, RuleSyntaxError, RuleTypeError
from processors.rules.evaluator import RuleEvaluator, RuleResult
from processors.rules.functions import FUNCTIONS, FunctionSpec
from processors.rules.parser import parse
from processors.rules.requirements import Requirement, Rule
from processors.rules.tree import render
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

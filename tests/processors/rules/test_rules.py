"""The rule language end to end: the example rules, precedence, spans, requirements and the API."""

from __future__ import annotations

import dataclasses

import pytest

from processors.rules import (
    FUNCTIONS,
    Requirement,
    RuleError,
    RuleEvaluator,
    RuleSyntaxError,
    check,
    compile_rule,
    parse,
    render,
)
from processors.rules.lexer import TokenKind, tokenize
from processors.rules.tree import Arithmetic, Call, Comparison, Logical, NumberLiteral, SymbolRef, TimeframeRef

EXAMPLE_BREAKOUT = "price(SPY) > swing_high(SPY, 15m) and price(QQQ) < swing_low(QQQ, 15m)"
EXAMPLE_CROSS = "crosses_above(price(SPY), donchian_upper(SPY, 5m, 20))"
EXAMPLE_CORRELATION = "correlation(SPY, QQQ, 15m, 20) > 0.8 and not (atr(SPY, 5m) > 2.5)"


def fired(text: str) -> bool:
    """Whether a rule without data fires on its first evaluation."""
    return RuleEvaluator(compile_rule(text)).evaluate({}).fired


# -- the example rules -----------------------------------------------------------------------


def test_breakout_example_parses_checks_and_lists_its_data() -> None:
    rule = compile_rule(EXAMPLE_BREAKOUT, symbols={"SPY", "QQQ"})
    assert render(rule.expression) == (
        "((price(SPY) > swing_high(SPY, 15m)) and (price(QQQ) < swing_low(QQQ, 15m)))"
    )
    assert rule.requirements == frozenset(
        {("price", "SPY", None), ("swing_high", "SPY", "15m"), ("price", "QQQ", None), ("swing_low", "QQQ", "15m")}
    )
    assert rule.text == EXAMPLE_BREAKOUT and rule.periods == ()


def test_breakout_example_fires_only_when_both_legs_hold() -> None:
    evaluator = RuleEvaluator(compile_rule(EXAMPLE_BREAKOUT))
    both = {("price", "SPY", None): 451.0, ("swing_high", "SPY", "15m"): 450.0,
            ("price", "QQQ", None): 379.0, ("swing_low", "QQQ", "15m"): 380.0}
    assert evaluator.evaluate(both).fired
    assert not evaluator.evaluate({**both, ("price", "SPY", None): 450.0}).fired  # 450 > 450 is false
    assert not evaluator.evaluate({**both, ("price", "QQQ", None): 380.0}).fired


def test_cross_example_accepts_a_donchian_period_and_reports_it() -> None:
    rule = compile_rule(EXAMPLE_CROSS, symbols={"SPY"})
    assert rule.requirements == frozenset({("price", "SPY", None), ("donchian_upper", "SPY", "5m")})
    assert rule.period(("donchian_upper", "SPY", "5m")) == 20
    assert rule.period(("price", "SPY", None)) is None
    evaluator = RuleEvaluator(rule)
    feed = [(99.0, 100.0), (101.0, 100.0), (102.0, 100.0)]
    outcomes = [evaluator.evaluate({("price", "SPY", None): p, ("donchian_upper", "SPY", "5m"): u}).fired
                for p, u in feed]
    assert outcomes == [False, True, False]


def test_correlation_example() -> None:
    rule = compile_rule(EXAMPLE_CORRELATION, symbols={"SPY", "QQQ"})
    assert rule.requirements == frozenset({("correlation", "SPY|QQQ", "15m"), ("atr", "SPY", "5m")})
    assert rule.period(("correlation", "SPY|QQQ", "15m")) == 20
    assert render(rule.expression) == "((correlation(SPY, QQQ, 15m, 20) > 0.8) and (not (atr(SPY, 5m) > 2.5)))"
    evaluator = RuleEvaluator(rule)
    key_correlation, key_atr = ("correlation", "SPY|QQQ", "15m"), ("atr", "SPY", "5m")
    assert evaluator.evaluate({key_correlation: 0.85, key_atr: 2.0}).fired
    assert not evaluator.evaluate({key_correlation: 0.85, key_atr: 3.0}).fired
    assert not evaluator.evaluate({key_correlation: 0.8, key_atr: 2.0}).fired  # 0.8 > 0.8 is false


# -- precedence and associativity --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("1 + 2 * 3 > 4", "((1 + (2 * 3)) > 4)"),
        ("(1 + 2) * 3 > 4", "(((1 + 2) * 3) > 4)"),
        ("1 - 2 - 3 > 0", "(((1 - 2) - 3) > 0)"),
        ("8 / 4 / 2 == 1", "(((8 / 4) / 2) == 1)"),
        ("1 + 6 / 2 - 1 >= 3", "(((1 + (6 / 2)) - 1) >= 3)"),
        ("true or false and false", "(true or (false and false))"),
        ("true or false or true", "((true or false) or true)"),
        ("not true and false", "((not true) and false)"),
        ("not not true", "(not (not true))"),
        ("not 1 > 2", "(not (1 > 2))"),
        ("-price(SPY) < -1.5", "((-price(SPY)) < -1.5)"),
        ("2 - -1 > 0", "((2 - -1) > 0)"),
        ("-(1 + 2) * 3 < 0", "(((-(1 + 2)) * 3) < 0)"),
        ("1 < 2 and 3 > 2 or 1 == 2", "(((1 < 2) and (3 > 2)) or (1 == 2))"),
        ("1 != 2 == true", None),
    ],
)
def test_precedence_and_associativity(text: str, canonical: str | None) -> None:
    if canonical is None:
        with pytest.raises(RuleSyntaxError):
            parse(text)
    else:
        assert render(parse(text).expression) == canonical


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3 == 7", True),  # (1 + 2) * 3 would be 9
        ("(1 + 2) * 3 == 9", True),
        ("8 / 4 / 2 == 1", True),  # 8 / (4 / 2) would be 4
        ("10 - 4 - 3 == 3", True),  # 10 - (4 - 3) would be 9
        ("true or false and false", True),  # (true or false) and false would be false
        ("not false and false", False),  # not (false and false) would be true
        ("not (false and false)", True),
        ("-2 * -3 == 6", True),
        ("-(2 - 5) == 3", True),
        ("2 * 3 > 5 and not 2 * 3 > 6", True),
    ],
)
def test_precedence_decides_the_value(text: str, expected: bool) -> None:
    assert fired(text) is expected


def test_parentheses_widen_the_span_and_operators_record_their_position() -> None:
    rule = parse("(price(SPY) > 1) and swing_low(SPY, 5m) <= 2")
    top = rule.expression
    assert isinstance(top, Logical) and top.operator == "and" and top.operator_position == 17
    assert (top.position, top.end) == (0, 44)
    left, right = top.left, top.right
    assert isinstance(left, Comparison) and (left.position, left.end, left.operator_position) == (0, 16, 12)
    assert isinstance(right, Comparison) and right.operator == "<=" and right.operator_position == 40
    call = right.left
    assert isinstance(call, Call) and call.name == "swing_low" and (call.position, call.end) == (21, 39)
    assert call.arguments == (SymbolRef("SPY", 31, 34), TimeframeRef("5m", 36, 38))


def test_unary_minus_on_a_number_is_a_negative_literal() -> None:
    expression = parse("price(SPY) > -1.5").expression
    assert isinstance(expression, Comparison)
    assert expression.right == NumberLiteral(-1.5, "-1.5", 13, 17)


def test_arithmetic_nodes_carry_their_operator() -> None:
    expression = parse("high(SPY, 1d) - low(SPY, 1d) > 2 * atr(SPY, 1d)").expression
    assert isinstance(expression, Comparison)
    assert isinstance(expression.left, Arithmetic) and expression.left.operator == "-"
    assert isinstance(expression.right, Arithmetic) and expression.right.operator == "*"


def test_symbols_with_dots_digits_and_underscores() -> None:
    rule = compile_rule("price(BRK.B) > 1 and close(ESZ6, 1h) > 2 and volume(SPY_X, 1d) > 0",
                        symbols={"BRK.B", "ESZ6", "SPY_X"})
    assert rule.requirements == frozenset(
        {("price", "BRK.B", None), ("close", "ESZ6", "1h"), ("volume", "SPY_X", "1d")}
    )


def test_whitespace_is_free_and_leaf_names_are_canonical() -> None:
    rule = compile_rule("  swing_high(  SPY ,15m )<price( SPY )\n")
    result = RuleEvaluator(rule).evaluate({("swing_high", "SPY", "15m"): 1.0, ("price", "SPY", None): 2.0})
    assert result.fired and list(result.values) == ["swing_high(SPY, 15m)", "price(SPY)"]


# -- requirements --------------------------------------------------------------------------------


def test_requirements_are_deduplicated_and_keyed_like_plain_tuples() -> None:
    rule = parse("close(SPY, 5m) > open(SPY, 5m) and close(SPY, 5m) > pivot(SPY, 1d) and price(SPY) > r1(SPY, 1d)")
    expected = {("close", "SPY", "5m"), ("open", "SPY", "5m"), ("pivot", "SPY", "1d"), ("price", "SPY", None),
                ("r1", "SPY", "1d")}
    assert rule.requirements == frozenset(expected)
    assert all(isinstance(requirement, Requirement) for requirement in rule.requirements)
    assert Requirement("price", "SPY", None) == ("price", "SPY", None)


def test_crossings_and_literals_need_no_data() -> None:
    rule = parse("crosses_below(price(SPY) * 2, 3) or true")
    assert rule.requirements == frozenset({("price", "SPY", None)})


def test_correlation_requirement_keeps_the_written_symbol_order() -> None:
    assert parse("correlation(QQQ, SPY, 1h, 5) > 0").requirements == frozenset({("correlation", "QQQ|SPY", "1h")})


def test_every_builtin_can_be_used() -> None:
    texts = []
    for name, spec in FUNCTIONS.items():
        if name == "price":
            texts.append("price(SPY) > 0")
        elif name == "correlation":
            texts.append("correlation(SPY, QQQ, 15m, 20) > 0")
        elif not spec.reads_data:
            texts.append(f"{name}(price(SPY), 1)")
        else:
            texts.append(f"{name}(SPY, 15m) > 0")
    rule = compile_rule(" or ".join(texts), symbols={"SPY", "QQQ"})
    assert len(rule.requirements) == len(FUNCTIONS) - 2  # all data functions, not the two crossings


# -- lexer and safety ------------------------------------------------------------------------------


def test_tokens_with_their_positions() -> None:
    tokens = tokenize("correlation(BRK.B, ESZ6, 15m, 20) >= -0.5")
    assert [(t.kind, t.text, t.position) for t in tokens] == [
        (TokenKind.NAME, "correlation", 0),
        (TokenKind.LEFT_PAREN, "(", 11),
        (TokenKind.NAME, "BRK.B", 12),
        (TokenKind.COMMA, ",", 17),
        (TokenKind.NAME, "ESZ6", 19),
        (TokenKind.COMMA, ",", 23),
        (TokenKind.TIMEFRAME, "15m", 25),
        (TokenKind.COMMA, ",", 28),
        (TokenKind.NUMBER, "20", 30),
        (TokenKind.RIGHT_PAREN, ")", 32),
        (TokenKind.GREATER_EQUAL, ">=", 34),
        (TokenKind.MINUS, "-", 37),
        (TokenKind.NUMBER, "0.5", 38),
        (TokenKind.END, "", 41),
    ]


def test_keywords_are_lower_case_only() -> None:
    assert [t.kind for t in tokenize("and or not true false AND")] == [
        TokenKind.AND, TokenKind.OR, TokenKind.NOT, TokenKind.TRUE, TokenKind.FALSE, TokenKind.NAME, TokenKind.END]


def test_python_is_never_evaluated() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        compile_rule("__import__('os').system('true')")
    assert caught.value.position == 11  # the quote is not a character of the language


# -- immutability and the API -------------------------------------------------------------------


def test_syntax_tree_and_rule_are_frozen_and_slotted() -> None:
    rule = parse("price(SPY) > 1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.expression.operator = "<"  # type: ignore[misc, union-attr]
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.text = "x"  # type: ignore[misc]
    assert not hasattr(rule.expression, "__dict__") and not hasattr(rule, "__dict__")


def test_parse_does_not_type_check_but_check_and_compile_do() -> None:
    rule = parse("price(SPY)")  # parses: a number is a valid expression
    with pytest.raises(RuleError):
        check(rule)
    with pytest.raises(RuleError):
        compile_rule("price(SPY)")
    with pytest.raises(RuleError):
        RuleEvaluator(rule)  # the evaluator refuses an ill-typed rule too


def test_check_with_symbols_accepts_configured_ones() -> None:
    rule = parse(EXAMPLE_CORRELATION)
    check(rule, symbols={"SPY", "QQQ", "IWM"})
    with pytest.raises(RuleError):
        check(rule, symbols={"SPY"})

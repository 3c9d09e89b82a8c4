"""Every kind of rule error, with the exact position it points at and the message format."""

from __future__ import annotations

import pickle

import pytest

from processors.rules import RuleError, RuleEvaluator, RuleSyntaxError, RuleTypeError, compile_rule, parse

SYMBOLS = {"SPY", "QQQ"}


def error_of(text: str, symbols: set[str] | None = None) -> RuleError:
    with pytest.raises(RuleError) as caught:
        compile_rule(text, symbols=symbols)
    return caught.value


def test_str_is_message_position_text_and_caret() -> None:
    error = error_of("price(SPY) > > 1")
    assert isinstance(error, ValueError) and isinstance(error, RuleSyntaxError)
    assert error.position == 13  # the second '>'
    assert error.message == "expected a number, a function call, true, false or '(', found '>'"
    assert str(error) == (
        "expected a number, a function call, true, false or '(', found '>' at position 13\n"
        "price(SPY) > > 1\n"
        "             ^"
    )


def test_caret_at_the_end_when_the_text_stops_early() -> None:
    error = error_of("price(SPY) >")
    assert error.position == 12 and error.message.endswith("found the end of the rule")
    assert str(error).splitlines()[-1] == " " * 12 + "^"


def test_multi_line_text_shows_the_line_with_the_problem() -> None:
    error = error_of("price(SPY) > 1\nand\tfoo(SPY) > 2")
    assert error.position == 19
    assert str(error).splitlines()[1:] == ["and\tfoo(SPY) > 2", "   \t^"]


def test_errors_survive_pickling() -> None:
    error = error_of("price(SPY) > > 1")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.message, copy.position, str(copy)) == (RuleSyntaxError, error.message, 13, str(error))


# -- lexing and parsing ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("", 0, "the rule is empty"),
        ("   ", 3, "the rule is empty"),
        ("price(SPY) > 1 $", 15, "unexpected character '$'"),
        ("price(SPY) = 1", 11, "write '=='"),
        ("price(SPY) > 1 && true", 15, "write 'and'"),
        ("price(SPY) > 1 || true", 15, "write 'or'"),
        ("!(price(SPY) > 1)", 0, "write 'not'"),
        ("price(SPY) > 1.", 14, "a decimal point must be followed by digits"),
        ("price(SPY) < 1 < 2", 15, "comparisons cannot be chained"),
        ("A < B < C", 6, "comparisons cannot be chained"),
        ("price(SPY) >= 1 == true", 16, "comparisons cannot be chained"),
        ("(price(SPY) > 1", 15, "')' to close the '(' at position 0"),
        ("price(SPY > 1", 13, "',' or ')' in the arguments of price"),
        ("price(SPY,) > 1", 10, "found ')'"),
        ("price(SPY) > 1 2", 15, "expected an operator or the end of the rule, found '2'"),
        ("price(SPY) > 1 AND true", 15, "keywords are lower case: write 'and'"),
        ("spy > 1", 0, "unknown name 'spy'"),
        ("price > 1", 0, "price is a function: call it as price(SYMBOL)"),
        ("price(SPY) > 1 and", 18, "found the end of the rule"),
        ("not", 3, "found the end of the rule"),
        ("price(SPY) * / 2 > 1", 13, "found '/'"),
    ],
)
def test_syntax_errors(text: str, position: int, fragment: str) -> None:
    error = error_of(text)
    assert isinstance(error, RuleSyntaxError)
    assert fragment in error.message
    assert error.position == position


def test_parse_alone_raises_syntax_errors() -> None:
    with pytest.raises(RuleSyntaxError) as caught:
        parse("price(SPY) > > 1")
    assert caught.value.position == 13


# -- type errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        # unknown function, at its name
        ("price(SPY) > swing_hihg(SPY, 15m)", 13, "unknown function 'swing_hihg'"),
        # wrong arity: too many points at the first extra argument, too few at ')'
        ("price(SPY, 15m) > 1", 11, "price takes 1 argument (price(SYMBOL)), but was given 2"),
        ("close(SPY) > 1", 9, "close takes 2 arguments (close(SYMBOL, TIMEFRAME)), but was given 1"),
        ("price() > 1", 6, "but was given 0"),
        ("donchian_upper(SPY, 5m, 20, 3) > 1", 28, "2 or 3 arguments"),
        ("correlation(SPY, QQQ, 15m) > 0", 25, "4 arguments"),
        ("crosses_above(price(SPY))", 24, "2 arguments"),
        # symbol where a number is expected (and the other way round)
        ("SPY > 1", 0, "the comparison '>' needs a number on both sides, but 'SPY' is a symbol"),
        ("price(SPY) + QQQ > 1", 13, "'+' needs a number on both sides, but 'QQQ' is a symbol"),
        ("crosses_above(SPY, 1)", 14, "argument 1 of crosses_above needs a number, but 'SPY' is a symbol"),
        ("price(1) > 1", 6, "argument 1 of price must be a symbol such as SPY, but this is a number"),
        ("price(price(SPY)) > 1", 6, "argument 1 of price must be a symbol"),
        ("close(15m, SPY) > 1", 6, "argument 1 of close must be a symbol such as SPY, but '15m' is a timeframe"),
        ("15m > 1", 0, "'15m' is a timeframe"),
        # timeframes
        ("close(SPY, 0m) > 1", 11, "invalid timeframe '0m'"),
        ("close(SPY, 15x) > 1", 11, "invalid timeframe '15x'"),
        ("close(SPY, 05m) > 1", 11, "invalid timeframe '05m'"),
        ("close(SPY, 1.5h) > 1", 11, "invalid timeframe '1.5h'"),
        ("close(SPY, 15) > 1", 11, "argument 2 of close must be a timeframe such as 15m, but this is a number"),
        ("close(SPY, QQQ) > 1", 11, "must be a timeframe such as 15m, but 'QQQ' is a symbol"),
        # boolean operators over numbers
        ("price(SPY) and true", 0, "'and' needs true/false on both sides, but this is a number"),
        ("true or 1", 8, "'or' needs true/false on both sides, but this is a number"),
        ("not price(SPY)", 4, "'not' needs true/false, but this is a number"),
        # comparisons of booleans with numbers, arithmetic on booleans
        ("(price(SPY) > 1) > 2", 0, "the comparison '>' needs a number on both sides, but this is true/false"),
        ("1 == (2 < 3)", 5, "needs a number on both sides, but this is true/false"),
        ("true == false", 0, "needs a number on both sides, but this is true/false"),
        ("price(SPY) + (1 > 0) > 2", 13, "'+' needs a number on both sides, but this is true/false"),
        ("-(1 > 2)", 1, "unary '-' needs a number, but this is true/false"),
        ("crosses_above(true, 1)", 14, "needs a number, but this is true/false"),
        # the whole rule is not true/false
        ("price(SPY)", 0, "a rule must be true/false"),
        ("  price(SPY) - 1", 2, "but this is a number"),
        ("SPY", 0, "a rule must be true/false (a comparison, crosses_above/crosses_below, or such conditions "
                   "joined with and/or/not), but this is a symbol"),
        # correlation's bar count and symbols
        ("correlation(SPY, QQQ, 15m, 1) > 0", 27, "must be at least 2, not 1"),
        ("correlation(SPY, QQQ, 15m, -3) > 0", 27, "must be at least 2, not -3"),
        ("correlation(SPY, QQQ, 15m, 2.5) > 0", 27, "bar count: write a whole number"),
        ("correlation(SPY, QQQ, 15m, atr(SPY, 1m)) > 0", 27, "bar count: write a whole number"),
        ("correlation(SPY, SPY, 15m, 20) > 0", 17, "two different symbols"),
        ("donchian_mid(SPY, 5m, 0) > 0", 22, "must be at least 1, not 0"),
        ("donchian_upper(SPY, 5m) > donchian_upper(SPY, 5m, 10)", 26, "bar counts the default and 10"),
        ("correlation(SPY, QQQ, 5m, 20) > correlation(SPY, QQQ, 5m, 30)", 32, "bar counts 20 and 30"),
        # division by a literal zero, at the divisor
        ("price(SPY) / 0 > 1", 13, "division by zero"),
        ("price(SPY) / 0.0 > 1", 13, "division by zero"),
        ("price(SPY) / -0 > 1", 13, "division by zero"),
        ("price(SPY) / (2 - 2) > 1", 13, "division by zero"),
        ("price(SPY) / (4 * 0.5 - 1 - 1) > 1", 13, "division by zero"),
    ],
)
def test_type_errors(text: str, position: int, fragment: str) -> None:
    parse(text)  # every one of these parses
    error = error_of(text)
    assert isinstance(error, RuleTypeError)
    assert fragment in error.message
    assert error.position == position


def test_division_by_a_constant_that_is_not_zero_is_fine() -> None:
    compile_rule("price(SPY) / (2 - 1) > 1 and price(SPY) / 0.5 > 1")
    compile_rule("price(SPY) / (atr(SPY, 5m) - atr(SPY, 5m)) > 1")  # not constant: undefined at run time


def test_unknown_function_suggests_the_closest_names() -> None:
    assert error_of("swing_hihg(SPY, 15m) > 1").message == (
        "unknown function 'swing_hihg'; did you mean swing_high, swing_low?")
    assert error_of("donchian_uper(SPY, 5m) > 1").message.startswith(
        "unknown function 'donchian_uper'; did you mean donchian_upper")
    assert "did you mean price" in error_of("PRICE(SPY) > 1").message
    assert "did you mean correlation" in error_of("corelation(SPY, QQQ, 1m, 5) > 0").message


def test_unknown_function_without_a_close_name_lists_them_all() -> None:
    message = error_of("zzz(SPY) > 1").message
    assert message.startswith("unknown function 'zzz'; the functions are atr, close, correlation, ")
    assert message.endswith("swing_high, swing_low, volume")


def test_unknown_symbol_when_symbols_are_configured() -> None:
    error = error_of("price(SPY) > 1 and price(SPX) > 1", symbols=SYMBOLS)
    assert isinstance(error, RuleTypeError) and error.position == 25
    assert error.message == "unknown symbol 'SPX' (configured symbols: QQQ, SPY); did you mean SPY?"
    error = error_of("correlation(SPY, IWM, 15m, 20) > 0.5", symbols=SYMBOLS)
    assert error.position == 17 and error.message == "unknown symbol 'IWM' (configured symbols: QQQ, SPY)"
    compile_rule("price(SPX) > 1")  # without a configuration every symbol is allowed


def test_the_first_error_in_source_order_wins() -> None:
    error = error_of("foo(SPY) > 1 and close(SPY, 0m) > 1")
    assert error.position == 0 and "unknown function" in error.message
    error = error_of("close(SPY, 0m) > 1 and foo(SPY) > 1")
    assert error.position == 11 and "invalid timeframe" in error.message


# -- hostile sizes: a RuleError, never a RecursionError -----------------------------------------


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("(" * 1000 + "1" + ")" * 1000 + " > 0", 40),  # the 41st '(' is one level too many
        ("not " * 2000 + "true", 40 * 4),  # the 41st 'not'
        ("-" * 2000 + "price(SPY) > 1", 40),
        ("price(" * 500, 40 * 6),
    ],
)
def test_nesting_is_limited(text: str, position: int) -> None:
    error = error_of(text)
    assert isinstance(error, RuleSyntaxError) and "nests more than 40 levels" in error.message
    assert error.position == position


def test_nesting_up_to_the_limit_is_fine() -> None:
    assert RuleEvaluator(compile_rule("(" * 40 + "1" + ")" * 40 + " > 0")).evaluate({}).fired
    assert RuleEvaluator(compile_rule("not " * 40 + "true")).evaluate({}).fired  # an even number of nots
    odd_minus = compile_rule("-" * 39 + "price(SPY) < 0")  # 39 minus signs and a call: 40 levels
    assert RuleEvaluator(odd_minus).evaluate({("price", "SPY", None): 2.0}).fired


def test_tree_depth_is_limited() -> None:
    # A comparison over a chain of k additions is k + 2 levels deep: 98 additions is the most.
    assert RuleEvaluator(compile_rule("1" + " + 1" * 98 + " == 99")).evaluate({}).fired
    error = error_of("1" + " + 1" * 99 + " == 100")
    assert isinstance(error, RuleSyntaxError) and "more than 100 operations" in error.message
    error = error_of("1" + " + 1" * 5000 + " > 0")
    assert isinstance(error, RuleSyntaxError) and "more than 100 operations" in error.message

"""Batch evaluation: hand-built crossings and Kleene tables, and batch == incremental (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.rules import (
    Rule,
    RuleEvaluator,
    RuleResult,
    RuleTypeError,
    SeriesResult,
    compile_rule,
    evaluate_series,
    parse,
)

NAN, INF = math.nan, math.inf
SPY = ("price", "SPY", None)
QQQ = ("price", "QQQ", None)
UPPER = ("donchian_upper", "SPY", "5m")
ATR = ("atr", "SPY", "5m")
CORRELATION = ("correlation", "SPY|QQQ", "15m")
SWING_HIGH = ("swing_high", "SPY", "15m")
SWING_LOW = ("swing_low", "QQQ", "15m")


Columns = dict[tuple[str, str, str | None], np.ndarray]
CODES = {True: 1, False: 0, None: -1}  # RuleResult.truth -> SeriesResult.truth


def incremental(rule: Rule, columns: Columns, length: int) -> list[RuleResult]:
    """RuleEvaluator called once per instant, with None where a column holds NaN."""
    evaluator = RuleEvaluator(rule)
    return [
        evaluator.evaluate({key: None if math.isnan(column[i]) else float(column[i]) for key, column in columns.items()})
        for i in range(length)
    ]


def assert_same_as_incremental(rule: Rule, columns: Columns, length: int | None = None) -> SeriesResult:
    """The batch result, after checking it against the incremental one at every instant."""
    batch = evaluate_series(rule, columns, length=length)
    expected = incremental(rule, columns, len(batch.truth))
    assert batch.fired.tolist() == [result.fired for result in expected]
    assert batch.truth.tolist() == [CODES[result.truth] for result in expected]
    for i, result in enumerate(expected):
        values = batch.values_at(i)
        assert list(values) == list(result.values)  # same keys, in the same order
        # Bit for bit: the same float, or both undefined (-0.0 and 0.0 are told apart by their sign).
        for text, value in result.values.items():
            batch_value = values[text]
            assert (value is None and batch_value is None) or (
                value is not None and batch_value is not None and value.hex() == batch_value.hex()
            ), (i, text, value, batch_value)
    return batch


def columns(**named: list[float]) -> Columns:
    keys = {"spy": SPY, "qqq": QQQ, "upper": UPPER, "atr": ATR}
    return {keys[name]: np.array(values, dtype=np.float64) for name, values in named.items()}


# -- crossings, by hand --------------------------------------------------------------------------


def test_crosses_above_by_hand() -> None:
    rule = compile_rule("crosses_above(price(SPY), donchian_upper(SPY, 5m))")
    prices = [10.0, 11.0, 12.0, 13.0, 10.0, NAN, 12.0, 10.0, 11.5, 11.5, 11.5, 12.0]
    uppers = [11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 12.0, 11.4, INF]
    # first instant; touching is not crossing; 11 <= 11 then 12 > 11; already above; back below;
    # price undefined now; price undefined before; below; 10 <= 11 then 11.5 > 11; band moved above;
    # band moved below the price (a cross too); band infinite (undefined) now.
    expected = [False, False, True, False, False, False, False, False, True, False, True, False]
    result = assert_same_as_incremental(rule, columns(spy=prices, upper=uppers))
    assert result.fired.tolist() == expected
    assert result.truth.tolist() == [int(crossed) for crossed in expected]  # false, never unknown


def test_crosses_below_by_hand() -> None:
    rule = compile_rule("crosses_below(price(SPY), donchian_upper(SPY, 5m))")
    prices = [12.0, 11.0, 10.0, 9.0, 12.0, 12.0, 10.0, 12.0, 10.5]
    uppers = [11.0, 11.0, 11.0, 11.0, 11.0, NAN, 11.0, 11.0, 11.0]
    expected = [False, False, True, False, False, False, False, False, True]
    result = assert_same_as_incremental(rule, columns(spy=prices, upper=uppers))
    assert result.fired.tolist() == expected


def test_crossing_operands_are_the_computed_values() -> None:
    # price - 1 = [10, 10.5, 9, 49, 59, 39, 59] crosses above 10 at instants 1 and 3. The quotient
    # [1.1, 1.15, 1, undefined (division by zero), 6, 4, 6] is above 5 at instant 4 but was undefined
    # before, so it crosses only at instant 6.
    rule = compile_rule("crosses_above(price(SPY) - 1, 10) or crosses_above(price(SPY) / price(QQQ), 5)")
    result = assert_same_as_incremental(
        rule, columns(spy=[11.0, 11.5, 10.0, 50.0, 60.0, 40.0, 60.0], qqq=[10.0, 10.0, 10.0, 0.0, 10.0, 10.0, 10.0])
    )
    assert result.fired.tolist() == [False, True, False, True, False, False, True]


def test_each_call_site_keeps_its_own_memory_and_is_never_short_circuited() -> None:
    # The left side decides the `and` at instant 2, yet the crossings still see that instant: had
    # they skipped it, price would seem to go from 6 to 6 and not cross at instant 3.
    rule = compile_rule("price(QQQ) > 0 and crosses_above(price(SPY), 5) and not crosses_below(price(SPY), 5)")
    result = assert_same_as_incremental(rule, columns(spy=[4.0, 6.0, 4.0, 6.0], qqq=[1.0, 1.0, -1.0, 1.0]))
    assert result.fired.tolist() == [False, True, False, True]


def test_single_and_empty_series() -> None:
    rule = compile_rule("crosses_above(price(SPY), 1)")
    assert evaluate_series(rule, columns(spy=[5.0])).truth.tolist() == [0]
    empty = evaluate_series(rule, columns(spy=[]))
    assert empty.fired.shape == empty.truth.shape == empty.leaf_values["price(SPY)"].shape == (0,)


# -- Kleene logic, by hand -----------------------------------------------------------------------

# price > 0 is true for 1, false for -1, unknown for NaN.
OPERANDS = {True: 1.0, False: -1.0, None: NAN}
PAIRS = [(a, b) for a in OPERANDS for b in OPERANDS]
AND = {(True, True): True, (True, False): False, (True, None): None,
       (False, True): False, (False, False): False, (False, None): False,
       (None, True): None, (None, False): False, (None, None): None}  # fmt: skip
OR = {(True, True): True, (True, False): True, (True, None): True,
      (False, True): True, (False, False): False, (False, None): None,
      (None, True): True, (None, False): None, (None, None): None}  # fmt: skip


@pytest.mark.parametrize(("operator", "table"), [("and", AND), ("or", OR)])
def test_kleene_tables(operator: str, table: dict) -> None:
    rule = compile_rule(f"price(SPY) > 0 {operator} price(QQQ) > 0")
    data = columns(spy=[OPERANDS[a] for a, _ in PAIRS], qqq=[OPERANDS[b] for _, b in PAIRS])
    result = assert_same_as_incremental(rule, data)
    assert result.truth.tolist() == [CODES[table[pair]] for pair in PAIRS]
    assert result.fired.tolist() == [table[pair] is True for pair in PAIRS]


def test_not_and_comparisons_with_undefined() -> None:
    data = columns(spy=[1.0, -1.0, NAN, INF, -INF])
    assert evaluate_series(compile_rule("not price(SPY) > 0"), data).truth.tolist() == [0, 1, -1, -1, -1]
    assert evaluate_series(compile_rule("not not price(SPY) > 0"), data).fired.tolist() == [
        True, False, False, False, False]  # fmt: skip
    for operator in ("<", "<=", ">", ">=", "==", "!="):
        truth = evaluate_series(compile_rule(f"price(SPY) {operator} 1"), data).truth.tolist()
        assert truth[2:] == [-1, -1, -1], operator  # `!=` too, although NaN != 1 in IEEE


# -- arithmetic, by hand -------------------------------------------------------------------------


def test_division_by_zero_and_overflow_are_undefined() -> None:
    data = columns(spy=[1.0, 0.0, 1.0, 1e200, 1e100, 2.0], qqq=[0.0, 5e-324, 5e-324, 1.0, 1.0, -0.0])
    quotient = evaluate_series(compile_rule("price(SPY) / price(QQQ) >= 0"), data)
    # 1/0 undefined; 0/5e-324 = 0; 1/5e-324 overflows; 1e200; 1e100; 2/-0.0 undefined.
    assert quotient.truth.tolist() == [-1, 1, -1, 1, 1, -1]
    square = evaluate_series(compile_rule("price(SPY) * price(SPY) > 0"), data)
    assert square.truth.tolist() == [1, 0, 1, -1, 1, 1]  # 1e200 squared overflows
    for text in ("price(SPY) / price(QQQ) >= 0", "price(SPY) * price(SPY) > 0", "price(SPY) - price(QQQ) > 0"):
        assert_same_as_incremental(compile_rule(text), data)


def test_a_sum_beyond_the_float_range_is_undefined() -> None:
    big = "1" + "0" * 308  # 1e308, written out: the language has no exponents
    rule = compile_rule(f"price(SPY) + {big} > 0 or -(price(SPY) - {big}) < 0")
    result = assert_same_as_incremental(rule, columns(spy=[1e308, 1.0, -1e308]))
    # 1e308: the sum overflows (unknown), the difference is 0 and -0.0 < 0 is false: unknown or false.
    # 1: the sum is 1e308 > 0. -1e308: the sum is 0 > 0, false; the difference overflows: unknown.
    assert result.truth.tolist() == [-1, 1, -1]


# -- leaves and the result ------------------------------------------------------------------------


def test_leaf_values_are_keyed_like_the_incremental_values_and_explain_an_instant() -> None:
    rule = compile_rule("price(SPY) > swing_high(SPY, 15m) and price(QQQ) < swing_low(QQQ, 15m)")
    data = {
        SPY: np.array([400.0, 405.0, NAN]),
        SWING_HIGH: np.array([402.0, 402.0, 402.0]),
        QQQ: np.array([300.0, 298.0, 297.0]),
        SWING_LOW: np.array([299.0, INF, 299.0]),
    }
    result = assert_same_as_incremental(rule, data)
    assert list(result.leaf_values) == ["price(SPY)", "swing_high(SPY, 15m)", "price(QQQ)", "swing_low(QQQ, 15m)"]
    assert np.isnan(result.leaf_values["swing_low(QQQ, 15m)"][1])  # infinite in, undefined out
    assert result.values_at(1) == {
        "price(SPY)": 405.0, "swing_high(SPY, 15m)": 402.0, "price(QQQ)": 298.0, "swing_low(QQQ, 15m)": None,
    }  # fmt: skip
    assert result.truth.tolist() == [0, -1, -1]


def test_the_callers_columns_are_not_aliased_and_the_result_is_read_only() -> None:
    spy = np.array([1.0, INF, 3.0])
    result = evaluate_series(compile_rule("price(SPY) > 2"), {SPY: spy})
    assert spy[1] == INF
    assert result.leaf_values["price(SPY)"] is not spy
    for array in (result.fired, result.truth, result.leaf_values["price(SPY)"]):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0


def test_requirements_and_integer_columns_are_accepted() -> None:
    rule = compile_rule("price(SPY) > 2")
    (requirement,) = rule.requirements
    assert evaluate_series(rule, {requirement: np.array([1, 3], dtype=np.int64)}).fired.tolist() == [False, True]
    assert evaluate_series(rule, {SPY: [1.0, 3.0]}).fired.tolist() == [False, True]


def test_rules_without_data_need_a_length() -> None:
    assert assert_same_as_incremental(compile_rule("1 + 1 == 2"), {}, length=3).fired.tolist() == [True] * 3
    assert assert_same_as_incremental(compile_rule("false"), {}, length=2).truth.tolist() == [0, 0]
    with pytest.raises(ValueError, match="length="):
        evaluate_series(compile_rule("true"), {})


def test_caller_errors() -> None:
    rule = compile_rule("price(SPY) > 1 and price(QQQ) > 1")
    with pytest.raises(KeyError, match="supply every requirement"):
        evaluate_series(rule, columns(spy=[1.0]))
    with pytest.raises(ValueError, match="has 1 values, expected 2"):
        evaluate_series(rule, columns(spy=[1.0, 2.0], qqq=[1.0]))
    with pytest.raises(ValueError, match="has 2 values, expected 3"):
        evaluate_series(rule, columns(spy=[1.0, 2.0], qqq=[1.0, 2.0]), length=3)
    with pytest.raises(ValueError, match="one-dimensional"):
        evaluate_series(rule, {SPY: np.ones((2, 2)), QQQ: np.ones(2)})
    with pytest.raises(TypeError, match="must hold numbers"):
        evaluate_series(rule, {SPY: np.array([True, False]), QQQ: np.ones(2)})
    with pytest.raises(TypeError, match="must hold numbers"):
        evaluate_series(rule, {SPY: [1.0, None], QQQ: np.ones(2)})


def test_an_unchecked_rule_is_refused() -> None:
    with pytest.raises(RuleTypeError):
        evaluate_series(parse("price(SPY) + 1"), columns(spy=[1.0]))


# -- the examples of the package docstring ---------------------------------------------------------

EXAMPLE_DATA = {
    SPY: np.array([400.0, 401.0, 403.0, 404.0, NAN, 399.0, 402.5, 402.5]),
    SWING_HIGH: np.array([402.0, 402.0, 402.0, NAN, 402.0, 402.0, 402.0, 402.0]),
    QQQ: np.array([300.0, 298.0, 297.0, 296.0, 301.0, 295.0, 296.0, NAN]),
    SWING_LOW: np.array([299.0, 299.0, 299.0, 299.0, 299.0, 299.0, 299.0, 299.0]),
    ("donchian_upper", "SPY", "5m"): np.array([402.0, 402.0, 402.0, 402.0, 402.0, 402.0, 402.0, 401.0]),
    CORRELATION: np.array([NAN, 0.7, 0.81, 0.9, 0.95, 0.85, 0.9, 0.9]),
    ATR: np.array([2.0, 3.0, 2.0, 2.0, NAN, 1.0, 2.6, 2.4]),
}


@pytest.mark.parametrize(
    ("text", "expected_truth"),
    [
        # fired when SPY is above its swing high and QQQ below its swing low
        ("price(SPY) > swing_high(SPY, 15m) and price(QQQ) < swing_low(QQQ, 15m)", [0, 0, 1, -1, 0, 0, 1, -1]),
        # 401 <= 402 then 403 > 402; 399 <= 402 then 402.5 > 402 at instant 6
        ("crosses_above(price(SPY), donchian_upper(SPY, 5m, 20))", [0, 0, 1, 0, 0, 0, 1, 0]),
        ("correlation(SPY, QQQ, 15m, 20) > 0.8 and not (atr(SPY, 5m) > 2.5)", [-1, 0, 1, 1, -1, 1, 0, 1]),
    ],
)
def test_the_package_examples(text: str, expected_truth: list[int]) -> None:
    rule = compile_rule(text, symbols={"SPY", "QQQ"})
    data = {requirement: EXAMPLE_DATA[requirement] for requirement in rule.requirements}
    result = assert_same_as_incremental(rule, data)
    assert result.truth.tolist() == expected_truth


# -- batch == incremental, for random rules and data -------------------------------------------------

LEAVES = {
    "price(SPY)": SPY,
    "price(QQQ)": QQQ,
    "atr(SPY, 5m)": ATR,
    "donchian_upper(SPY, 5m, 20)": UPPER,
    "correlation(SPY, QQQ, 15m, 20)": CORRELATION,
}
LITERALS = ["0", "1", "2", "0.5", "-1", "-0.25", "1" + "0" * 200, "0.000001"]
# Few distinct values, so that ties, equal operands and crossings are common; and the edges.
VALUES = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e200, -1e200, 1e308, 5e-324, NAN, INF, -INF]),
    st.floats(allow_nan=True, allow_infinity=True),
)

numbers = st.recursive(
    st.sampled_from([*LEAVES, *LITERALS]),
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from("+-*/"), inner),
        st.builds(lambda a: f"-({a})", inner),
    ),
    max_leaves=6,
)
conditions = st.recursive(
    st.one_of(
        st.builds(lambda a, op, b: f"{a} {op} {b}", numbers, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
                  numbers),
        st.builds(lambda name, a, b: f"{name}({a}, {b})", st.sampled_from(["crosses_above", "crosses_below"]),
                  numbers, numbers),
        st.sampled_from(["true", "false"]),
    ),
    lambda inner: st.one_of(
        st.builds(lambda a, op, b: f"({a}) {op} ({b})", inner, st.sampled_from(["and", "or"]), inner),
        st.builds(lambda a: f"not ({a})", inner),
    ),
    max_leaves=5,
)


def without_constant_zero_divisor(text: str) -> bool:
    """Whether `text` compiles; the grammar above can only fail on a divisor such as `(1 - 1)`."""
    try:
        compile_rule(text)
    except RuleTypeError as error:
        if "division by zero" not in str(error):
            raise
        return False
    return True


@st.composite
def rules_and_columns(draw: st.DrawFn) -> tuple[Rule, Columns, int]:
    rule = compile_rule(draw(conditions.filter(without_constant_zero_divisor)))
    length = draw(st.integers(min_value=0, max_value=25))
    data = {
        requirement: np.array(draw(st.lists(VALUES, min_size=length, max_size=length)), dtype=np.float64)
        for requirement in sorted(rule.requirements, key=repr)
    }
    return rule, data, length


@settings(max_examples=400, deadline=None)
@given(rules_and_columns())
def test_batch_equals_incremental(case: tuple[Rule, Columns, int]) -> None:
    rule, data, length = case
    assert_same_as_incremental(rule, data, length)

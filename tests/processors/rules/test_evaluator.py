"""Evaluation: crossings over hand-built sequences, three-valued logic, undefined values, state."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest

from processors.rules import RuleEvaluator, RuleResult, compile_rule

SPY = ("price", "SPY", None)
QQQ = ("price", "QQQ", None)
UPPER = ("donchian_upper", "SPY", "5m")
LOWER = ("donchian_lower", "SPY", "5m")


def evaluator(text: str) -> RuleEvaluator:
    return RuleEvaluator(compile_rule(text))


# -- crossings ---------------------------------------------------------------------------------

# (price, upper band) per instant and whether price crossed above the band at that instant.
CROSS_ABOVE_FEED = [
    (10.0, 11.0, False),  # first evaluation: no previous values
    (11.0, 11.0, False),  # touching is not crossing: 11 > 11 is false
    (12.0, 11.0, True),  # before 11 <= 11, now 12 > 11
    (13.0, 11.0, False),  # already above
    (10.0, 11.0, False),  # back below
    (None, 11.0, False),  # price undefined now
    (12.0, 11.0, False),  # price was undefined at the previous evaluation
    (10.0, 11.0, False),
    (11.5, 11.0, True),  # before 10 <= 11, now 11.5 > 11
    (11.5, 12.0, False),  # the band moved above the price
    (11.5, 11.4, True),  # the band moved below the price: a cross too
]


def test_crosses_above_over_a_hand_built_sequence() -> None:
    rule = evaluator("crosses_above(price(SPY), donchian_upper(SPY, 5m))")
    outcomes = [rule.evaluate({SPY: price, UPPER: upper}).fired for price, upper, _ in CROSS_ABOVE_FEED]
    assert outcomes == [expected for _, _, expected in CROSS_ABOVE_FEED]


CROSS_BELOW_FEED = [
    (12.0, 11.0, False),  # first evaluation
    (11.0, 11.0, False),  # 11 < 11 is false
    (10.0, 11.0, True),  # before 11 >= 11, now 10 < 11
    (9.0, 11.0, False),
    (12.0, 11.0, False),
    (12.0, None, False),  # band undefined now
    (10.0, 11.0, False),  # band was undefined before
    (12.0, 11.0, False),
    (10.5, 11.0, True),
]


def test_crosses_below_over_a_hand_built_sequence() -> None:
    rule = evaluator("crosses_below(price(SPY), donchian_lower(SPY, 5m))")
    outcomes = [rule.evaluate({SPY: price, LOWER: lower}).fired for price, lower, _ in CROSS_BELOW_FEED]
    assert outcomes == [expected for _, _, expected in CROSS_BELOW_FEED]


def test_a_crossing_is_false_not_unknown_when_undefined() -> None:
    rule = evaluator("not crosses_above(price(SPY), 100)")
    first = rule.evaluate({SPY: None})
    assert first.truth is True and first.fired  # crosses_above is false (not unknown), so `not` is true


def test_crossing_operands_can_be_arithmetic() -> None:
    rule = evaluator("crosses_above(price(SPY) - price(QQQ), 2 * 0.5)")
    assert [rule.evaluate({SPY: s, QQQ: q}).fired for s, q in [(10.0, 9.5), (10.0, 8.5), (10.0, 8.0)]] == [
        False, True, False]  # spreads 0.5, 1.5, 2.0 against 1


def test_each_call_site_keeps_its_own_memory() -> None:
    rule = evaluator("crosses_above(price(SPY), 100) or crosses_above(price(QQQ), 100)")
    assert not rule.evaluate({SPY: 99.0, QQQ: 101.0}).fired
    assert rule.evaluate({SPY: 101.0, QQQ: 102.0}).fired  # SPY crosses; QQQ was already above
    assert not rule.evaluate({SPY: 102.0, QQQ: 99.0}).fired
    assert rule.evaluate({SPY: 103.0, QQQ: 100.5}).fired  # QQQ crosses


def test_crossings_update_even_when_the_rest_of_the_rule_decides() -> None:
    # No short-circuit: at t0 the left side is false, yet the crossing must remember price 99.
    rule = evaluator("price(QQQ) > 0 and crosses_above(price(SPY), 100)")
    assert not rule.evaluate({QQQ: -1.0, SPY: 99.0}).fired
    assert rule.evaluate({QQQ: 1.0, SPY: 101.0}).fired


def test_reset_forgets_the_previous_values() -> None:
    rule = evaluator("crosses_above(price(SPY), 100)")
    rule.evaluate({SPY: 99.0})
    rule.reset()
    assert not rule.evaluate({SPY: 101.0}).fired  # a first evaluation again
    rule.evaluate({SPY: 99.0})
    assert rule.evaluate({SPY: 101.0}).fired


def test_state_round_trip_continues_the_crossing() -> None:
    first = evaluator("crosses_below(price(SPY), 100)")
    first.evaluate({SPY: 101.0})
    state = first.to_state()
    second = evaluator("crosses_below(price(SPY), 100)")
    second.load_state(state)
    assert second.evaluate({SPY: 99.0}).fired
    with pytest.raises(ValueError, match="crossings"):
        evaluator("price(SPY) > 1").load_state(state)


# -- three-valued logic ------------------------------------------------------------------------

T, F, U = True, False, None
# Inputs giving each truth value to `price(X) > 0`.
AS_INPUT = {T: 1.0, F: -1.0, U: None}
KLEENE_AND = {(T, T): T, (T, F): F, (T, U): U, (F, T): F, (F, F): F, (F, U): F, (U, T): U, (U, F): F, (U, U): U}
KLEENE_OR = {(T, T): T, (T, F): T, (T, U): T, (F, T): T, (F, F): F, (F, U): U, (U, T): T, (U, F): U, (U, U): U}


@pytest.mark.parametrize(("operator", "table"), [("and", KLEENE_AND), ("or", KLEENE_OR)])
def test_kleene_tables(operator: str, table: dict[tuple[bool | None, bool | None], bool | None]) -> None:
    rule = evaluator(f"price(SPY) > 0 {operator} price(QQQ) > 0")
    for (left, right), expected in table.items():
        result = rule.evaluate({SPY: AS_INPUT[left], QQQ: AS_INPUT[right]})
        assert result.truth is expected, (left, operator, right)
        assert result.fired is (expected is True)


@pytest.mark.parametrize(("value", "expected"), [(1.0, False), (-1.0, True), (None, None)])
def test_not_of_unknown_is_unknown(value: float | None, expected: bool | None) -> None:
    result = evaluator("not (price(SPY) > 0)").evaluate({SPY: value})
    assert result.truth is expected and result.fired is (expected is True)


@pytest.mark.parametrize("operator", ["<", "<=", ">", ">=", "==", "!="])
def test_every_comparison_with_an_undefined_side_is_unknown(operator: str) -> None:
    rule = evaluator(f"price(SPY) {operator} price(QQQ)")
    assert rule.evaluate({SPY: None, QQQ: 1.0}).truth is None
    assert rule.evaluate({SPY: 1.0, QQQ: None}).truth is None
    assert rule.evaluate({SPY: 1.0, QQQ: 1.0}).truth is (operator in ("<=", ">=", "=="))


def test_unknown_rule_does_not_fire_even_when_negated_twice() -> None:
    result = evaluator("not not (price(SPY) > 1) or not (price(SPY) > 1)").evaluate({SPY: None})
    assert result.truth is None and not result.fired


# -- undefined values, arithmetic and the result -----------------------------------------------


def test_result_lists_values_in_source_order_and_the_undefined_leaves() -> None:
    rule = evaluator("price(SPY) > swing_high(SPY, 15m) and price(QQQ) < swing_low(QQQ, 15m) and price(SPY) > 0")
    result = rule.evaluate({SPY: 451.0, ("swing_high", "SPY", "15m"): Decimal("450.25"), QQQ: None,
                            ("swing_low", "QQQ", "15m"): 380})
    assert result == RuleResult(
        fired=False,
        truth=None,
        values={"price(SPY)": 451.0, "swing_high(SPY, 15m)": 450.25, "price(QQQ)": None, "swing_low(QQQ, 15m)": 380.0},
        undefined=("price(QQQ)",),
    )
    assert list(result.values) == ["price(SPY)", "swing_high(SPY, 15m)", "price(QQQ)", "swing_low(QQQ, 15m)"]
    assert all(type(value) is float for value in result.values.values() if value is not None)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, Decimal("NaN"), Decimal("Infinity"), np.nan])
def test_nan_and_infinity_are_undefined(value: float | Decimal) -> None:
    result = evaluator("price(SPY) > 0 or not (price(SPY) > 0)").evaluate({SPY: value})
    assert result.truth is None and result.undefined == ("price(SPY)",) and result.values == {"price(SPY)": None}


def test_arithmetic_with_undefined_is_undefined() -> None:
    rule = evaluator("price(SPY) - price(QQQ) > 1 or price(SPY) - price(QQQ) <= 1")
    assert rule.evaluate({SPY: 5.0, QQQ: None}).truth is None
    assert rule.evaluate({SPY: 5.0, QQQ: 3.0}).truth is True


def test_division_by_zero_at_run_time_is_undefined() -> None:
    rule = evaluator("not (price(SPY) / atr(SPY, 5m) > 2)")
    result = rule.evaluate({SPY: 10.0, ("atr", "SPY", "5m"): 0.0})
    assert result.truth is None and not result.fired
    assert result.undefined == ()  # both leaves are defined; only the quotient is not
    assert rule.evaluate({SPY: 10.0, ("atr", "SPY", "5m"): 4.0}).truth is False  # not (2.5 > 2)
    assert rule.evaluate({SPY: 10.0, ("atr", "SPY", "5m"): 8.0}).truth is True  # not (1.25 > 2)


def test_division_values_by_hand() -> None:
    rule = evaluator("price(SPY) / atr(SPY, 5m) == 2.5")
    assert rule.evaluate({SPY: 10.0, ("atr", "SPY", "5m"): 4.0}).fired
    assert not rule.evaluate({SPY: 10.0, ("atr", "SPY", "5m"): 5.0}).fired


def test_overflow_is_undefined() -> None:
    rule = evaluator("price(SPY) * price(SPY) > 0")
    assert rule.evaluate({SPY: 1e200}).truth is None
    assert rule.evaluate({SPY: 1e100}).truth is True


def test_rules_without_data() -> None:
    assert evaluator("1 + 1 == 2").evaluate({}) == RuleResult(fired=True, truth=True, values={}, undefined=())
    assert evaluator("false").evaluate({}).fired is False


def test_a_missing_requirement_is_a_caller_error() -> None:
    with pytest.raises(KeyError, match="supply every requirement"):
        evaluator("price(SPY) > 1 and price(QQQ) > 1").evaluate({SPY: 2.0})


@pytest.mark.parametrize("value", ["2", True, [1.0]])
def test_a_value_that_is_not_a_number_is_a_caller_error(value: object) -> None:
    with pytest.raises(TypeError, match="must be a number or None"):
        evaluator("price(SPY) > 1").evaluate({SPY: value})  # type: ignore[dict-item]


def test_numpy_and_integer_values_are_numbers() -> None:
    rule = evaluator("price(SPY) > 1")
    assert rule.evaluate({SPY: np.float64(2.0)}).fired and rule.evaluate({SPY: np.int64(2)}).fired
    assert rule.evaluate({SPY: 2}).values == {"price(SPY)": 2.0}

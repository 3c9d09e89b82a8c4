"""Rolling correlation: by hand, against numpy.corrcoef, incremental == batch bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from processors.rules import RollingCorrelation, RuleEvaluator, compile_rule, rolling_correlation

# Returns of A: 1%, 2%, 3%, then 0%; of B: 1%, 3%, 2%, then 1%.
CLOSES_A = [100.0, 101.0, 103.02, 106.1106, 106.1106]
CLOSES_B = [100.0, 101.0, 104.03, 106.1106, 107.171706]
# Window of bars 1..3, in percent: a = [1, 2, 3], b = [1, 3, 2]; deviations [-1, 0, 1] and [-1, 1, 0];
# co-moment 1, moments 2 and 2: r = 1 / 2 = 0.5.
# Window of bars 2..4: a = [2, 3, 0], b = [3, 2, 1]; deviations [1/3, 4/3, -5/3] and [1, 0, -1];
# co-moment 1/3 + 5/3 = 2, moments 42/9 and 2: r = 2 / sqrt(28/3) = sqrt(3/7).
EXPECTED = [None, None, None, 0.5, math.sqrt(3 / 7)]

# Hand-written closes for the numpy cross-check.
LONG_A = [100.0, 101.5, 100.8, 102.2, 103.0, 102.1, 104.4, 105.0, 104.2, 106.3, 107.1, 106.0]
LONG_B = [50.0, 50.6, 50.1, 51.0, 51.2, 50.9, 51.8, 52.3, 51.7, 52.9, 53.0, 52.6]


def incremental(closes_a: list[float], closes_b: list[float], n: int) -> list[float | None]:
    calculator = RollingCorrelation(n)
    return [calculator.update(a, b) for a, b in zip(closes_a, closes_b)]


def as_nan(values: list[float | None]) -> np.ndarray:
    return np.array([math.nan if value is None else value for value in values])


def test_correlation_by_hand() -> None:
    values = incremental(CLOSES_A, CLOSES_B, 3)
    assert values[:3] == [None, None, None]
    assert values[3] == pytest.approx(0.5, abs=1e-9)
    assert values[4] == pytest.approx(math.sqrt(3 / 7), abs=1e-9)
    np.testing.assert_allclose(rolling_correlation(CLOSES_A, CLOSES_B, 3), as_nan(EXPECTED), atol=1e-9)


def test_perfect_negative_correlation() -> None:
    # Returns of A: +10%, -10%; of B: -10%, +10%.
    assert incremental([100.0, 110.0, 99.0], [100.0, 90.0, 99.0], 2)[2] == pytest.approx(-1.0)


def test_flat_window_is_undefined() -> None:
    values = incremental([100.0, 101.0, 102.0, 101.0], [50.0, 50.0, 50.0, 50.0], 2)
    assert values == [None, None, None, None]
    assert np.isnan(rolling_correlation([100.0, 101.0, 102.0, 101.0], [50.0] * 4, 2)).all()
    # Once B moves inside the window the value is defined again.
    assert incremental([100.0, 101.0, 102.0, 101.0, 103.0], [50.0, 50.0, 50.0, 50.0, 51.0], 2)[4] is not None


def test_against_numpy_corrcoef() -> None:
    n = 4
    a, b = np.array(LONG_A), np.array(LONG_B)
    returns_a, returns_b = np.diff(a) / a[:-1], np.diff(b) / b[:-1]
    expected = [math.nan] * n + [np.corrcoef(returns_a[t - n:t], returns_b[t - n:t])[0, 1] for t in range(n, len(a))]
    batch = rolling_correlation(LONG_A, LONG_B, n)
    np.testing.assert_allclose(batch, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(as_nan(incremental(LONG_A, LONG_B, n)), expected, rtol=1e-12, atol=1e-12)
    assert np.isnan(batch[:n]).all() and not np.isnan(batch[n:]).any()


@pytest.mark.parametrize(("closes_a", "closes_b", "n"), [(CLOSES_A, CLOSES_B, 3), (LONG_A, LONG_B, 4),
                                                        (LONG_A, LONG_B, 2), (LONG_A, LONG_B, 11)])
def test_incremental_equals_batch_exactly(closes_a: list[float], closes_b: list[float], n: int) -> None:
    batch = rolling_correlation(closes_a, closes_b, n)
    np.testing.assert_array_equal(as_nan(incremental(closes_a, closes_b, n)), batch)


def test_incremental_equals_batch_exactly_on_a_long_random_walk() -> None:
    generator = np.random.default_rng(7)
    closes_a = 100.0 * np.exp(np.cumsum(generator.normal(0.0, 0.01, 600)))
    closes_b = closes_a * np.exp(generator.normal(0.0, 0.005, 600))
    values = incremental(closes_a.tolist(), closes_b.tolist(), 20)
    batch = rolling_correlation(closes_a, closes_b, 20)
    np.testing.assert_array_equal(as_nan(values), batch)
    assert 0.5 < np.nanmean(batch) < 1.0  # B is A plus noise: strongly, not perfectly, correlated


@settings(max_examples=200, deadline=None)
@given(
    bars=st.lists(st.tuples(st.floats(1.0, 1000.0), st.floats(1.0, 1000.0)), min_size=0, max_size=40),
    n=st.integers(2, 8),
)
def test_incremental_equals_batch_property(bars: list[tuple[float, float]], n: int) -> None:
    closes_a, closes_b = [a for a, _ in bars], [b for _, b in bars]
    values = incremental(closes_a, closes_b, n)
    np.testing.assert_array_equal(as_nan(values), rolling_correlation(closes_a, closes_b, n))
    assert all(-1.0 <= value <= 1.0 for value in values if value is not None)


def test_reset_and_state() -> None:
    calculator = RollingCorrelation(3)
    for a, b in zip(CLOSES_A[:4], CLOSES_B[:4]):
        calculator.update(a, b)
    assert calculator.initialized and calculator.value == pytest.approx(0.5)
    restored = RollingCorrelation(3)
    restored.load_state(calculator.to_state())
    assert restored.value == calculator.value
    assert restored.update(CLOSES_A[4], CLOSES_B[4]) == calculator.update(CLOSES_A[4], CLOSES_B[4])
    calculator.reset()
    assert not calculator.initialized and calculator.value is None
    # Bars 1..4 after the reset: 3 returns only once the 4th close is in; its window is bars 2..4.
    values = [calculator.update(a, b) for a, b in zip(CLOSES_A[1:], CLOSES_B[1:])]
    assert values[:3] == [None, None, None] and values[3] == pytest.approx(math.sqrt(3 / 7))


@pytest.mark.parametrize("n", [1, 0, -2, 2.5, True])
def test_bar_count_is_validated(n: object) -> None:
    with pytest.raises(ValueError, match="^n must"):
        RollingCorrelation(n)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^n must"):
        rolling_correlation([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], n)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "name"), [(0.0, 1.0, "close_a"), (1.0, -1.0, "close_b"), (math.nan, 1.0, "close_a")]
)
def test_prices_are_validated(a: float, b: float, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        RollingCorrelation(2).update(a, b)
    with pytest.raises(ValueError, match=name.replace("close", "closes")):
        rolling_correlation([1.0, a], [1.0, b], 2)


def test_batch_needs_equally_long_series() -> None:
    with pytest.raises(ValueError, match="equally long"):
        rolling_correlation([1.0, 2.0, 3.0], [1.0, 2.0], 2)


def test_correlation_values_feed_a_rule() -> None:
    rule = compile_rule("correlation(SPY, QQQ, 15m, 3) > 0.6", symbols={"SPY", "QQQ"})
    key = ("correlation", "SPY|QQQ", "15m")
    calculator = RollingCorrelation(rule.period(key) or 0)
    evaluator = RuleEvaluator(rule)
    results = [evaluator.evaluate({key: calculator.update(a, b)}) for a, b in zip(CLOSES_A, CLOSES_B)]
    assert [result.fired for result in results] == [False, False, False, False, True]  # 0.5, then 0.65
    assert results[0].undefined == ("correlation(SPY, QQQ, 15m, 3)",)
    assert results[4].values["correlation(SPY, QQQ, 15m, 3)"] == pytest.approx(math.sqrt(3 / 7))

"""Tick sizes and rounding, against values worked out by hand (and, for invariants, by hypothesis)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.instruments.ticks import (
    ALL_PENNY_ROOTS,
    FUTURES_SPECS,
    FuturesSpec,
    equity_tick_size,
    futures_spec,
    futures_tick_size,
    option_tick_size,
    round_to_tick,
)

D = Decimal


@pytest.mark.parametrize(("price", "tick", "expected"), [
    ("100.123", "0.01", "100.12"),
    ("100.127", "0.01", "100.13"),
    ("10.005", "0.01", "10.00"),     # half-way: to the even cent (1000 cents)
    ("10.015", "0.01", "10.02"),     # half-way: to the even cent (1002 cents)
    ("4500.37", "0.25", "4500.25"),  # 18001.48 quarters
    ("4500.375", "0.25", "4500.50"),  # 18001.5 quarters: the even one is 18002
    ("110.5078", "0.015625", "110.5"),  # ZN: 7072.4992 sixty-fourths
    ("-0.013", "0.01", "-0.01"),
    ("-0.015", "0.01", "-0.02"),     # -1.5 cents: the even one is -2
    ("-0.025", "0.01", "-0.02"),     # -2.5 cents: the even one is -2
])
def test_round_to_nearest_tick_with_ties_to_even(price: str, tick: str, expected: str) -> None:
    assert round_to_tick(D(price), D(tick)) == D(expected)


@pytest.mark.parametrize(("price", "tick", "buy", "sell"), [
    ("100.129", "0.01", "100.12", "100.13"),
    ("100.121", "0.01", "100.12", "100.13"),
    ("4500.26", "0.25", "4500.25", "4500.50"),
    ("4500.49", "0.25", "4500.25", "4500.50"),
    ("110.5078", "0.015625", "110.5", "110.515625"),
    ("0.56789", "0.0001", "0.5678", "0.5679"),
    ("-0.013", "0.01", "-0.02", "-0.01"),  # buy rounds towards minus infinity, sell towards plus
])
def test_buy_rounds_down_and_sell_rounds_up(price: str, tick: str, buy: str, sell: str) -> None:
    assert round_to_tick(D(price), D(tick), side="buy") == D(buy)
    assert round_to_tick(D(price), D(tick), side="sell") == D(sell)


@pytest.mark.parametrize("side", [None, "buy", "sell"])
def test_price_on_the_tick_is_unchanged_for_every_side(side: str | None) -> None:
    assert round_to_tick(D("4500.25"), D("0.25"), side) == D("4500.25")
    assert round_to_tick(D("-3.50"), D("0.05"), side) == D("-3.50")


def test_result_carries_the_tick_decimal_places() -> None:
    assert str(round_to_tick(D("100"), D("0.01"))) == "100.00"
    assert str(round_to_tick(D("7.3"), D("0.05"), "sell")) == "7.30"


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"price": D("1"), "tick": D("0")}, "tick"),
    ({"price": D("1"), "tick": D("-0.01")}, "tick"),
    ({"price": D("1"), "tick": D("0.01"), "side": "long"}, "side"),
    ({"price": 1.05, "tick": D("0.01")}, "price"),
    ({"price": D("1"), "tick": 0.01}, "tick"),
    ({"price": D("NaN"), "tick": D("0.01")}, "price"),
    ({"price": D("Infinity"), "tick": D("0.01")}, "price"),
])
def test_round_to_tick_refuses_bad_parameters_by_name(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        round_to_tick(**kwargs)


prices = st.decimals(min_value=D("-100000"), max_value=D("100000"), places=6, allow_nan=False, allow_infinity=False)
ticks = st.sampled_from([D("0.01"), D("0.0001"), D("0.05"), D("0.25"), D("0.015625"), D("0.10"), D("1"), D("0.03")])


@given(prices, ticks)
def test_rounded_prices_are_on_the_tick_and_within_reach(price: Decimal, tick: Decimal) -> None:
    nearest = round_to_tick(price, tick)
    buy = round_to_tick(price, tick, "buy")
    sell = round_to_tick(price, tick, "sell")
    for value in (nearest, buy, sell):
        assert value % tick == 0
    assert buy <= price < buy + tick
    assert sell - tick < price <= sell
    assert abs(nearest - price) <= tick / 2
    assert nearest in (buy, sell)


@given(prices)
def test_nearest_cent_matches_decimal_quantize(price: Decimal) -> None:
    # An independent method: Decimal's own banker's rounding to two places.
    assert round_to_tick(price, D("0.01")) == price.quantize(D("0.01"), rounding=ROUND_HALF_EVEN)


@pytest.mark.parametrize(("price", "tick"), [
    ("1.00", "0.01"), ("1", "0.01"), ("250.37", "0.01"), ("0.9999", "0.0001"), ("0.0001", "0.0001"), ("0.5", "0.0001"),
])
def test_equity_tick_size_follows_rule_612(price: str, tick: str) -> None:
    assert equity_tick_size(D(price)) == D(tick)


@pytest.mark.parametrize("price", [D("0"), D("-1")])
def test_equity_tick_size_needs_a_positive_price(price: Decimal) -> None:
    with pytest.raises(ValueError, match="price"):
        equity_tick_size(price)


@pytest.mark.parametrize(("premium", "penny", "all_penny", "tick"), [
    ("0.05", True, False, "0.01"),
    ("2.99", True, False, "0.01"),
    ("3.00", True, False, "0.05"),
    ("15.40", True, False, "0.05"),
    ("2.99", False, False, "0.05"),
    ("3.00", False, False, "0.10"),
    ("0", False, False, "0.05"),
    ("2.99", True, True, "0.01"),
    ("3.00", True, True, "0.01"),
    ("45.17", True, True, "0.01"),
])
def test_option_tick_size(premium: str, penny: bool, all_penny: bool, tick: str) -> None:
    assert option_tick_size(D(premium), penny_program=penny, all_penny=all_penny) == D(tick)


def test_all_penny_classes_are_spy_qqq_iwm_and_need_the_penny_program() -> None:
    assert ALL_PENNY_ROOTS == {"SPY", "QQQ", "IWM"}
    with pytest.raises(ValueError, match="penny_program"):
        option_tick_size(D("5"), penny_program=False, all_penny=True)
    with pytest.raises(ValueError, match="premium"):
        option_tick_size(D("-0.05"), penny_program=True)


@pytest.mark.parametrize(("root", "tick", "multiplier", "months", "tick_value"), [
    ("ES", "0.25", 50, "HMUZ", "12.50"),
    ("NQ", "0.25", 20, "HMUZ", "5.00"),
    ("CL", "0.01", 1000, "FGHJKMNQUVXZ", "10.00"),
    ("GC", "0.10", 100, "GJMQVZ", "10.00"),
    ("ZN", "0.015625", 1000, "HMUZ", "15.625"),
])
def test_futures_specs(root: str, tick: str, multiplier: int, months: str, tick_value: str) -> None:
    spec = FUTURES_SPECS[root]
    assert (spec.root, spec.tick, spec.multiplier, spec.months) == (root, D(tick), multiplier, months)
    assert spec.tick_value == D(tick_value)
    assert futures_tick_size(root) == D(tick)
    assert futures_spec(root) is spec


def test_zn_tick_is_one_sixty_fourth_and_month_numbers() -> None:
    assert futures_tick_size("ZN") * 64 == 1
    assert FUTURES_SPECS["GC"].month_numbers == (2, 4, 6, 8, 10, 12)
    assert FUTURES_SPECS["ES"].month_numbers == (3, 6, 9, 12)
    assert FUTURES_SPECS["CL"].month_numbers == tuple(range(1, 13))


def test_unknown_root_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="'XX'.*CL, ES, GC, NQ, ZN"):
        futures_spec("XX")


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"root": "es"}, "root"),
    ({"root": ""}, "root"),
    ({"tick": D("0")}, "tick"),
    ({"tick": 0.25}, "tick"),
    ({"multiplier": 0}, "multiplier"),
    ({"multiplier": 50.0}, "multiplier"),
    ({"months": "ZH"}, "months"),     # not in calendar order
    ({"months": "HHM"}, "months"),    # repeated
    ({"months": "HAM"}, "months"),    # A is no month code
    ({"months": ""}, "months"),
    ({"expiry_rule": "last_friday"}, "expiry_rule"),
])
def test_futures_spec_validates_each_field(kwargs: dict, name: str) -> None:
    fields = {"root": "ES", "tick": D("0.25"), "multiplier": 50, "months": "HMUZ"} | kwargs
    with pytest.raises(ValueError, match=name):
        FuturesSpec(**fields)

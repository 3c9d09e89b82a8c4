"""Trade P&L from fills: long and short, partial exits, several fills at different prices, charges; figures
computed by hand, and properties that hold for any round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from processors.charges import OrderCommission, charge_fill, default_charges_model
from processors.pnl import Direction, Fill, PnlError, TradePnl, average_price, trade_pnl

D = Decimal


def ns(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp()) * 1_000_000_000


def assert_all_decimal(pnl: TradePnl) -> None:
    for field in dataclasses.fields(pnl):
        value = getattr(pnl, field.name)
        assert not isinstance(value, float), field.name
        if field.name not in ("direction", "entry_quantity", "exit_quantity", "average_exit_price", "multiplier"):
            assert type(value) is Decimal, field.name


def test_long_trade_with_two_exits_and_charges() -> None:
    # Buy 100 at 10.00 (commission 1.00); sell 60 at 10.50 at the target and 40 at 9.75 at the stop, two orders,
    # on 2026-05-01: 60 shares: commission 1.00 (minimum), SEC 630 x 20.60e-6 = 0.012978 -> 0.02,
    # TAF 60 x 0.000195 = 0.0117 -> 0.02, so 1.04; 40 shares: 1.00 + SEC 0.008034 -> 0.01 + TAF 0.0078 -> 0.01 = 1.02.
    entries = [Fill(ns("2026-05-01T13:35:00+00:00"), 100, D("10.00"), D("1.00"))]
    exits = [Fill(ns("2026-05-01T15:00:00+00:00"), 60, D("10.50"), D("1.04")),
             Fill(ns("2026-05-01T16:00:00+00:00"), 40, D("9.75"), D("1.02"))]
    pnl = trade_pnl(Direction.LONG, entries, exits)
    assert pnl.realised_pnl == D("20.00")       # 60 x 0.50 - 40 x 0.25
    assert pnl.charges == D("3.06")             # 1.00 + 1.04 + 1.02
    assert pnl.net_pnl == D("16.94")
    assert pnl.net_pnl_pct == D("1.6940")       # 16.94 / 1,000.00 x 100
    assert (pnl.entry_quantity, pnl.exit_quantity, pnl.open_quantity, pnl.closed) == (100, 100, 0, True)
    assert (pnl.average_entry_price, pnl.average_exit_price) == (D("10.00"), D("10.20"))  # 1,020 / 100
    assert pnl.unrealised_pnl(D("12.00")) == D("0.00")
    assert_all_decimal(pnl)


def test_the_hand_computed_charges_are_what_charge_fill_gives() -> None:
    model, at = default_charges_model(), ns("2026-05-01T15:00:00+00:00")
    buy, _ = charge_fill(model, OrderCommission(), "BUY", 100, D("10.00"), at)
    target, _ = charge_fill(model, OrderCommission(), "SELL", 60, D("10.50"), at)
    stop, _ = charge_fill(model, OrderCommission(), "SELL", 40, D("9.75"), at)
    assert (buy.total, target.total, stop.total) == (D("1.00"), D("1.04"), D("1.02"))


def test_short_trade_covered_in_two_fills_of_one_order() -> None:
    # Sell short 200 at 50.00 on 2026-05-01: commission 1.00, SEC 10,000 x 20.60e-6 = 0.206 -> 0.21,
    # TAF 200 x 0.000195 = 0.039 -> 0.04, so 1.25. Buy back 120 then 80 at 48.50 in one order: commission
    # 1.00 then 0.00 (200 x 0.005 = 1.00 for the order); purchases pay no regulatory fee.
    entries = [Fill(ns("2026-05-01T14:00:00+00:00"), 200, D("50.00"), D("1.25"))]
    exits = [Fill(ns("2026-05-01T18:00:00+00:00"), 120, D("48.50"), D("1.00")),
             Fill(ns("2026-05-01T18:00:01+00:00"), 80, D("48.50"), D("0.00"))]
    pnl = trade_pnl("short", entries, exits)
    assert pnl.realised_pnl == D("300.00")      # (50.00 - 48.50) x 200
    assert pnl.charges == D("2.25")
    assert pnl.net_pnl == D("297.75")
    assert pnl.net_pnl_pct == D("2.9775")       # 297.75 / 10,000.00 x 100
    assert_all_decimal(pnl)


def test_losing_short_trade() -> None:
    pnl = trade_pnl(Direction.SHORT, [Fill(0, 100, D("20.00"), D("1.03"))], [Fill(1, 100, D("21.37"), D("1.00"))])
    assert (pnl.realised_pnl, pnl.net_pnl, pnl.net_pnl_pct) == (D("-137.00"), D("-139.03"), D("-6.9515"))


def test_several_entry_fills_and_a_partial_exit() -> None:
    # Buy 100 at 10.00 and 200 at 10.01: 3,002.00 for 300 shares, average 10.006666...; sell 100 at 10.50.
    entries = [Fill(0, 100, D("10.00")), Fill(1, 200, D("10.01"))]
    pnl = trade_pnl(Direction.LONG, entries, [Fill(2, 100, D("10.50"))])
    assert pnl.average_entry_price == D("10.00666667")     # does not terminate: 8 places
    assert pnl.realised_pnl == D("49.33")                   # 1,050.00 - 3,002.00 x 100 / 300 (1,000.666... -> 1,000.67)
    assert (pnl.open_quantity, pnl.closed) == (200, False)
    # at 10.00 the trade is worth 1,050.00 + 2,000.00 - 3,002.00 = 48.00 in all; the open shares take the rest
    assert pnl.total_pnl_at(D("10.00")) == D("48.00")
    assert pnl.unrealised_pnl(D("10.00")) == D("-1.33")
    assert pnl.net_pnl_pct == D("1.6432")                   # 49.33 / 3,002.00 x 100 = 1.64323...


def test_partial_exit_that_divides_exactly() -> None:
    pnl = trade_pnl(Direction.LONG, [Fill(0, 300, D("10.01"), D("1.50"))], [Fill(1, 100, D("10.50"), D("1.03"))])
    assert pnl.realised_pnl == D("49.00")                   # 1,050.00 - 1,001.00
    assert pnl.net_pnl == D("46.47")                        # less the charges of every fill so far
    assert pnl.unrealised_pnl(D("10.02")) == D("2.00")      # 200 x (10.02 - 10.01)


def test_sub_penny_prices_stay_exact() -> None:
    pnl = trade_pnl(Direction.LONG, [Fill(0, 1000, D("0.1234"))], [Fill(1, 1000, D("0.1301"))])
    assert pnl.realised_pnl == D("6.7000")
    assert pnl.entry_value == D("123.4000")


def test_an_open_trade_without_exits() -> None:
    pnl = trade_pnl(Direction.LONG, [Fill(0, 100, D("10.00"), D("1.00"))])
    assert (pnl.realised_pnl, pnl.net_pnl, pnl.average_exit_price) == (D("0.00"), D("-1.00"), None)
    assert pnl.unrealised_pnl(D("10.25")) == D("25.00")


def test_average_price() -> None:
    assert average_price([Fill(0, 60, D("10.50")), Fill(1, 40, D("9.75"))]) == D("10.20")
    assert average_price([Fill(0, 1, D("10")), Fill(1, 2, D("10.01"))]) == D("10.00666667")
    with pytest.raises(PnlError):
        average_price([])


@pytest.mark.parametrize(("entries", "exits", "message"), [
    ([], [], "at least one entry"),
    ([Fill(0, 100, D("10"))], [Fill(1, 101, D("11"))], "exits of 101 shares exceed the entries of 100"),
])
def test_fills_that_are_not_a_trade(entries: list[Fill], exits: list[Fill], message: str) -> None:
    with pytest.raises(PnlError, match=message):
        trade_pnl(Direction.LONG, entries, exits)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"quantity": 100, "price": 10.0}, "price must be a finite Decimal, not 10.0"),
    ({"quantity": 0, "price": D("10")}, "quantity must be a positive int"),
    ({"quantity": 1.5, "price": D("10")}, "quantity must be a positive int"),
    ({"quantity": 100, "price": D("-1")}, "price must be positive"),
    ({"quantity": 100, "price": D("10"), "charges": D("-0.01")}, "charges must not be negative"),
    ({"quantity": 100, "price": D("10"), "charges": 1.0}, "charges must be a finite Decimal"),
])
def test_a_bad_fill_is_refused_naming_the_field(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(PnlError, match=message):
        Fill(ts_event=0, **kwargs)  # type: ignore[arg-type]


def test_bad_direction_and_mark() -> None:
    with pytest.raises(PnlError, match="direction must be long or short"):
        trade_pnl("sideways", [Fill(0, 1, D("1"))])
    with pytest.raises(PnlError, match="mark_price"):
        trade_pnl("long", [Fill(0, 1, D("1"))]).unrealised_pnl(1.0)  # type: ignore[arg-type]


prices = st.decimals(min_value=D("0.0001"), max_value=D("5000"), places=4)
quantities = st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=6)


@st.composite
def round_trips(draw: st.DrawFn) -> tuple[list[Fill], list[Fill]]:
    """Entry fills, and exit fills of exactly the same total quantity cut at random points."""
    entries = [Fill(i, q, draw(prices)) for i, q in enumerate(draw(quantities))]
    total = sum(fill.quantity for fill in entries)
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=total - 1), max_size=5))) if total > 1 else []
    sizes = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
    return entries, [Fill(100 + i, q, draw(prices)) for i, q in enumerate(sizes)]


@given(round_trips(), st.sampled_from(Direction))
def test_round_trip_without_charges_is_the_sum_of_price_differences(trip: tuple[list[Fill], list[Fill]],
                                                                     direction: Direction) -> None:
    entries, exits = trip
    pnl = trade_pnl(direction, entries, exits)
    moved = sum((f.quantity * f.price for f in exits), D(0)) - sum((f.quantity * f.price for f in entries), D(0))
    assert pnl.realised_pnl == direction.sign * moved
    assert pnl.net_pnl == pnl.realised_pnl and pnl.charges == 0
    assert pnl.closed and pnl.entry_quantity == pnl.exit_quantity == sum(f.quantity for f in exits)
    assert_all_decimal(pnl)


@given(prices, prices, st.integers(min_value=1, max_value=100_000), st.sampled_from(Direction))
def test_one_price_each_way(entry: Decimal, exit_: Decimal, quantity: int, direction: Direction) -> None:
    pnl = trade_pnl(direction, [Fill(0, quantity, entry)], [Fill(1, quantity, exit_)])
    assert pnl.realised_pnl == direction.sign * (exit_ - entry) * quantity


@given(round_trips(), st.sampled_from(Direction), st.data(), prices)
def test_realised_and_unrealised_add_up_to_the_total(trip: tuple[list[Fill], list[Fill]], direction: Direction,
                                                     data: st.DataObject, mark: Decimal) -> None:
    entries, exits = trip
    kept = exits[:data.draw(st.integers(min_value=0, max_value=len(exits)))]
    pnl = trade_pnl(direction, entries, kept)
    assert pnl.realised_pnl + pnl.unrealised_pnl(mark) == pnl.total_pnl_at(mark)
    open_quantity = sum(f.quantity for f in entries) - sum(f.quantity for f in kept)
    assert pnl.open_quantity == open_quantity
    # the unrealised part is (mark - average entry) x open shares, to within the cent that rounding may move
    exact = direction.sign * (mark - sum((f.value for f in entries), D(0)) / pnl.entry_quantity) * open_quantity
    assert abs(pnl.unrealised_pnl(mark) - exact) <= D("0.01")
    assert type(pnl.unrealised_pnl(mark)) is Decimal


def test_an_option_trade_counts_its_contract_multiplier() -> None:
    # Buy 3 contracts at 2.15, sell 2 at 2.60 and mark the last at 2.40, 100 shares each: realised
    # 2 x 100 x (2.60 - 2.15) = 90.00; entry value 3 x 100 x 2.15 = 645.00; charges 1.95 + 1.30 = 3.25.
    entries = [Fill(1, 3, D("2.15"), D("1.95"))]
    exits = [Fill(2, 2, D("2.60"), D("1.30"))]
    pnl = trade_pnl(Direction.LONG, entries, exits, multiplier=100)
    assert (pnl.entry_value, pnl.exit_value, pnl.realised_pnl, pnl.charges, pnl.net_pnl) == (
        D("645.00"), D("520.00"), D("90.00"), D("3.25"), D("86.75"))
    assert (pnl.average_entry_price, pnl.average_exit_price) == (D("2.15"), D("2.60"))
    assert pnl.unrealised_pnl(D("2.40")) == D("25.00")        # 1 x 100 x (2.40 - 2.15)
    with pytest.raises(PnlError, match="multiplier"):
        trade_pnl(Direction.LONG, entries, exits, multiplier=0)

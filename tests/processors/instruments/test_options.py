"""Option contracts, chains, expiry and strike selection, against values worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from processors.csvio import CsvFormatError
from processors.instruments.options import (
    CategorySplit,
    OptionChain,
    OptionContract,
    StrikeCategory,
    chain_from_csv,
    monthly_expiry,
    occ_symbol,
    parse_occ_symbol,
    select_expiry,
    select_strike,
)

D = Decimal
DEC_2026 = dt.date(2026, 12, 18)
# 570, 575, … 630: thirteen strikes, index 6 is 600.
LADDER = [D(strike) for strike in range(570, 631, 5)]


def make_chain(strikes: list[Decimal] = LADDER, expiry: dt.date = DEC_2026, underlying: str = "SPY") -> OptionChain:
    return OptionChain(OptionContract(underlying, expiry, strike, right)
                       for strike in strikes for right in ("call", "put"))


CHAIN = make_chain()


def strike(category: str, right: str, price: str, split: CategorySplit = CategorySplit(),
           chain: OptionChain = CHAIN) -> Decimal:
    return select_strike(chain, D(price), right, category, DEC_2026, split).strike


# OCC symbols -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("contract", "symbol"), [
    (OptionContract("SPY", dt.date(2026, 12, 18), D("600"), "call"), "SPY   261218C00600000"),
    (OptionContract("AAPL", dt.date(2025, 1, 17), D("142.5"), "put"), "AAPL  250117P00142500"),
    (OptionContract("F", dt.date(2027, 6, 4), D("0.5"), "call"), "F     270604C00000500"),
    (OptionContract("GOOGL1", dt.date(2030, 2, 1), D("99999.999"), "put"), "GOOGL1300201P99999999"),
    (OptionContract("NDX", dt.date(2025, 3, 21), D("20125.00"), "call"), "NDX   250321C20125000"),
])
def test_occ_symbol(contract: OptionContract, symbol: str) -> None:
    assert contract.symbol == symbol
    assert contract.occ_symbol() == symbol
    assert len(symbol) == 21
    assert occ_symbol(contract.underlying, contract.expiry, contract.right, contract.strike) == symbol
    assert parse_occ_symbol(symbol) == contract


def test_parse_occ_symbol_fields() -> None:
    contract = parse_occ_symbol("AAPL  250117P00142500", multiplier=10)
    assert (contract.underlying, contract.expiry, contract.strike, contract.right, contract.multiplier) == \
        ("AAPL", dt.date(2025, 1, 17), D("142.5"), "put", 10)
    assert parse_occ_symbol("XYZ   991231C00001000").expiry == dt.date(2099, 12, 31)


@pytest.mark.parametrize("symbol", [
    "SPY 261218C00600000",      # root not padded to 6
    "SPY   261218X00600000",    # right not C/P
    "SPY   261318C00600000",    # month 13
    "spy   261218C00600000",    # lower case
    "      261218C00600000",    # no root
    "SPY   261218C0060000",     # 7 strike digits
])
def test_parse_occ_symbol_refuses_malformed(symbol: str) -> None:
    with pytest.raises(ValueError, match="symbol"):
        parse_occ_symbol(symbol)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"underlying": "spy"}, "underlying"),
    ({"underlying": "TOOLONG"}, "underlying"),
    ({"underlying": "BRK.B"}, "underlying"),
    ({"expiry": dt.datetime(2026, 12, 18, 16)}, "expiry"),
    ({"expiry": dt.date(1999, 12, 17)}, "expiry"),
    ({"strike": D("600.0005")}, "strike"),
    ({"strike": D("0")}, "strike"),
    ({"strike": D("100000")}, "strike"),
    ({"strike": 600.0}, "strike"),
    ({"right": "C"}, "right"),
    ({"multiplier": 0}, "multiplier"),
])
def test_option_contract_validates_each_field(kwargs: dict, name: str) -> None:
    fields = {"underlying": "SPY", "expiry": DEC_2026, "strike": D("600"), "right": "call"} | kwargs
    with pytest.raises(ValueError, match=name):
        OptionContract(**fields)


def test_option_contract_is_immutable_and_hashable() -> None:
    contract = OptionContract("SPY", DEC_2026, D("600"), "call")
    with pytest.raises(AttributeError):
        contract.strike = D("605")  # type: ignore[misc]
    assert {contract, OptionContract("SPY", DEC_2026, D("600.00"), "call")} == {contract}


# Chains ------------------------------------------------------------------------------------------

CSV_TEXT = """underlying,expiry,strike,right
SPY,2026-12-18,600,call
SPY,2026-12-18,595,C

SPY,2026-12-18,605,call
SPY,2026-12-18,600,P
SPY,2027-01-15,600,put
"""


def test_chain_from_csv() -> None:
    chain = chain_from_csv(CSV_TEXT)
    assert chain.underlying == "SPY"
    assert len(chain) == 5
    assert chain.expiries == (DEC_2026, dt.date(2027, 1, 15))
    assert chain.strikes(DEC_2026, "call") == (D("595"), D("600"), D("605"))
    assert chain.strikes(DEC_2026, "put") == (D("600"),)
    assert chain.strikes(dt.date(2027, 1, 15), "call") == ()
    assert chain.contract(dt.date(2027, 1, 15), D("600"), "put").symbol == "SPY   270115P00600000"
    assert [contract.symbol for contract in chain][:2] == ["SPY   261218C00595000", "SPY   261218C00600000"]


def test_chain_from_csv_reads_a_multiplier_column_in_any_column_order() -> None:
    chain = chain_from_csv("right,strike,expiry,underlying,multiplier\n"
                           "put,142.5,2025-01-17,AAPL,10\n"
                           "call,145,2025-01-17,AAPL,\n")
    assert [(c.strike, c.right, c.multiplier) for c in chain] == [(D("145"), "call", 100), (D("142.5"), "put", 10)]


@pytest.mark.parametrize(("text", "message"), [
    ("underlying,expiry,strike\nSPY,2026-12-18,600\n", "header lacks column.*right"),
    ("underlying,expiry,strike,right\nSPY,2026-12-18,600,call\nSPY,2026-12-18,605,straddle\n", "line 3, column right"),
    ("underlying,expiry,strike,right\nSPY,18/12/2026,600,call\n", "line 2, column expiry"),
    ("underlying,expiry,strike,right\nSPY,2026-12-18,six hundred,call\n", "line 2, column strike"),
    ("underlying,expiry,strike,right\nSPY,2026-12-18,600.0001,call\n", "line 2: strike"),
    ("underlying,expiry,strike,right\n", "no contract rows"),
])
def test_chain_from_csv_errors_name_line_and_column(text: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message):
        chain_from_csv(text)


def test_chain_refuses_duplicates_mixed_underlyings_and_emptiness() -> None:
    contract = OptionContract("SPY", DEC_2026, D("600"), "call")
    with pytest.raises(ValueError, match="duplicate: SPY   261218C00600000"):
        OptionChain([contract, OptionContract("SPY", DEC_2026, D("600.0"), "call")])
    with pytest.raises(ValueError, match="one underlying: SPY and QQQ"):
        OptionChain([contract, OptionContract("QQQ", DEC_2026, D("600"), "call")])
    with pytest.raises(ValueError, match="contracts must not be empty"):
        OptionChain([])


# Expiry selection --------------------------------------------------------------------------------

GOOD_FRIDAY_2025 = dt.date(2025, 4, 18)
# Listed around April 2025: weeklies, the Thursday monthly before Good Friday, May's and June's monthlies.
EXPIRIES = [dt.date(2025, 4, 4), dt.date(2025, 4, 11), dt.date(2025, 4, 17), dt.date(2025, 4, 25),
            dt.date(2025, 5, 2), dt.date(2025, 5, 16), dt.date(2025, 6, 20)]


def test_monthly_expiry_is_the_third_friday_or_the_thursday_before_a_holiday() -> None:
    assert monthly_expiry(2025, 5) == dt.date(2025, 5, 16)
    assert monthly_expiry(2025, 4) == GOOD_FRIDAY_2025
    assert monthly_expiry(2025, 4, {GOOD_FRIDAY_2025}) == dt.date(2025, 4, 17)
    assert monthly_expiry(2026, 12) == DEC_2026


@pytest.mark.parametrize(("as_of", "min_days", "expected"), [
    (dt.date(2025, 4, 1), 0, dt.date(2025, 4, 17)),    # Good Friday: April's monthly is the Thursday
    (dt.date(2025, 4, 17), 0, dt.date(2025, 4, 17)),   # expiring today still qualifies with min_days=0
    (dt.date(2025, 4, 17), 1, dt.date(2025, 5, 16)),
    (dt.date(2025, 4, 1), 30, dt.date(2025, 5, 16)),   # on or after 2025-05-01
    (dt.date(2025, 4, 1), 45, dt.date(2025, 5, 16)),   # on or after 2025-05-16: exactly 45 days
    (dt.date(2025, 4, 1), 46, dt.date(2025, 6, 20)),
])
def test_select_monthly_expiry(as_of: dt.date, min_days: int, expected: dt.date) -> None:
    assert select_expiry(EXPIRIES, as_of, "monthly", min_days, holidays={GOOD_FRIDAY_2025}) == expected


def test_monthly_selection_needs_the_holiday_to_recognise_the_thursday() -> None:
    # Without the holiday the Thursday 2025-04-17 is an ordinary weekly, so April has no listed monthly.
    assert select_expiry(EXPIRIES, dt.date(2025, 4, 1), "monthly") == dt.date(2025, 5, 16)


@pytest.mark.parametrize(("as_of", "min_days", "expected"), [
    (dt.date(2025, 4, 1), 0, dt.date(2025, 4, 4)),
    (dt.date(2025, 4, 4), 0, dt.date(2025, 4, 4)),
    (dt.date(2025, 4, 4), 1, dt.date(2025, 4, 11)),
    (dt.date(2025, 4, 1), 7, dt.date(2025, 4, 11)),    # on or after 2025-04-08
    (dt.date(2025, 4, 12), 0, dt.date(2025, 4, 17)),   # weeklies include the monthly
    (dt.date(2025, 4, 1), 30, dt.date(2025, 5, 2)),
])
def test_select_weekly_expiry(as_of: dt.date, min_days: int, expected: dt.date) -> None:
    assert select_expiry(EXPIRIES, as_of, "weekly", min_days) == expected


def test_select_expiry_accepts_a_chain_and_unordered_input() -> None:
    assert select_expiry(reversed(EXPIRIES), dt.date(2025, 4, 5), "weekly") == dt.date(2025, 4, 11)
    assert select_expiry(CHAIN.expiries, dt.date(2026, 12, 1), "monthly") == DEC_2026


def test_select_expiry_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match=r"no monthly expiry on or after 2025-06-21 \(0 days after as_of 2025-06-21\)"
                                         r" among the 7 listed expiries \(2025-04-04 to 2025-06-20\)"):
        select_expiry(EXPIRIES, dt.date(2025, 6, 21), "monthly")
    with pytest.raises(ValueError, match="no weekly expiry on or after 2025-07-10"):
        select_expiry(EXPIRIES, dt.date(2025, 4, 1), "weekly", min_days=100)
    with pytest.raises(ValueError, match="expiries is empty"):
        select_expiry([], dt.date(2025, 4, 1), "weekly")


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"kind": "quarterly"}, "kind"),
    ({"min_days": -1}, "min_days"),
    ({"min_days": 1.5}, "min_days"),
    ({"as_of": "2025-04-01"}, "as_of"),
    ({"expiries": ["2025-04-04"]}, "expiries"),
    ({"holidays": {"2025-04-18"}}, "holidays"),
])
def test_select_expiry_validates_parameters(kwargs: dict, name: str) -> None:
    arguments = {"expiries": EXPIRIES, "as_of": dt.date(2025, 4, 1), "kind": "weekly"} | kwargs
    with pytest.raises(ValueError, match=name):
        select_expiry(**arguments)


# Strike selection, count split --------------------------------------------------------------------

@pytest.mark.parametrize(("category", "call", "put"), [
    ("ATM", "600", "600"),
    ("ITM", "595", "605"),
    ("OTM", "605", "595"),
    ("DITM", "575", "625"),
    ("DOTM", "625", "575"),
])
def test_every_category_for_calls_and_puts(category: str, call: str, put: str) -> None:
    # Price 601: ATM 600 (index 6); one strike and five strikes either way along the ladder.
    assert strike(category, "call", "601") == D(call)
    assert strike(category, "put", "601") == D(put)


def test_select_strike_returns_the_contract() -> None:
    contract = select_strike(CHAIN, D("601"), "put", StrikeCategory.DITM, DEC_2026)
    assert contract == OptionContract("SPY", DEC_2026, D("625"), "put")
    assert contract.symbol == "SPY   261218P00625000"


def test_atm_tie_goes_to_the_lower_strike_for_calls_and_the_higher_for_puts() -> None:
    # 602.50 is exactly half-way between 600 and 605.
    assert strike("ATM", "call", "602.50") == D("600")
    assert strike("ATM", "put", "602.50") == D("605")
    # The categories step from that ATM strike.
    assert strike("ITM", "call", "602.50") == D("595")
    assert strike("ITM", "put", "602.50") == D("610")
    assert strike("OTM", "call", "602.50") == D("605")
    assert strike("OTM", "put", "602.50") == D("600")
    # Just off the middle, both rights agree.
    assert strike("ATM", "call", "602.51") == strike("ATM", "put", "602.51") == D("605")
    assert strike("ATM", "call", "602.49") == strike("ATM", "put", "602.49") == D("600")


def test_price_on_a_strike_and_beyond_the_ladder() -> None:
    assert strike("ATM", "call", "615") == D("615")
    assert strike("ATM", "put", "700") == D("630")
    assert strike("ATM", "call", "1") == D("570")


def test_custom_counts_and_uneven_ladders_step_along_listed_strikes() -> None:
    split = CategorySplit(itm_strikes=2, otm_strikes=3, deep_strikes=4)
    assert strike("ITM", "call", "601", split) == D("590")
    assert strike("OTM", "call", "601", split) == D("615")
    assert strike("DITM", "put", "601", split) == D("620")
    assert strike("DOTM", "put", "601", split) == D("580")
    uneven = make_chain([D("580"), D("590"), D("595"), D("600"), D("602.5"), D("610"), D("625")])
    assert strike("ATM", "call", "601", chain=uneven) == D("600")
    assert strike("OTM", "call", "601", chain=uneven) == D("602.5")
    assert strike("OTM", "put", "601", split, chain=uneven) == D("580")
    assert strike("ITM", "put", "601", split, chain=uneven) == D("610")


@pytest.mark.parametrize(("category", "right", "price", "message"), [
    ("DITM", "call", "577",
     "ladder too short for DITM call: it needs 5 strikes below the ATM strike 575 for 2026-12-18, "
     "but only 1 are listed"),
    ("DOTM", "put", "577", "ladder too short for DOTM put: it needs 5 strikes below the ATM strike 575"),
    ("DOTM", "call", "618",
     "ladder too short for DOTM call: it needs 5 strikes above the ATM strike 620 .* only 2 are listed"),
    ("DITM", "put", "618", "ladder too short for DITM put: it needs 5 strikes above"),
    ("ITM", "call", "569", "ladder too short for ITM call: it needs 1 strikes below the ATM strike 570 .* only 0"),
    ("OTM", "put", "569", "ladder too short for OTM put"),
])
def test_short_ladder_is_a_clear_error(category: str, right: str, price: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        strike(category, right, price)


def test_short_ladder_near_the_end_still_serves_the_near_categories() -> None:
    assert strike("ITM", "call", "577") == D("570")
    assert strike("DOTM", "call", "577") == D("600")
    assert strike("ITM", "put", "618") == D("625")


# Strike selection, percent split ------------------------------------------------------------------

PERCENT = CategorySplit(mode="percent", itm_pct=D("0.02"), otm_pct=D("0.03"), deep_pct=D("0.05"))


@pytest.mark.parametrize(("category", "call", "put"), [
    ("ATM", "600", "600"),
    ("ITM", "590", "610"),    # call target 588 (590 is 2 away, 585 is 3); put target 612
    ("OTM", "620", "580"),    # call target 618 (620 is 2 away, 615 is 3); put target 582
    ("DITM", "570", "630"),   # targets 570 and 630, on the ends of the ladder
    ("DOTM", "630", "570"),
])
def test_percent_split_for_calls_and_puts(category: str, call: str, put: str) -> None:
    assert strike(category, "call", "600", PERCENT) == D(call)
    assert strike(category, "put", "600", PERCENT) == D(put)


def test_percent_split_ties_follow_the_atm_rule() -> None:
    split = CategorySplit(mode="percent", itm_pct=D("0.0125"), otm_pct=D("0.0125"), deep_pct=D("0.05"))
    # Call ITM target 600 × 0.9875 = 592.5, half-way between 590 and 595: the lower for a call.
    assert strike("ITM", "call", "600", split) == D("590")
    # Put ITM target 607.5, half-way between 605 and 610: the higher for a put.
    assert strike("ITM", "put", "600", split) == D("610")
    # Call OTM target 607.5: the lower, 605; put OTM target 592.5: the higher, 595.
    assert strike("OTM", "call", "600", split) == D("605")
    assert strike("OTM", "put", "600", split) == D("595")


def test_percent_itm_and_otm_stay_on_their_side_of_the_price() -> None:
    split = CategorySplit(mode="percent", itm_pct=D("0.001"), otm_pct=D("0.001"), deep_pct=D("0.05"))
    # Price 604.40: the call ITM target 603.7956 is nearer 605, but 605 is out of the money for a call.
    assert strike("ITM", "call", "604.40", split) == D("600")
    # Price 600.60: the call OTM target 601.2006 is nearer 600, which is in the money.
    assert strike("OTM", "call", "600.60", split) == D("605")
    assert strike("ITM", "put", "600.60", split) == D("605")
    assert strike("OTM", "put", "604.40", split) == D("600")


def test_percent_target_beyond_the_ladder_is_a_clear_error() -> None:
    wide = CategorySplit(mode="percent", itm_pct=D("0.02"), otm_pct=D("0.03"), deep_pct=D("0.10"))
    # DITM call target 540: below 570 by more than half the 5-point interval.
    with pytest.raises(ValueError, match=r"ladder too short for DITM call: the target strike 540\.00 .*\(570 to 630\)"):
        strike("DITM", "call", "600", wide)
    with pytest.raises(ValueError, match="ladder too short for DITM put: the target strike 660"):
        strike("DITM", "put", "600", wide)
    # Within half an interval beyond the end is still the end strike: 600 × 0.9459 = 567.54 → 570.
    near = CategorySplit(mode="percent", itm_pct=D("0.02"), otm_pct=D("0.03"), deep_pct=D("0.0541"))
    assert strike("DITM", "call", "600", near) == D("570")
    # No listed strike on the in-the-money side at all.
    with pytest.raises(ValueError, match="ladder too short for ITM call"):
        strike("ITM", "call", "570", PERCENT)


# Parameter validation ----------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"mode": "pct"}, "mode"),
    ({"itm_strikes": 0}, "itm_strikes"),
    ({"otm_strikes": -1}, "otm_strikes"),
    ({"deep_strikes": 2.0}, "deep_strikes"),
    ({"itm_strikes": True}, "itm_strikes"),
    ({"itm_strikes": 5}, r"deep_strikes \(5\) must be greater than itm_strikes \(5\)"),
    ({"otm_strikes": 6}, r"deep_strikes \(5\) must be greater than otm_strikes \(6\)"),
    ({"itm_pct": D("0.02")}, "itm_pct is only used with mode='percent'"),
    ({"mode": "percent", "itm_pct": D("0.02"), "otm_pct": D("0.02")}, "deep_pct is required"),
    ({"mode": "percent", "otm_pct": D("0.02"), "deep_pct": D("0.05")}, "itm_pct is required"),
    ({"mode": "percent", "itm_pct": D("2"), "otm_pct": D("0.02"), "deep_pct": D("0.05")}, "itm_pct must be a fraction"),
    ({"mode": "percent", "itm_pct": D("0"), "otm_pct": D("0.02"), "deep_pct": D("0.05")}, "itm_pct must be a fraction"),
    ({"mode": "percent", "itm_pct": 0.02, "otm_pct": D("0.02"), "deep_pct": D("0.05")}, "itm_pct"),
    ({"mode": "percent", "itm_pct": D("0.02"), "otm_pct": D("0.05"), "deep_pct": D("0.05")},
     "deep_pct .* must be greater than otm_pct"),
    ({"mode": "percent", "itm_pct": D("0.02"), "otm_pct": D("0.02"), "deep_pct": D("0.05"), "deep_strikes": 3},
     "deep_strikes is only used with mode='count'"),
])
def test_category_split_validates_each_parameter(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CategorySplit(**kwargs)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chain": [OptionContract("SPY", DEC_2026, D("600"), "call")]}, "chain"),
    ({"underlying_price": D("0")}, "underlying_price"),
    ({"underlying_price": 601.0}, "underlying_price"),
    ({"right": "C"}, "right"),
    ({"category": "NTM"}, "category"),
    ({"expiry": dt.date(2026, 12, 19)}, "expiry 2026-12-19 is not listed for SPY; listed: 2026-12-18"),
    ({"split": {"itm_strikes": 2}}, "split"),
])
def test_select_strike_validates_each_parameter(kwargs: dict, message: str) -> None:
    arguments = {"chain": CHAIN, "underlying_price": D("601"), "right": "call", "category": "ITM",
                 "expiry": DEC_2026, "split": CategorySplit()} | kwargs
    with pytest.raises(ValueError, match=message):
        select_strike(**arguments)


def test_category_accepts_lower_case_names_and_a_right_missing_from_an_expiry() -> None:
    assert strike("ditm", "call", "601") == D("575")
    calls_only = OptionChain([OptionContract("SPY", DEC_2026, D("600"), "call")])
    with pytest.raises(ValueError, match="SPY lists no puts expiring 2026-12-18"):
        select_strike(calls_only, D("600"), "put", "ATM", DEC_2026)

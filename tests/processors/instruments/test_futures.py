"""Futures symbols, last trading days, rolls and continuous series, against values worked out by hand.

Last trading days are derived from the exchange rules stated in `processors/instruments/futures.py`
with U.S. holidays of the year; each case below spells out the count.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from processors.instruments.futures import (
    FuturesContract,
    Roll,
    RollRule,
    contract_symbol,
    continuous_series,
    expiry_date,
    month_code,
    month_from_code,
    parse_contract_symbol,
    roll_schedule,
)
from processors.instruments.ticks import FUTURES_SPECS, FuturesSpec

D = Decimal
ES, NQ, CL, GC, ZN = (FUTURES_SPECS[root] for root in ("ES", "NQ", "CL", "GC", "ZN"))
CHRISTMAS_2025 = dt.date(2025, 12, 25)


# Month codes and symbols -------------------------------------------------------------------------

def test_month_codes_round_trip() -> None:
    assert [month_code(month) for month in range(1, 13)] == list("FGHJKMNQUVXZ")
    assert [month_from_code(code) for code in "FGHJKMNQUVXZ"] == list(range(1, 13))
    with pytest.raises(ValueError, match="month"):
        month_code(13)
    with pytest.raises(ValueError, match="code"):
        month_from_code("A")


@pytest.mark.parametrize(("root", "year", "month", "symbol"), [
    ("ES", 2026, 12, "ESZ6"), ("ES", 2025, 3, "ESH5"), ("CL", 2026, 1, "CLF6"), ("GC", 2030, 8, "GCQ0"),
    ("ZN", 2029, 9, "ZNU9"), ("6E", 2025, 6, "6EM5"),
])
def test_contract_symbol(root: str, year: int, month: int, symbol: str) -> None:
    assert contract_symbol(root, year, month) == symbol
    assert FuturesContract(root, year, month).symbol == symbol
    assert parse_contract_symbol(symbol, earliest_year=year - 9) == FuturesContract(root, year, month)
    assert parse_contract_symbol(symbol, earliest_year=year) == FuturesContract(root, year, month)


def test_symbols_round_trip_over_a_decade_of_every_month() -> None:
    for root in ("ES", "CL", "6E", "M2K"):
        for year in range(2024, 2034):
            for month in range(1, 13):
                symbol = contract_symbol(root, year, month)
                assert parse_contract_symbol(symbol, earliest_year=2024) == FuturesContract(root, year, month)


def test_one_digit_year_resolves_from_the_earliest_year() -> None:
    assert parse_contract_symbol("ESZ5", earliest_year=2020).year == 2025
    assert parse_contract_symbol("ESZ5", earliest_year=2025).year == 2025
    assert parse_contract_symbol("ESZ5", earliest_year=2026).year == 2035
    assert parse_contract_symbol("ESZ0", earliest_year=2026).year == 2030
    assert parse_contract_symbol("ESZ25", earliest_year=2000).year == 2025
    assert parse_contract_symbol("ESZ25", earliest_year=2026).year == 2125


@pytest.mark.parametrize("symbol", ["ESA5", "ES", "esz5", "ESZ", "ESZ123", "Z5", ""])
def test_parse_contract_symbol_refuses_malformed(symbol: str) -> None:
    with pytest.raises(ValueError, match="symbol"):
        parse_contract_symbol(symbol, earliest_year=2020)


def test_contract_symbol_validates() -> None:
    with pytest.raises(ValueError, match="root"):
        contract_symbol("es", 2025, 12)
    with pytest.raises(ValueError, match="month"):
        contract_symbol("ES", 2025, 0)
    with pytest.raises(ValueError, match="year"):
        contract_symbol("ES", "2025", 12)  # type: ignore[arg-type]


# Last trading days -------------------------------------------------------------------------------

@pytest.mark.parametrize(("spec", "year", "month", "holidays", "expected"), [
    # December 2025 Fridays: 5, 12, 19.
    (ES, 2025, 12, {CHRISTMAS_2025}, dt.date(2025, 12, 19)),
    # March 2026 Fridays: 6, 13, 20.
    (ES, 2026, 3, set(), dt.date(2026, 3, 20)),
    # September 2025 Fridays: 5, 12, 19.
    (NQ, 2025, 9, set(), dt.date(2025, 9, 19)),
    # Good Friday 2008 was 21 March, the third Friday: the March 2008 contracts expired Thursday the 20th.
    (ES, 2008, 3, {dt.date(2008, 3, 21)}, dt.date(2008, 3, 20)),
])
def test_equity_index_futures_expire_on_the_third_friday(spec: FuturesSpec, year: int, month: int,
                                                         holidays: set[dt.date], expected: dt.date) -> None:
    assert expiry_date(spec, year, month, holidays) == expected


@pytest.mark.parametrize(("year", "month", "holidays", "expected"), [
    # CLZ5: the 25th of November 2025 is a Tuesday, a business day; 3 back over 24, 21, 20.
    (2025, 12, {dt.date(2025, 11, 27)}, dt.date(2025, 11, 20)),
    # CLF6: 25 December 2025 is Christmas; the business day before is the 24th; 3 back over 23, 22, 19.
    (2026, 1, {CHRISTMAS_2025}, dt.date(2025, 12, 19)),
    # CLF5: 25 December 2024 (Wednesday) is Christmas; from the 24th back over 23, 20, 19.
    (2025, 1, {dt.date(2024, 12, 25)}, dt.date(2024, 12, 19)),
    # CLG6: 25 January 2026 is a Sunday; the business day before is Friday the 23rd; back over 22, 21, 20.
    (2026, 2, {dt.date(2026, 1, 19)}, dt.date(2026, 1, 20)),
    # CLK5: 25 April 2025 is a Friday; 3 back over 24, 23, 22.
    (2025, 5, {dt.date(2025, 4, 18)}, dt.date(2025, 4, 22)),
    # CLG5: 25 January 2025 is a Saturday; from Friday the 24th back over 23, 22, 21 (MLK day is the 20th).
    (2025, 2, {dt.date(2025, 1, 20)}, dt.date(2025, 1, 21)),
])
def test_crude_oil_last_trading_day(year: int, month: int, holidays: set[dt.date], expected: dt.date) -> None:
    assert expiry_date(CL, year, month, holidays) == expected


def test_crude_oil_counts_business_days_over_holidays() -> None:
    # A made-up holiday on Wednesday 2026-01-21 in the count of CLG6: from Friday the 23rd back over
    # 22, 20 and, skipping MLK day on the 19th and the weekend, Friday the 16th.
    holidays = {dt.date(2026, 1, 19), dt.date(2026, 1, 21)}
    assert expiry_date(CL, 2026, 2, holidays) == dt.date(2026, 1, 16)
    # A holiday on the 25th itself (a Monday): the business day before it is Friday the 22nd.
    assert expiry_date(CL, 2027, 4, {dt.date(2027, 3, 25)}) == dt.date(2027, 3, 19)
    assert expiry_date(CL, 2027, 4) == dt.date(2027, 3, 22)


@pytest.mark.parametrize(("spec", "year", "month", "expected"), [
    # GCZ5: the last business days of December 2025 are 31, 30, 29: the third-last is the 29th.
    (GC, 2025, 12, dt.date(2025, 12, 29)),
    # GCG6: February 2026 ends on Saturday the 28th: 27, 26, 25.
    (GC, 2026, 2, dt.date(2026, 2, 25)),
    # ZNZ5: last business day Wednesday 2025-12-31; 7 back over 30, 29, 26, 24, 23, 22, 19 (Christmas skipped).
    (ZN, 2025, 12, dt.date(2025, 12, 19)),
    # ZNH6: last business day Tuesday 2026-03-31; 7 back over 30, 27, 26, 25, 24, 23, 20.
    (ZN, 2026, 3, dt.date(2026, 3, 20)),
])
def test_gold_and_ten_year_note_last_trading_days(spec: FuturesSpec, year: int, month: int, expected: dt.date) -> None:
    assert expiry_date(spec, year, month, {CHRISTMAS_2025}) == expected


def test_expiry_date_refuses_unlisted_months_and_unknown_rules() -> None:
    with pytest.raises(ValueError, match=r"month 1 \(F\) is not a listed month of ES; listed: HMUZ"):
        expiry_date(ES, 2026, 1)
    with pytest.raises(ValueError, match="no expiry_rule"):
        expiry_date(FuturesSpec("RTY", D("0.1"), 50, "HMUZ"), 2026, 3)
    with pytest.raises(ValueError, match="holidays"):
        expiry_date(ES, 2026, 3, {"2026-03-20"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="spec"):
        expiry_date("ES", 2026, 3)  # type: ignore[arg-type]


# Rolls -------------------------------------------------------------------------------------------

# Business days of March 2026 from the 2nd to the 20th (ESH6 expires Friday the 20th).
MARCH = [dt.date(2026, 3, day) for day in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20)]
ES_EXPIRIES = {"ESH6": dt.date(2026, 3, 20), "ESM6": dt.date(2026, 6, 19), "ESU6": dt.date(2026, 9, 18)}


def daily(rows: list[tuple[dt.date, str, str, int, int]]) -> pd.DataFrame:
    records = [(day, contract, D(close), volume, interest) for day, contract, close, volume, interest in rows]
    return pd.DataFrame(records, columns=["date", "contract", "close", "volume", "open_interest"])


def es_march(volume_cross: int = 9, interest_cross: int = 12) -> pd.DataFrame:
    """ESH6 and ESM6 on every March day; ESM6 = ESH6 + 40 + day of month / 100; ESM6's volume exceeds
    ESH6's from the `volume_cross`-th day of the month, its open interest from the `interest_cross`-th."""
    rows = []
    for day in MARCH:
        front = D(6000) + day.day
        rows.append((day, "ESH6", str(front), 1000, 5000))
        rows.append((day, "ESM6", str(front + 40 + D(day.day) / 100),
                     1001 if day.day >= volume_cross else 999, 5001 if day.day >= interest_cross else 4000))
    return daily(rows)


def test_roll_days_before_expiry() -> None:
    # 5 business days before Friday the 20th: 19, 18, 17, 16, 13.
    rolls = roll_schedule(es_march(), RollRule("days_before_expiry", 5), ES_EXPIRIES)
    assert rolls == [Roll(dt.date(2026, 3, 13), "ESH6", "ESM6", D("40.13"), "days_before_expiry")]


def test_roll_days_before_expiry_skips_holidays_and_zero_is_the_expiry_day() -> None:
    # A made-up holiday on Monday the 16th: 19, 18, 17, 13, 12.
    rolls = roll_schedule(es_march(), RollRule(days_before_expiry=5), ES_EXPIRIES, holidays={dt.date(2026, 3, 16)})
    assert [roll.date for roll in rolls] == [dt.date(2026, 3, 12)]
    assert roll_schedule(es_march(), RollRule(days_before_expiry=0), ES_EXPIRIES)[0].date == dt.date(2026, 3, 20)


def test_roll_falls_back_to_the_last_common_day_before_the_target() -> None:
    frame = es_march()
    frame = frame[~((frame["contract"] == "ESM6") & (frame["date"] == dt.date(2026, 3, 13)))]
    rolls = roll_schedule(frame, RollRule(days_before_expiry=5), ES_EXPIRIES)
    assert rolls == [Roll(dt.date(2026, 3, 12), "ESH6", "ESM6", D("40.12"), "days_before_expiry")]


def test_roll_on_volume_crossover() -> None:
    # Volume of ESM6 first exceeds ESH6's on the 9th (equal volumes would not count).
    rolls = roll_schedule(es_march(volume_cross=9), RollRule("volume", 5), ES_EXPIRIES)
    assert rolls == [Roll(dt.date(2026, 3, 9), "ESH6", "ESM6", D("40.09"), "volume")]


def test_volume_equal_is_not_a_crossover() -> None:
    frame = es_march(volume_cross=10)
    frame.loc[(frame["contract"] == "ESM6") & (frame["date"] == dt.date(2026, 3, 9)), "volume"] = 1000
    assert roll_schedule(frame, RollRule("volume", 5), ES_EXPIRIES)[0].date == dt.date(2026, 3, 10)


def test_roll_on_open_interest_crossover_uses_the_open_interest_column() -> None:
    rolls = roll_schedule(es_march(volume_cross=3, interest_cross=11), RollRule("open_interest", 5), ES_EXPIRIES)
    assert rolls == [Roll(dt.date(2026, 3, 11), "ESH6", "ESM6", D("40.11"), "open_interest")]


def test_crossover_after_the_backstop_rolls_on_the_backstop() -> None:
    rolls = roll_schedule(es_march(volume_cross=17), RollRule("volume", 5), ES_EXPIRIES)
    assert rolls == [Roll(dt.date(2026, 3, 13), "ESH6", "ESM6", D("40.13"), "days_before_expiry")]
    # A crossover on the backstop day itself is a volume roll.
    rolls = roll_schedule(es_march(volume_cross=13), RollRule("volume", 5), ES_EXPIRIES)
    assert rolls == [Roll(dt.date(2026, 3, 13), "ESH6", "ESM6", D("40.13"), "volume")]


# Three contracts A, B, C over six days: hand-made so every adjustment is exact.
DAYS = [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 3, 4), dt.date(2026, 3, 5), dt.date(2026, 3, 6),
        dt.date(2026, 3, 9)]
D1, D2, D3, D4, D5, D6 = DAYS
THREE = daily([
    (D1, "A", "90", 1000, 0), (D2, "A", "95", 900, 0), (D3, "A", "100", 500, 0), (D4, "A", "101", 100, 0),
    (D2, "B", "104", 800, 0), (D3, "B", "110", 700, 0), (D4, "B", "112", 900, 0), (D5, "B", "120", 400, 0),
    (D6, "B", "121", 300, 0),
    (D4, "C", "125", 200, 0), (D5, "C", "132", 600, 0), (D6, "C", "130", 800, 0),
])
THREE_EXPIRIES = {"C": dt.date(2026, 3, 20), "A": dt.date(2026, 3, 6), "B": dt.date(2026, 3, 13)}
THREE_ROLLS = [Roll(D3, "A", "B", D("10"), "volume"), Roll(D5, "B", "C", D("12"), "volume")]


def test_volume_rolls_through_three_contracts() -> None:
    # A → B: on D2 B's 800 < A's 900; on D3 B's 700 > A's 500. B → C, only after D3: D4 200 < 900; D5 600 > 400.
    assert roll_schedule(THREE, RollRule("volume", 0), THREE_EXPIRIES) == THREE_ROLLS


def test_days_rolls_through_three_contracts() -> None:
    # A expires D5 (Fri 6th): 2 business days before is D3 (4th); B expires Fri 13th: 2 before is Wed 11th,
    # and the last day with both B and C rows on or before it is D6 (9th).
    rolls = roll_schedule(THREE, RollRule("days_before_expiry", 2), THREE_EXPIRIES)
    assert rolls == [Roll(D3, "A", "B", D("10")), Roll(D6, "B", "C", D("9"))]


def test_roll_schedule_errors() -> None:
    with pytest.raises(ValueError, match="expiries lacks the expiry of contract.* C"):
        roll_schedule(THREE, RollRule(), {"A": D5, "B": dt.date(2026, 3, 13)})
    # A expires D2, so 1 business day before is D1, when B has no row yet.
    with pytest.raises(ValueError, match=r"no day to roll A to B: no date on or before 2026-03-02"):
        roll_schedule(THREE, RollRule(days_before_expiry=1), THREE_EXPIRIES | {"A": D2})
    # A → B rolls on D2 (1 day before D3); B's backstop is D3, and C has no row before D4.
    with pytest.raises(ValueError,
                       match="no day to roll B to C: no date after the roll on 2026-03-03 on or before 2026-03-04"):
        roll_schedule(THREE, RollRule(days_before_expiry=1), {"A": D3, "B": D4, "C": dt.date(2026, 3, 20)})
    with pytest.raises(ValueError, match="same date"):
        roll_schedule(THREE, RollRule(), {"A": D5, "B": D5, "C": D6})
    with pytest.raises(ValueError, match="rule"):
        roll_schedule(THREE, "volume", THREE_EXPIRIES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lacks column.* open_interest"):
        roll_schedule(THREE.drop(columns="open_interest"), RollRule(), THREE_EXPIRIES)
    floats = THREE.assign(close=[float(value) for value in THREE["close"]])
    with pytest.raises(ValueError, match="contracts_daily.close must be a Decimal"):
        roll_schedule(floats, RollRule(), THREE_EXPIRIES)
    with pytest.raises(ValueError, match="contracts_daily.volume"):
        roll_schedule(THREE.assign(volume=-1), RollRule(), THREE_EXPIRIES)
    with pytest.raises(ValueError, match="more than one row for A on 2026-03-02"):
        roll_schedule(pd.concat([THREE, THREE.iloc[:1]]), RollRule(), THREE_EXPIRIES)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"mode": "calendar"}, "mode"), ({"days_before_expiry": -1}, "days_before_expiry"),
    ({"days_before_expiry": 2.0}, "days_before_expiry"),
])
def test_roll_rule_validates(kwargs: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        RollRule(**kwargs)


# Continuous series -------------------------------------------------------------------------------

def series_rows(frame: pd.DataFrame) -> list[tuple[dt.date, str, Decimal, Decimal]]:
    return list(frame.itertuples(index=False, name=None))


def test_back_adjusted_series() -> None:
    # Gaps: 110 − 100 = 10 on D3, 132 − 120 = 12 on D5. Before D3 shift 22, from D3 to D4 shift 12.
    series = continuous_series(THREE, THREE_ROLLS)
    assert list(series.columns) == ["date", "contract", "close", "adjusted_close"]
    assert series_rows(series) == [
        (D1, "A", D("90"), D("112")),
        (D2, "A", D("95"), D("117")),
        (D3, "B", D("110"), D("122")),
        (D4, "B", D("112"), D("124")),
        (D5, "C", D("132"), D("132")),
        (D6, "C", D("130"), D("130")),
    ]
    # No jump at the rolls: the old contract adjusted on the roll date equals the new one adjusted.
    assert D("100") + 22 == D("122") and D("120") + 12 == D("132")


def test_ratio_adjusted_series() -> None:
    # Ratios 110 / 100 = 1.1 on D3 and 132 / 120 = 1.1 on D5: before D3 × 1.21, from D3 to D4 × 1.1.
    series = continuous_series(THREE, THREE_ROLLS, adjust="ratio")
    assert [row[3] for row in series_rows(series)] == \
        [D("108.9"), D("114.95"), D("121"), D("123.2"), D("132"), D("130")]


def test_unadjusted_series_splices_actual_closes() -> None:
    series = continuous_series(THREE, THREE_ROLLS, adjust="none")
    assert [(row[1], row[2], row[3]) for row in series_rows(series)] == [
        ("A", D("90"), D("90")), ("A", D("95"), D("95")), ("B", D("110"), D("110")),
        ("B", D("112"), D("112")), ("C", D("132"), D("132")), ("C", D("130"), D("130"))]


def test_schedule_and_series_end_to_end_with_timestamp_dates() -> None:
    frame = es_march(volume_cross=9).assign(date=lambda f: pd.to_datetime(f["date"]))
    rolls = roll_schedule(frame, RollRule("volume", 5), ES_EXPIRIES)
    series = continuous_series(frame, rolls)
    assert len(series) == len(MARCH)
    first, before_roll, on_roll, last = (series.iloc[index] for index in (0, 4, 5, -1))
    # Until Friday the 6th ESH6 (6000 + day), shifted by the 9th's gap 40.09; from the 9th ESM6 itself.
    assert (first["date"], first["contract"], first["close"], first["adjusted_close"]) == \
        (dt.date(2026, 3, 2), "ESH6", D("6002"), D("6042.09"))
    assert (before_roll["date"], before_roll["adjusted_close"]) == (dt.date(2026, 3, 6), D("6046.09"))
    assert (on_roll["date"], on_roll["contract"], on_roll["adjusted_close"]) == \
        (dt.date(2026, 3, 9), "ESM6", D("6049.09"))
    assert (last["date"], last["close"], last["adjusted_close"]) == (dt.date(2026, 3, 20), D("6060.20"), D("6060.20"))


def test_a_single_contract_needs_no_rolls() -> None:
    one = THREE[THREE["contract"] == "B"]
    series = continuous_series(one, [], adjust="back")
    assert [row[3] for row in series_rows(series)] == [D("104"), D("110"), D("112"), D("120"), D("121")]


def test_continuous_series_errors() -> None:
    with pytest.raises(ValueError, match="rolls is empty but contracts_daily holds 3 contracts: A, B, C"):
        continuous_series(THREE, [])
    with pytest.raises(ValueError, match="adjust"):
        continuous_series(THREE, THREE_ROLLS, adjust="forward")
    with pytest.raises(ValueError, match="rolls must chain"):
        continuous_series(THREE, [THREE_ROLLS[0], Roll(D5, "A", "C", D("0"))])
    with pytest.raises(ValueError, match="strictly increasing date order"):
        continuous_series(THREE, [THREE_ROLLS[0], Roll(D3, "B", "C", D("0"))])
    with pytest.raises(ValueError, match="needs a close of C on that date"):
        continuous_series(THREE, [Roll(D2, "A", "C", D("0"))])
    with pytest.raises(ValueError, match="price_gap 11 but the data gives 10"):
        continuous_series(THREE, [Roll(D3, "A", "B", D("11")), THREE_ROLLS[1]])
    negative = THREE.assign(close=[D("-5") if (row.contract, row.date) == ("A", D3) else row.close
                                   for row in THREE.itertuples()])
    with pytest.raises(ValueError, match="ratio adjustment needs positive closes"):
        continuous_series(negative, [Roll(D3, "A", "B", D("115")), THREE_ROLLS[1]], adjust="ratio")
    # Back adjustment handles the negative close: 110 − (−5) = 115 before D3.
    back = continuous_series(negative, [Roll(D3, "A", "B", D("115")), THREE_ROLLS[1]])
    assert back.iloc[0]["adjusted_close"] == D("90") + 115 + 12

"""CSV times keep their nanoseconds: a file written with `format_time` reads back to the same instants, so a
backtest over exported prints sees the times the live run saw."""

from __future__ import annotations

import pytest

from processors.csvio import CsvFormatError, format_time, parse_time


@pytest.mark.parametrize("text, ns", [
    ("2026-11-23T16:33:19.493290528Z", 1_795_451_599_493_290_528),
    ("2026-11-23T11:33:19.000000001-05:00", 1_795_451_599_000_000_001),
    ("2026-11-23T16:33:19.5+00:00", 1_795_451_599_500_000_000),
    ("2026-11-23T16:33:19Z", 1_795_451_599_000_000_000),
    ("1795451599493290528", 1_795_451_599_493_290_528),
])
def test_times_are_read_to_the_nanosecond(text: str, ns: int) -> None:
    assert parse_time(text, 2, "ts") == ns
    assert parse_time(format_time(ns), 2, "ts") == ns


def test_more_than_nine_fractional_digits_are_refused_with_the_line_and_column() -> None:
    with pytest.raises(CsvFormatError, match="line 7, column ts: .* 10 fractional digits"):
        parse_time("2026-11-23T16:33:19.4932905281Z", 7, "ts")

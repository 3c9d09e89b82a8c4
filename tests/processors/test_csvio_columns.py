"""The vectorised bars reader against the row reader: the same bars, or None (then the row reader names the
problem)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import numpy as np
import pytest

from processors.csvio import BarColumns, read_bar_columns, read_bars
from processors.model import Bar


def _rows(text: str) -> list[Bar]:
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in reader.fieldnames or []]
    reader.fieldnames = header
    return read_bars(reader, header)


def _same(columns: BarColumns, bars: list[Bar]) -> None:
    assert len(columns) == len(bars)
    for built, read in zip(columns, bars):
        assert built == read
        for name in Bar.__slots__:
            assert type(getattr(built, name)) is type(getattr(read, name))
            assert str(getattr(built, name)) == str(getattr(read, name))


@pytest.mark.parametrize("text", [
    "symbol,start,end,open,high,low,close,volume\n"
    "SPY,2026-01-02T14:30:00Z,2026-01-02T14:31:00Z,600.50,601.00,600.00,600.25,100\n"
    "QQQ , 2026-01-02T14:30:00Z,2026-01-02T14:31:00Z, 500.1 ,500.2,500,500.10000000,0\n",
    "symbol,start,open,high,low,close,volume,vwap,trades\n"
    "SPY,1767364200000000000,600.50,601,600,600.25,7,600.3,3\n",
    " symbol , start ,open,high,low,close,volume\n\nSPY,2026-01-02T14:30:00Z,1E+2,100,100,100,5\n",
    "symbol,start,open,high,low,close,volume\n",
])
def test_the_common_forms_read_as_the_row_reader_reads_them(text: str) -> None:
    columns = read_bar_columns(io.StringIO(text))
    assert columns is not None
    _same(columns, _rows(text))


@pytest.mark.parametrize("text", [
    "symbol,start,open,high,low,close,volume\nSPY,2026-01-02T14:30:00+00:00,1,1,1,1,1\n",   # an offset
    "symbol,start,open,high,low,close,volume\nSPY,2026-01-02T14:30:00Z,x,1,1,1,1\n",       # not a number
    "symbol,start,open,high,low,close,volume\nSPY,2026-01-02T14:30:00Z,NaN,1,1,1,1\n",     # not finite
    "symbol,start,open,high,low,close,volume\nSPY,2026-01-02T14:30:00Z,1,1,1,1,\n",        # no volume
    "symbol,start,open,high,low,close,volume\nSPY,2026-01-02T14:30:00Z,1,1,1,1\n",         # a field short
    "symbol,start,open,high,low,close\nSPY,2026-01-02T14:30:00Z,1,1,1,1\n",                # no volume column
    "symbol,start,open,open,high,low,close,volume\nSPY,2026-01-02T14:30:00Z,1,2,1,1,1,1\n",  # open twice
    "",
])
def test_other_forms_are_left_to_the_row_reader(text: str) -> None:
    assert read_bar_columns(io.StringIO(text)) is None


def test_columns_of_bars_give_the_bars_back_and_their_floats() -> None:
    bars = [Bar("SPY", "1m", "regular", 60, 120, Decimal("600.50"), Decimal("601"), Decimal("600"),
                Decimal("600.25"), 10, Decimal("600.3"), 2, 7),
            Bar("QQQ", "1m", "regular", 0, 60, Decimal("500"), Decimal("500"), Decimal("499.99"), Decimal("500"), 0,
                Decimal("500"), 0)]
    columns = BarColumns.of_bars(bars)
    _same(columns, bars)
    assert columns.floats("low").tolist() == [600.0, 499.99]
    _same(columns.rows(np.array([1])), bars[1:])

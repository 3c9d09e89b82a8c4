"""The audit's comparison and its report, on events built by hand."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

from processors.audit.compare import (
    DIFFERS,
    MISSING_IN_REPLAY,
    NOT_RECORDED,
    RECORDED_TWICE,
    UNREADABLE,
    bar_key,
    compare_stage,
)
from processors.audit.report import differences_csv, report_html, summary_lines
from processors.model import Bar


@dataclass(frozen=True, slots=True)
class Event:
    signal_id: str
    price: Decimal
    side: str
    ts_event: int
    ts_init: int


def key(event: Event) -> str:
    return event.signal_id


def test_equal_events_match_whatever_their_ts_init() -> None:
    recorded = [Event("a", Decimal("1.5"), "BUY", 10, 999), Event("b", Decimal(2), "SELL", 20, 998)]
    replayed = [Event("b", Decimal(2), "SELL", 20, 20), Event("a", Decimal("1.50"), "BUY", 10, 10)]
    result = compare_stage("signals", recorded, replayed, key)
    assert (result.recorded, result.replayed, result.matched, result.differences) == (2, 2, 2, ())


def test_each_kind_of_difference_with_both_values() -> None:
    recorded = [Event("same", Decimal(1), "BUY", 1, 0), Event("changed", Decimal(1), "BUY", 2, 0),
                Event("gone", Decimal(3), "SELL", 3, 0)]
    replayed = [Event("same", Decimal(1), "BUY", 1, 5), Event("changed", Decimal("1.25"), "SELL", 2, 5),
                Event("new", Decimal(4), "BUY", 4, 5)]
    result = compare_stage("signals", recorded, replayed, key, unreadable=["ts.signals[0]@7: bad"])
    found = [(d.key, d.kind, d.field, d.recorded, d.replayed) for d in result.differences]
    assert found == [
        ("ts.signals[0]@7: bad", UNREADABLE, "", "", ""),
        ("changed", DIFFERS, "price", "1", "1.25"),
        ("changed", DIFFERS, "side", "BUY", "SELL"),
        ("gone", MISSING_IN_REPLAY, "", "signal_id=gone; price=3; side=SELL; ts_event=3", ""),
        ("new", NOT_RECORDED, "", "", "signal_id=new; price=4; side=BUY; ts_event=4"),
    ]
    assert (result.recorded, result.replayed, result.matched) == (3, 3, 1)


def test_a_fact_recorded_twice_is_one_fact_unless_the_copies_differ() -> None:
    twice = [Event("a", Decimal(1), "BUY", 1, 0), Event("a", Decimal(1), "BUY", 1, 7)]
    assert compare_stage("bars", twice, twice[:1], key).differences == ()
    conflicting = [Event("a", Decimal(1), "BUY", 1, 0), Event("a", Decimal(2), "BUY", 1, 0)]
    result = compare_stage("bars", conflicting, conflicting[:1], key)
    assert [(d.kind, d.recorded, d.replayed) for d in result.differences] == [
        (RECORDED_TWICE, "signal_id=a; price=1; side=BUY; ts_event=1", "signal_id=a; price=2; side=BUY; ts_event=1")]


def test_a_bar_is_known_by_symbol_timeframe_and_start() -> None:
    start = int(dt.datetime(2026, 11, 23, 14, 30, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    bar = Bar("SPY", "5m", "regular", start, start + 300 * 10**9, Decimal(1), Decimal(2), Decimal("0.5"),
              Decimal("1.5"), 300, Decimal("1.2"), 4)
    assert bar_key(bar) == "SPY 5m 2026-11-23T14:30:00Z"


def test_the_report_lists_counts_and_every_difference() -> None:
    stages = [compare_stage("bars", [], [], key),
              compare_stage("signals", [Event("x<y", Decimal(1), "BUY", 1, 0)], [Event("x<y", Decimal(2), "BUY", 1, 0)],
                            key)]
    rows = list(csv.reader(io.StringIO(differences_csv(stages))))
    assert rows == [["stage", "key", "kind", "field", "recorded", "replayed"],
                    ["signals", "x<y", DIFFERS, "price", "1", "2"]]
    page = report_html(stages, "Audit replay", [("range", "a to b")])
    assert "x&lt;y" in page and "x<y" not in page and "1 difference(s)" in page
    lines = summary_lines(stages)
    assert lines[-1] == "1 difference(s)" and "differences     1" in lines[1]
    assert summary_lines(stages[:1])[-1].startswith("0 difference(s): the replay reproduces")

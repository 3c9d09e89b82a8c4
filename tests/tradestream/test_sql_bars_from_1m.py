"""sql/013's TimescaleDB file, checked without TimescaleDB (not installed where the tests run): its statements
read one by one, each continuous aggregate's bucket width, origin, filter and refresh policy, the policies of
indicator_snapshots, and the same origins and function signature as the plain file (which the integration
tests run). The origins are then proven to cut processors/bars' bars: every minute of every bar of every
session window of a year (both DST states, early closes) falls in the bucket that starts at its bar's start."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from processors.calendar import build_nyse_calendar, parse_sessions
from tradestream.config import PROJECT_ROOT
from tradestream.db import discover

SQL = PROJECT_ROOT / "sql"
TIMESCALE = (SQL / "013_bars_from_1m.timescale.sql").read_text()
PLAIN = (SQL / "013_bars_from_1m.plain.sql").read_text()
MINUTE_NS = 60 * 10**9
AGGREGATES = {"bars_5m_from_1m": (5, "00:00"), "bars_15m_from_1m": (15, "00:00"), "bars_30m_from_1m": (30, "00:00"),
              "bars_60m_regular_from_1m": (60, "00:30"), "bars_60m_extended_from_1m": (60, "00:00")}


def statements(text: str) -> list[str]:
    """The statements of a SQL file: comments dropped, split at semicolons outside dollar quotes."""
    text = re.sub(r"--[^\n]*", "", text)
    parts, current, quoted = [], [], False
    for piece in re.split(r"(\$\$|;)", text):
        if piece == "$$":
            quoted = not quoted
        if piece == ";" and not quoted:
            parts.append(" ".join("".join(current).split()))
            current = []
        else:
            current.append(piece)
    assert not "".join(current).strip(), "text after the last statement"
    return [p for p in parts if p]


def minutes(interval: str) -> int:
    count, unit = re.fullmatch(r"(\d+) (minutes|days)", interval).groups()  # type: ignore[union-attr]
    return int(count) * (1440 if unit == "days" else 1)


def test_the_migration_has_both_variants() -> None:
    migration = next(m for m in discover() if m.version == 13)
    assert (migration.name, migration.timescale is not None, migration.plain is not None) == (
        "bars_from_1m", True, True)


@pytest.mark.parametrize("name", sorted(AGGREGATES))
def test_each_continuous_aggregate_has_its_bucket_and_a_refresh_policy(name: str) -> None:
    width, origin = AGGREGATES[name]
    found = [s for s in statements(TIMESCALE) if s.startswith(f"create materialized view {name} ")]
    assert len(found) == 1
    view = found[0]
    assert "with (timescaledb.continuous, timescaledb.materialized_only = false)" in view
    assert view.endswith("with no data")  # creating one with data cannot run in the migration's transaction
    bucket = f"time_bucket(interval '{width} minutes', start, origin => timestamptz '2000-01-03 {origin}:00+00')"
    assert view.count(bucket) == 2 and f"{bucket} as start" in view  # selected, and grouped by
    assert re.search(r"group by symbol, session, time_bucket", view)
    where = {"bars_60m_regular_from_1m": " and session = 'regular'",
             "bars_60m_extended_from_1m": " and session <> 'regular'"}.get(name, "")
    assert f"from bars where timeframe = '1m'{where} group by" in view
    for column in ("first(open, start) as open", "max(high) as high", "min(low) as low",
                   "last(close, start) as close", "sum(volume) as volume", "sum(vwap * volume) as price_volume",
                   "sum(trades) as trades", "count(*) as minutes"):
        assert column in view

    policies = [s for s in statements(TIMESCALE) if s.startswith(f"select add_continuous_aggregate_policy('{name}'")]
    assert len(policies) == 1
    offsets = dict(re.findall(r"(\w+) => interval '([^']+)'", policies[0]))
    assert minutes(offsets["end_offset"]) == width  # a bucket still filling is read in real time
    assert minutes(offsets["start_offset"]) - minutes(offsets["end_offset"]) >= 2 * width  # TimescaleDB's minimum
    assert minutes(offsets["schedule_interval"]) <= width


def test_the_60_minute_view_and_the_function_read_every_aggregate() -> None:
    all_statements = statements(TIMESCALE)
    view = next(s for s in all_statements if s.startswith("create view bars_60m_from_1m "))
    assert "from bars_60m_regular_from_1m union all select * from bars_60m_extended_from_1m" in view
    function = next(s for s in all_statements if s.startswith("create or replace function bars_from_1m("))
    for relation in ("bars_5m_from_1m", "bars_15m_from_1m", "bars_30m_from_1m", "bars_60m_from_1m"):
        assert f"from {relation} where start >= from_ts and start < to_ts" in function
    # The plain file's views and function go first (a database switched from plain), views before the function.
    drops = [s for s in all_statements if s.startswith("drop ")]
    assert drops == [f"drop view if exists bars_{n}m_from_1m" for n in (5, 15, 30, 60)] + [
        "drop function if exists bars_from_1m(timestamptz, timestamptz)"]
    assert all_statements[:5] == drops


def test_indicator_snapshots_are_compressed_and_aged_out() -> None:
    found = statements(TIMESCALE)
    assert any(s.startswith("alter table indicator_snapshots set (timescaledb.compress,") and
               "timescaledb.compress_segmentby = 'symbol, timeframe'" in s for s in found)
    assert "select add_compression_policy('indicator_snapshots', interval '30 days', if_not_exists => true)" in found
    assert "select add_retention_policy('indicator_snapshots', interval '365 days', if_not_exists => true)" in found


def test_the_plain_file_has_the_same_function_and_origins() -> None:
    def signature(text: str) -> str:
        function = next(s for s in statements(text) if s.startswith("create or replace function bars_from_1m("))
        return function[:function.index(" as $$")]

    assert signature(PLAIN) == signature(TIMESCALE)
    assert ("case when m.session = 'regular' then timestamptz '2000-01-03 00:30:00+00' "
            "else timestamptz '2000-01-03 00:00:00+00' end") in " ".join(PLAIN.split())
    assert "timescaledb" not in " ".join(statements(PLAIN))
    # What each policy becomes on plain PostgreSQL is said there.
    for policy in ("refresh policy", "compression of indicator_snapshots", "retention of indicator_snapshots"):
        assert policy in PLAIN


def bucket(ts_ns: int, width_ns: int, origin: dt.datetime) -> int:
    """time_bucket(width, ts, origin => origin) (and date_bin), in nanoseconds."""
    origin_ns = int(origin.timestamp()) * 10**9
    return origin_ns + (ts_ns - origin_ns) // width_ns * width_ns


@pytest.mark.parametrize("width", [5, 15, 30, 60])
def test_the_origins_cut_the_bars_of_every_session_window(width: int) -> None:
    calendar = build_nyse_calendar(dt.date(2025, 1, 1), dt.date(2025, 12, 31))  # both DST changes, 3 early closes
    width_ns = width * MINUTE_NS
    windows = list(calendar.windows(parse_sessions("extended")))
    assert {w.session for w in windows} == {"pre", "regular", "post"} and len(windows) > 700
    for window in windows:
        hour, minute = ("00", "30") if window.session == "regular" else ("00", "00")
        origin = dt.datetime.fromisoformat(f"2000-01-03T{hour}:{minute}:00+00:00")
        for start in range(window.start_ns, window.end_ns, width_ns):  # processors/bars' bar k of the window
            for minute_ns in range(start, min(start + width_ns, window.end_ns), MINUTE_NS):
                assert bucket(minute_ns, width_ns, origin) == start, (window, width)

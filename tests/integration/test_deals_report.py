"""The deals report against rows the sink wrote: trade versions published to Kafka through the real codec and
publisher, stored by the real sink, then read by `tradestream deals` and `GET /api/deals`. The expected file is
written by hand (tests/streams/trading_events.py: `deals_csv`)."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from connectors.kafka.codec import AvroCodec, register_all
from connectors.kafka.publisher import EventPublisher
from tests.streams.trading_events import deals_csv, deals_trades
from tests.users import make_user
from tradestream.commands.api import api_settings
from tradestream.config import Settings
from tradestream.topics import ensure_topics

from .conftest import SESSION_TOKENS, eventually, spawn

pytestmark = pytest.mark.integration
RANGE = ["--from", "2026-03-10", "--to", "2026-03-10"]


@pytest.fixture(scope="module")
def stored(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Every version of `deals_trades` published and stored by the sink; yields the unique token."""
    unique = uuid.uuid4().hex[:10]
    SESSION_TOKENS.add(unique)  # the session deletes the topics named with it
    prefix = f"dl{unique}."
    ensure_topics(settings, prefix=prefix)
    register_all(settings.schema_registry_url, prefix=prefix)
    publisher = EventPublisher(settings.kafka(prefix), AvroCodec(settings.schema_registry_url), f"deals-{unique}")
    events = deals_trades(unique, f"A-{unique}", f"B-{unique}")
    for event in events:
        publisher.publish(f"{prefix}trades", event.account_id, event)
    assert publisher.flush() == 0
    log = tmp_path_factory.mktemp("deals") / "sink.log"
    sink = spawn(["sink", "--group", f"sink-{unique}"], {**os.environ, "TOPIC_PREFIX": prefix}, log)
    try:
        def newest_stored() -> bool:
            with psycopg.connect(settings.database_url) as conn:
                versions = dict(conn.execute("select trade_id, version from trades where account_id = any(%s)",
                                             ([f"A-{unique}", f"B-{unique}"],)).fetchall())
            return versions == {event.trade_id: event.version for event in events}
        eventually(lambda: sink.poll() is not None or newest_stored(), timeout_s=90,
                   what="the newest version of every trade stored")
        assert sink.poll() is None, log.read_text()[-3000:]
    finally:
        if sink.poll() is None:
            os.killpg(sink.pid, signal.SIGTERM)
        sink.wait(timeout=60)
    yield unique


def deals(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tradestream.cli", "deals", *args], capture_output=True, text=True,
                          timeout=120)


def test_cli_writes_the_report_of_an_account_and_of_a_strategy(stored: str, tmp_path: Path) -> None:
    out = tmp_path / "deals.csv"
    done = deals(*RANGE, "--account", f"A-{stored}", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text() == deals_csv(stored)
    assert f"4 deal(s) of account A-{stored} entered 2026-03-10 to 2026-03-10" in done.stderr

    to_stdout = deals(*RANGE, "--account", f"A-{stored}", "--strategy", f"S1-{stored}", "--out", "-")
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout == deals_csv(stored, strategy=f"S1-{stored}")

    # The other account's trade, and the day before in New York (the trade opened at 23:00 ET on the 9th).
    other = deals(*RANGE, "--account", f"B-{stored}", "--out", "-")
    assert list(csv.reader(io.StringIO(other.stdout)))[1][:4] == [f"S1-{stored}", "intraday", "long", "SPY"]
    day_before = deals("--from", "2026-03-09", "--to", "2026-03-09", "--account", f"A-{stored}", "--out", "-")
    assert [row[4:7] for row in csv.reader(io.StringIO(day_before.stdout))][1:] == [["1", "0", "10.00"]]


def test_cli_refuses_an_empty_range_and_a_bad_date_and_says_when_the_database_is_down(tmp_path: Path) -> None:
    reversed_range = deals("--from", "2026-03-11", "--to", "2026-03-10", "--out", "-")
    assert reversed_range.returncode == 2 and reversed_range.stdout == ""
    assert "the range is empty: 2026-03-10 is before 2026-03-11" in reversed_range.stderr
    bad = deals("--from", "2026-02-30", "--to", "2026-03-10", "--out", "-")
    assert bad.returncode == 2 and "'2026-02-30' is not a date (YYYY-MM-DD)" in bad.stderr
    out = tmp_path / "deals.csv"
    down = subprocess.run([sys.executable, "-m", "tradestream.cli", "deals", *RANGE, "--out", str(out)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:1/none"})
    assert down.returncode == 2 and "Traceback" not in down.stderr and "secret" not in down.stderr
    assert "cannot connect to PostgreSQL at postgresql://nobody:***@127.0.0.1:1/none" in down.stderr
    assert not out.exists()


def test_api_answers_the_same_report_as_csv_and_as_json(stored: str, settings: Settings) -> None:
    query = f"/api/deals?from=2026-03-10&to=2026-03-10&account=A-{stored}"
    owner = make_user(settings.database_url, f"owner-{uuid.uuid4().hex[:10]}", accounts=[f"A-{stored}"])
    with TestClient(app=create_app(api_settings(settings))) as client:
        client.headers.update(owner.headers)
        as_csv = client.get(f"{query}&format=csv")
        as_json = client.get(query)
        one_strategy = client.get(f"{query}&strategy=S2-{stored}&format=json")
        nothing = client.get(f"/api/deals?from=2026-03-10&to=2026-03-10&account=none-{stored}")
        # Account B's trade is not the caller's: neither asked for by name nor in the report of every account.
        not_theirs = client.get(f"/api/deals?from=2026-03-10&to=2026-03-10&account=B-{stored}")
        everything = client.get("/api/deals?from=2026-03-10&to=2026-03-10&format=csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text == deals_csv(stored)
    assert as_json.status_code == 200
    expected = list(csv.DictReader(io.StringIO(deals_csv(stored))))
    for row in expected:
        row.update(entry_qty=int(row["entry_qty"]), exit_qty=int(row["exit_qty"]),
                   exit_price=row["exit_price"] or None, exit_time=row["exit_time"] or None)
    assert as_json.json() == expected
    assert [deal["symbol"] for deal in one_strategy.json()] == ["IWM", "QQQ"]
    assert nothing.status_code == 200 and nothing.json() == []
    assert not_theirs.status_code == 200 and not_theirs.json() == []
    assert everything.text == deals_csv(stored)

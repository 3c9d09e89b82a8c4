"""The migration variant is chosen at a database's first migration and kept (tradestream.db.database_variant)."""

from __future__ import annotations

import pytest

from schemas.errors import StackError
from tradestream.db import database_variant


def test_a_new_database_takes_what_is_available() -> None:
    assert database_variant(set(), timescale_available=True) == "timescale"
    assert database_variant(set(), timescale_available=False) == "plain"


def test_a_plain_database_stays_plain_once_timescaledb_is_installed() -> None:
    assert database_variant({"plain"}, timescale_available=True) == "plain"
    assert database_variant({"plain"}, timescale_available=False) == "plain"


def test_a_timescale_database_needs_the_extension() -> None:
    assert database_variant({"timescale"}, timescale_available=True) == "timescale"
    with pytest.raises(StackError, match="set up with TimescaleDB, whose extension is not available"):
        database_variant({"timescale"}, timescale_available=False)


def test_mixed_or_unknown_records_stop_the_run() -> None:
    with pytest.raises(StackError, match="plain and timescale variants"):
        database_variant({"plain", "timescale"}, timescale_available=True)
    with pytest.raises(StackError, match="unknown variant 'citus'"):
        database_variant({"citus"}, timescale_available=True)

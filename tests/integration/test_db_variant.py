"""Migrations against the real PostgreSQL, in a schema of their own: the variant recorded at the first
migration is kept when TimescaleDB becomes available (the defect: a plain database was given the
TimescaleDB-only migrations, `add_retention_policy(...) does not exist`), and a TimescaleDB database whose
extension went away stops the run instead of receiving plain migrations."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from schemas.errors import StackError
from tradestream import db
from tradestream.config import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def schema_settings(settings: Settings, unique: str) -> Iterator[Settings]:
    schema = f"variant_{unique}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"create schema {schema}")
    separator = "&" if "?" in settings.database_url else "?"
    yield dataclasses.replace(settings, database_url=f"{settings.database_url}{separator}options=-csearch_path%3D{schema}")
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f"drop schema {schema} cascade")


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


FIRST = {"001_core.sql": "create table common_1 (id int);",
         "001_core.plain.sql": "create table plain_1 (id int);",
         "001_core.timescale.sql": "create table timescale_1 (id int);"}
# As sql/'s TimescaleDB files do: a call that exists only with the extension.
SECOND = {"002_more.sql": "create table common_2 (id int);",
          "002_more.plain.sql": "create table plain_2 (id int);",
          "002_more.timescale.sql": "select add_retention_policy('common_2', interval '1 day');"}


def tables(settings: Settings) -> set[str]:
    with psycopg.connect(settings.database_url) as conn:
        return {row[0] for row in conn.execute(
            "select tablename from pg_tables where schemaname = current_schema() and tablename <> 'schema_migrations'")}


def variants(settings: Settings) -> list[tuple[int, str]]:
    with psycopg.connect(settings.database_url) as conn:
        return conn.execute("select version, variant from schema_migrations order by version").fetchall()


def test_a_plain_database_keeps_its_variant_when_timescaledb_becomes_available(schema_settings: Settings,
                                                                              tmp_path: Path) -> None:
    folder = write(tmp_path / "sql", FIRST)
    assert db.migrate(schema_settings, folder, timescale_available=False) == ["001_core (plain)"]
    write(folder, SECOND)
    assert db.migrate(schema_settings, folder, timescale_available=True) == ["002_more (plain)"]
    assert tables(schema_settings) == {"common_1", "plain_1", "common_2", "plain_2"}
    assert variants(schema_settings) == [(1, "plain"), (2, "plain")]
    assert db.migrate(schema_settings, folder, timescale_available=True) == []   # and checksums still match


def test_a_timescale_database_without_its_extension_stops_the_run(schema_settings: Settings, tmp_path: Path) -> None:
    folder = write(tmp_path / "sql", FIRST)
    assert db.migrate(schema_settings, folder, timescale_available=True) == ["001_core (timescale)"]
    write(folder, SECOND)
    with pytest.raises(StackError, match="set up with TimescaleDB"):
        db.migrate(schema_settings, folder, timescale_available=False)
    assert variants(schema_settings) == [(1, "timescale")] and "plain_2" not in tables(schema_settings)


def test_switching_to_timescaledb_is_an_explicit_step(schema_settings: Settings, tmp_path: Path) -> None:
    folder = write(tmp_path / "sql", FIRST)
    db.migrate(schema_settings, folder, timescale_available=False)
    with pytest.raises(StackError, match="TimescaleDB is not available"):
        db.switch_to_timescale(schema_settings, folder, timescale_available=False)
    assert db.switch_to_timescale(schema_settings, folder, timescale_available=True) == ["001_core.timescale.sql"]
    assert tables(schema_settings) == {"common_1", "plain_1", "timescale_1"}
    assert variants(schema_settings) == [(1, "timescale")]
    assert db.switch_to_timescale(schema_settings, folder, timescale_available=True) == []
    write(folder, {"002_more.sql": "create table common_2 (id int);",
                   "002_more.plain.sql": "create table plain_2 (id int);",
                   "002_more.timescale.sql": "create table timescale_2 (id int);"})
    assert db.migrate(schema_settings, folder, timescale_available=True) == ["002_more (timescale)"]
    assert db.migrate(schema_settings, folder, timescale_available=True) == []   # checksums recorded anew
    assert {"timescale_2"} <= tables(schema_settings) and "plain_2" not in tables(schema_settings)


def test_a_failing_switch_changes_nothing(schema_settings: Settings, tmp_path: Path) -> None:
    # A TimescaleDB file that fails over the plain tables (it creates one that exists).
    folder = write(tmp_path / "sql", {**FIRST, "001_core.timescale.sql": "create table plain_1 (id int);"})
    db.migrate(schema_settings, folder, timescale_available=False)
    with pytest.raises(psycopg.errors.DuplicateTable):
        db.switch_to_timescale(schema_settings, folder, timescale_available=True)
    assert variants(schema_settings) == [(1, "plain")]

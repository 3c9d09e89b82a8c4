"""Database migrations (sql/NNN_name.sql) and facts about the connected database.

Each migration is a common file `NNN_name.sql` plus, optionally, `NNN_name.timescale.sql` (the
TimescaleDB variant) or `NNN_name.plain.sql` (the plain-PostgreSQL variant). Applied migrations are
recorded in `schema_migrations` with the variant and a checksum; a changed file that was already
applied stops the run rather than silently diverging.

The variant is chosen once, at a database's first migration (TimescaleDB when the extension is available
then, plain otherwise), and kept: every later migration follows the variant `schema_migrations` records,
whatever is installed since. (Choosing it on every run gave a database first set up plain the
TimescaleDB-only migrations once the extension was installed: `add_retention_policy(...) does not
exist`.) A database set up with TimescaleDB whose extension is no longer available stops the run, and so
does one whose records mix the variants. Moving a plain database to TimescaleDB is an explicit step,
`tradestream db switch-to-timescale` (`switch_to_timescale`), not a side effect of installing the extension.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tradestream.config import PROJECT_ROOT, Settings
from schemas.errors import StackError

log = logging.getLogger(__name__)

SQL_DIR = PROJECT_ROOT / "sql"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")

# Retention of the plain-PostgreSQL path (TimescaleDB applies its own policies: sql/001, sql/013).
PLAIN_RETENTION = {"quote_ticks": ("ts", "90 days"), "latency_metrics": ("window_end", "30 days"),
                   "indicator_snapshots": ("start", "365 days")}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    common: Path
    timescale: Path | None
    plain: Path | None

    def files(self, timescale: bool) -> list[Path]:
        variant = self.timescale if timescale else self.plain
        return [self.common] + ([variant] if variant else [])

    def checksum(self, timescale: bool) -> str:
        digest = hashlib.sha256()
        for path in self.files(timescale):
            digest.update(path.read_bytes())
        return digest.hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            continue
        stem = path.with_suffix("")
        timescale = stem.with_name(stem.name + ".timescale.sql")
        plain = stem.with_name(stem.name + ".plain.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path,
                                    timescale if timescale.exists() else None,
                                    plain if plain.exists() else None))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise StackError(f"two migrations share a version number in {sql_dir}")
    return migrations


def connect(settings: Settings, **kwargs: object) -> psycopg.Connection:
    try:
        return psycopg.connect(settings.database_url, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        raise StackError(
            f"cannot connect to PostgreSQL at {settings.redacted_database_url()}: {exc.__class__.__name__}; "
            "is the stack up (`tradestream stack up`) and DATABASE_URL right?"
        ) from None


def timescaledb_installable(conn: psycopg.Connection) -> bool:
    row = conn.execute("select 1 from pg_available_extensions where name = 'timescaledb'").fetchone()
    return row is not None


def database_variant(recorded: set[str], timescale_available: bool) -> str:
    """The variant of a database's migrations: the one its applied migrations record, else (a new database)
    TimescaleDB when the extension is available. StackError when the records cannot be followed."""
    if len(recorded) > 1:
        raise StackError(f"schema_migrations records the {' and '.join(sorted(recorded))} variants: this database "
                         "received migrations of both; compare its tables with sql/ and repair it by hand")
    if not recorded:
        return "timescale" if timescale_available else "plain"
    variant = next(iter(recorded))
    if variant not in ("plain", "timescale"):
        raise StackError(f"schema_migrations records an unknown variant {variant!r}")
    if variant == "timescale" and not timescale_available:
        raise StackError("this database was set up with TimescaleDB, whose extension is not available now; "
                         "install TimescaleDB for this PostgreSQL (or point DATABASE_URL at the right server)")
    return variant


def migrate(settings: Settings, sql_dir: Path = SQL_DIR, timescale_available: bool | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns those applied.
    `timescale_available` overrides what `pg_available_extensions` says (tests of the variant choice)."""
    applied_now: list[str] = []
    with connect(settings) as conn:
        conn.execute("select pg_advisory_lock(7310042)")  # one migrator at a time
        conn.execute(
            """create table if not exists schema_migrations (
                   version integer primary key, name text not null, variant text not null,
                   checksum text not null, applied_at timestamptz not null default now())"""
        )
        conn.commit()
        available = timescaledb_installable(conn) if timescale_available is None else timescale_available
        done = {row[0]: (row[1], row[2]) for row in
                conn.execute("select version, checksum, variant from schema_migrations")}
        variant = database_variant({v for _, v in done.values()}, available)
        timescale = variant == "timescale"
        if available and not timescale and done:
            log.info("TimescaleDB is available, but this database was set up plain and stays so")
        for migration in discover(sql_dir):
            if migration.version in done:
                checksum, done_variant = done[migration.version]
                if checksum != migration.checksum(done_variant == "timescale"):
                    raise StackError(
                        f"migration {migration.common.name} changed after it was applied; add a new "
                        "migration instead of editing an applied one"
                    )
                continue
            with conn.transaction():
                for path in migration.files(timescale):
                    conn.execute(path.read_text())
                conn.execute(
                    "insert into schema_migrations (version, name, variant, checksum) values (%s, %s, %s, %s)",
                    (migration.version, migration.name, variant, migration.checksum(timescale)),
                )
            applied_now.append(f"{migration.version:03d}_{migration.name} ({variant})")
            log.info("migration=%03d_%s variant=%s applied", migration.version, migration.name, variant)
        conn.execute("select pg_advisory_unlock(7310042)")
    return applied_now


def switch_to_timescale(settings: Settings, sql_dir: Path = SQL_DIR,
                        timescale_available: bool | None = None) -> list[str]:
    """Move a plain database to the TimescaleDB variant, in one transaction: apply the TimescaleDB file of each
    applied migration that has one (they are written to run over existing tables: `if_not_exists`,
    `migrate_data`), and record every applied migration as TimescaleDB with its new checksum. Pending
    migrations then follow the TimescaleDB variant. Returns the files applied; nothing when already switched."""
    applied: list[str] = []
    with connect(settings) as conn:
        conn.execute("select pg_advisory_lock(7310042)")
        available = timescaledb_installable(conn) if timescale_available is None else timescale_available
        if not available:
            raise StackError("TimescaleDB is not available for this PostgreSQL: install the extension first")
        has_table = conn.execute("select to_regclass('schema_migrations') is not null").fetchone()[0]
        done = {row[0]: (row[1], row[2]) for row in conn.execute(
            "select version, checksum, variant from schema_migrations")} if has_table else {}
        if not done:
            raise StackError("no migration is applied yet: `tradestream db migrate` sets a new database up with "
                             "TimescaleDB when it is available")
        if database_variant({v for _, v in done.values()}, available) == "timescale":
            return []
        migrations = [m for m in discover(sql_dir) if m.version in done]
        for migration in migrations:
            if done[migration.version][0] != migration.checksum(False):
                raise StackError(f"migration {migration.common.name} changed after it was applied; switch from the "
                                 "files that were applied")
        with conn.transaction():
            for migration in migrations:
                if migration.timescale is not None:
                    conn.execute(migration.timescale.read_text())
                    applied.append(migration.timescale.name)
                conn.execute("update schema_migrations set variant = 'timescale', checksum = %s where version = %s",
                             (migration.checksum(True), migration.version))
        conn.execute("select pg_advisory_unlock(7310042)")
    log.info("database switched to the TimescaleDB variant: %s", ", ".join(applied) or "no TimescaleDB files")
    return applied


def info(settings: Settings) -> dict[str, object]:
    """Which database path is active (TimescaleDB or plain PostgreSQL) and what is applied."""
    with connect(settings) as conn:
        version = conn.execute("show server_version").fetchone()[0]
        installed = conn.execute(
            "select extversion from pg_extension where extname = 'timescaledb'").fetchone()
        available = timescaledb_installable(conn)
        has_table = conn.execute("select to_regclass('schema_migrations') is not null").fetchone()[0]
        migrations = [
            f"{row[0]:03d}_{row[1]} ({row[2]})"
            for row in conn.execute("select version, name, variant from schema_migrations order by version")
        ] if has_table else []
    return {
        "url": settings.redacted_database_url(),
        "server_version": version,
        "path": "timescaledb" if installed else "plain-postgresql",
        "timescaledb_version": installed[0] if installed else None,
        "timescaledb_available": available,
        "migrations": migrations,
    }


def prune(settings: Settings) -> dict[str, int]:
    """Apply the plain path's retention (TimescaleDB does this itself); returns rows deleted per table."""
    deleted: dict[str, int] = {}
    with connect(settings) as conn:
        if conn.execute("select 1 from pg_extension where extname = 'timescaledb'").fetchone():
            return deleted
        for table, (column, keep) in PLAIN_RETENTION.items():
            cursor = conn.execute(
                f"delete from {table} where {column} < now() - %s::interval", (keep,))  # noqa: S608
            deleted[table] = cursor.rowcount
    return deleted

"""A project-local PostgreSQL cluster from Debian's packages (TimescaleDB is loaded when installed).

The cluster lives in `$TRADESTREAM_HOME/postgres`, listens on 127.0.0.1:$POSTGRES_PORT only (no
Unix socket), and authenticates with SCRAM and the password from POSTGRES_PASSWORD or the one
generated into `$TRADESTREAM_HOME/secrets`. PostgreSQL refuses to run as root, so when we are root
the cluster belongs to the `postgres` system user that Debian's package creates.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from tradestream.config import Settings
from schemas.errors import StackError
from tradestream.stack.process import port_bindable, wait_until

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install postgresql (Debian's packages; `make deps` does it)"


def postgres_bindir() -> Path:
    """Directory of `postgres`/`initdb`/`pg_ctl`: $PG_BINDIR, else the newest /usr/lib/postgresql/N/bin."""
    override = os.environ.get("PG_BINDIR", "").strip()
    candidates = [override] if override else sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True
    )
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    which = shutil.which("pg_ctl")
    if which and shutil.which("initdb"):
        return Path(which).resolve().parent
    raise StackError(f"PostgreSQL server binaries (initdb, pg_ctl) not found; install them with: {INSTALL_HINT}")


def timescaledb_available(bindir: Path) -> bool:
    """True when the TimescaleDB extension is installed for this server version."""
    version = bindir.parent.name
    return bool(glob.glob(f"/usr/share/postgresql/{version}/extension/timescaledb.control"))


class PostgresService:
    name = "postgres"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.link = settings.home / "postgres"
        url = urlsplit(settings.database_url)
        self.password = unquote(url.password or "")
        self.run_as = "postgres" if os.geteuid() == 0 else None

    # -- helpers ---------------------------------------------------------------------------------
    def _data_dir(self) -> Path:
        """The cluster directory; when root, one the `postgres` user can reach."""
        if self.run_as is None:
            return self.link
        if self.link.is_symlink():
            return self.link.resolve()
        if self.link.exists() or self._reachable_by_postgres(self.link.parent):
            return self.link
        # The repository sits under a folder the postgres user cannot enter (e.g. /root): keep the
        # cluster in /var/lib and leave a symlink in the data folder.
        digest = hashlib.sha256(str(self.link).encode()).hexdigest()[:12]
        target = Path("/var/lib/tradestream") / f"postgres-{digest}"
        target.parent.mkdir(parents=True, exist_ok=True)
        self.link.parent.mkdir(parents=True, exist_ok=True)
        self.link.symlink_to(target)
        return target

    def _reachable_by_postgres(self, folder: Path) -> bool:
        """True when the postgres user can enter `folder` (every ancestor is traversable)."""
        folder.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(folder)],
                                capture_output=True, check=False)
        return result.returncode == 0

    def _run(self, argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
        command = argv if self.run_as is None else ["runuser", "-u", self.run_as, "--", *argv]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd="/")
        if result.returncode != 0:
            raise StackError(f"{what} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        return result

    def ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.admin_url(), connect_timeout=2) as conn:
                conn.execute("select 1")
        except psycopg.OperationalError:
            return False
        return True

    def admin_url(self) -> str:
        url = urlsplit(self.settings.database_url)
        return url._replace(path="/postgres").geturl()

    def running(self) -> bool:
        data_dir = self._data_dir()
        pid_file = data_dir / "postmaster.pid"
        if not pid_file.exists():
            return False
        bindir = postgres_bindir()
        command = [str(bindir / "pg_ctl"), "status", "-D", str(data_dir)]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(command, capture_output=True, check=False).returncode == 0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        bindir = postgres_bindir()
        data_dir = self._data_dir()
        if self.running():
            wait_until(self.ready, 60, "PostgreSQL", data_dir / "server.log")
            self._ensure_database()
            return
        if not port_bindable("127.0.0.1", self.settings.postgres_port):
            raise StackError(
                f"port {self.settings.postgres_port} is taken by another process; stop it or set "
                "POSTGRES_PORT to a free port"
            )
        if not (data_dir / "PG_VERSION").exists():
            self._initdb(bindir, data_dir)
        self._write_config(bindir, data_dir)
        self._run([str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(data_dir),
                   "-l", str(data_dir / "server.log")], "starting PostgreSQL")
        wait_until(self.ready, 60, "PostgreSQL", data_dir / "server.log")
        self._ensure_database()

    def _initdb(self, bindir: Path, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.run_as is not None:
            account = pwd.getpwnam(self.run_as)
            os.chown(data_dir, account.pw_uid, account.pw_gid)
        with tempfile.NamedTemporaryFile("w", delete=False, dir="/tmp", prefix="tspw") as handle:
            handle.write(self.password)
            pwfile = handle.name
        try:
            if self.run_as is not None:
                account = pwd.getpwnam(self.run_as)
                os.chown(pwfile, account.pw_uid, account.pw_gid)
            user = urlsplit(self.settings.database_url).username or self.settings.postgres_user
            self._run([str(bindir / "initdb"), "-D", str(data_dir), "-U", user, f"--pwfile={pwfile}",
                       "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "-E", "UTF8",
                       "--locale=C.UTF-8"], "initdb")
        finally:
            os.unlink(pwfile)
        log.info("initialised PostgreSQL cluster in %s", data_dir)

    def _write_config(self, bindir: Path, data_dir: Path) -> None:
        lines = [
            f"port = {self.settings.postgres_port}",
            "listen_addresses = '127.0.0.1'",
            "unix_socket_directories = ''",
            "max_connections = 100",
            "shared_buffers = 256MB",
            "synchronous_commit = on",
            "timezone = 'UTC'",
            "log_timezone = 'UTC'",
        ]
        if timescaledb_available(bindir):
            lines += ["shared_preload_libraries = 'timescaledb'", "timescaledb.telemetry_level = off"]
        content = "# written by tradestream stack; edit the code, not this file\n" + "\n".join(lines) + "\n"
        conf = data_dir / "tradestream.conf"
        main_conf = data_dir / "postgresql.conf"
        command = ["sh", "-c", f"cat > '{conf}' && (grep -q \"include_if_exists = 'tradestream.conf'\" "
                   f"'{main_conf}' || echo \"include_if_exists = 'tradestream.conf'\" >> '{main_conf}')"]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        result = subprocess.run(command, input=content, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise StackError(f"writing PostgreSQL settings failed: {result.stderr}")

    def _ensure_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            exists = conn.execute("select 1 from pg_database where datname = %s",
                                  (self.settings.postgres_db,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(self.settings.postgres_db)))

    def stop(self) -> bool:
        if not self.running():
            return False
        bindir = postgres_bindir()
        self._run([str(bindir / "pg_ctl"), "stop", "-w", "-t", "60", "-m", "fast", "-D", str(self._data_dir())],
                  "stopping PostgreSQL")
        return True

    def status(self) -> dict[str, object]:
        running = self.running()
        return {
            "running": running,
            "ready": running and self.ready(),
            "url": self.settings.redacted_database_url(),
            "data_dir": str(self._data_dir()),
        }

"""Background service processes of the local stack: pid files, logs, port checks, readiness waits.

Each service runs detached (its own session, so Ctrl-C in a terminal does not kill it half-way),
writes its output to `$TRADESTREAM_HOME/logs/<name>.log` and its pid to
`$TRADESTREAM_HOME/run/<name>.pid`. `ServiceProcess.running()` trusts a pid file only while that
process is alive, so a stack whose processes died is simply started again.

Logs may hold symbols, order ids and connection details, so what we write is private: `logs/` and
`run/` are 0700, each log and pid file 0600 (existing ones are tightened when written again), and
the processes run with umask 077 (`PRIVATE_UMASK`), so the files they create are private too.
`secure_home` makes the data folder itself private.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import StackError

log = logging.getLogger(__name__)

# Files and folders our processes create: owner only.
PRIVATE_UMASK = 0o077


def private_dir(path: Path) -> Path:
    """`path` (and missing parents) as a folder only its owner can enter (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o777 != 0o700:
        path.chmod(0o700)
    return path


def open_private(path: Path, append: bool = True) -> int:
    """A file descriptor on `path` for writing, the file 0600 whether new or not."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags | os.O_CLOEXEC, 0o600)
    if os.fstat(fd).st_mode & 0o777 != 0o600:
        os.fchmod(fd, 0o600)
    return fd


def write_private(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically (a reader never sees half a file); mode 0600."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with os.fdopen(open_private(partial, append=False), "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(partial, path)


def append_private(path: Path, text: str) -> None:
    with os.fdopen(open_private(path), "a", encoding="utf-8") as handle:
        handle.write(text)


def secure_home(home: Path) -> None:
    """The data folder, and the folders and files directly in it that are ours, closed to other
    accounts (0700, files 0600); the files in `logs/` and `run/` too (0600), whoever wrote them.

    One exception: when the stack runs as root, PostgreSQL's cluster may live in `home/postgres`,
    owned by the `postgres` account, which must still reach it. Then `home` is 0710 with that
    account's group: it may pass through to its own (0700) folder, but neither list `home` nor enter
    our folders; every other account still has no access at all.
    """
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    ours = os.geteuid()
    foreign_groups = set()
    for entry in home.iterdir():
        if entry.is_symlink():
            continue
        info = entry.stat()
        if info.st_uid != ours:
            foreign_groups.add(info.st_gid)
        elif info.st_mode & 0o077:
            entry.chmod(info.st_mode & (0o700 if entry.is_dir() else 0o600))
    for folder in (home / "logs", home / "run"):
        for entry in folder.glob("*") if folder.is_dir() else ():
            info = entry.lstat()
            if stat.S_ISREG(info.st_mode) and info.st_uid == ours and info.st_mode & 0o077:
                entry.chmod(info.st_mode & 0o600)
    mode = 0o700
    if foreign_groups and ours == 0:
        if len(foreign_groups) == 1:
            os.chown(home, -1, foreign_groups.pop())
            mode = 0o710
        else:
            mode = 0o711   # several other accounts: they may pass through, not list
            log.warning("home=%s holds folders of several other accounts; it stays passable (0711)", home)
    if home.stat().st_mode & 0o777 != mode:
        home.chmod(mode)


def port_open(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def port_bindable(host: str, port: int) -> bool:
    """True when nothing listens on host:port, so a service of ours can bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def wait_until(condition: Callable[[], bool], timeout_s: float, what: str, log_path: Path | None = None,
               alive: Callable[[], bool] | None = None, interval_s: float = 0.25) -> None:
    """Poll `condition` until it is true; raise StackError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if alive is not None and not alive():
            raise StackError(f"{what} exited during start-up; see {log_path}:\n{tail(log_path)}")
        time.sleep(interval_s)
    raise StackError(f"{what} did not become ready within {timeout_s:.0f} s; see {log_path}:\n{tail(log_path)}")


def tail(path: Path | None, lines: int = 15) -> str:
    if path is None or not path.exists():
        return "(no log)"
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 8192))
        text = handle.read().decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:])


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours counts as dead.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass(frozen=True, slots=True)
class ServiceProcess:
    """One background process of the stack, known by its pid file."""

    name: str
    home: Path

    @property
    def pid_path(self) -> Path:
        return self.home / "run" / f"{self.name}.pid"

    @property
    def log_path(self) -> Path:
        return self.home / "logs" / f"{self.name}.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, argv: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
              user: str | None = None) -> subprocess.Popen:
        """Start `argv` detached (its own session and process group), appending to the service log
        (0600) under a `=== start` line, with umask 077; records the pid file. The caller owns the
        returned process and reaps it (`poll`/`wait`), which is how it learns the exit status."""
        private_dir(self.pid_path.parent)
        private_dir(self.log_path.parent)
        command = list(argv)
        if user is not None:
            command = ["runuser", "-u", user, "--", *command]
        log_fd = open_private(self.log_path)
        try:
            os.write(log_fd, f"\n=== start {utc_now()}\n".encode())
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=subprocess.STDOUT,
                env=None if env is None else dict(env),
                cwd=cwd,
                start_new_session=True,
                umask=PRIVATE_UMASK,
            )
        finally:
            os.close(log_fd)
        try:
            write_private(self.pid_path, str(proc.pid))
        except OSError as exc:   # disk full: the process runs and its caller holds it; say so, go on
            log.error("service=%s pid=%d pid file %s not written: %s", self.name, proc.pid, self.pid_path, exc)
        log.info("service=%s started pid=%d log=%s", self.name, proc.pid, self.log_path)
        return proc

    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
              user: str | None = None) -> int:
        """Start `argv` detached, logging to the service log; returns the pid."""
        return self.start(argv, env, cwd, user).pid

    def note(self, line: str) -> None:
        """Append one line to the service log, e.g. why the process ended."""
        private_dir(self.log_path.parent)
        append_private(self.log_path, f"{line}\n")

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM the process group, then SIGKILL after `timeout_s`. True if something was stopped."""
        pid = self.pid()
        if pid is None:
            self.pid_path.unlink(missing_ok=True)
            return False
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout_s
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            log.warning("service=%s pid=%d ignored SIGTERM for %.0f s; killing", self.name, pid, timeout_s)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pid_path.unlink(missing_ok=True)
        log.info("service=%s stopped pid=%d", self.name, pid)
        return True

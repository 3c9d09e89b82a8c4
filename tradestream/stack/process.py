"""Background service processes of the local stack: pid files, logs, port checks, readiness waits.

Each service runs detached (its own session, so Ctrl-C in a terminal does not kill it half-way),
writes its output to `$TRADESTREAM_HOME/logs/<name>.log` and its pid to
`$TRADESTREAM_HOME/run/<name>.pid`. `ServiceProcess.running()` trusts a pid file only while that
process is alive, so a stack whose processes died is simply started again.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import StackError

log = logging.getLogger(__name__)


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

    def spawn(self, argv: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None,
              user: str | None = None) -> int:
        """Start `argv` detached, logging to the service log; returns the pid."""
        self.pid_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = list(argv)
        if user is not None:
            command = ["runuser", "-u", user, "--", *command]
        with self.log_path.open("ab") as log_file:
            log_file.write(f"\n=== start {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n".encode())
            log_file.flush()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        self.pid_path.write_text(str(proc.pid))
        log.info("service=%s started pid=%d log=%s", self.name, proc.pid, self.log_path)
        return proc.pid

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

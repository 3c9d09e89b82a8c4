"""`PlatformRun`: a `tradestream run` of its own for tests that break the platform on purpose.

It starts the run on its own topics (TOPIC_PREFIX), data folder (TRADESTREAM_HOME) and API port, and
offers what a fault test needs: the pids, the status, a kill, a wait for the restart, a clean stop.
`test_supervisor.py` (each process killed in turn) and `test_faults.py` (the fault suite) use it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from pathlib import Path

import httpx

from connectors.kafka.codec import register_all
from tradestream.config import Settings
from tradestream.stack.process import pid_alive
from tradestream.supervisor import read_status
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

APP_PROCESSES = ("worker", "sink", "feed", "strategy", "api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PlatformRun:
    """A `tradestream run` of its own, for tests that break it on purpose; use it as a context
    manager (it stops the run and every process it started, whatever the test did)."""

    def __init__(self, settings: Settings, home: Path, prefix: str, args: tuple[str, ...] = (),
                 env: dict[str, str] | None = None) -> None:
        self.settings = settings
        self.home = home
        self.prefix = prefix
        self.api_port = free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        # The password of the local cluster lives in the shared data folder: pass the URL itself.
        self.env = {**os.environ, "TRADESTREAM_HOME": str(home), "TOPIC_PREFIX": prefix,
                    "API_PORT": str(self.api_port), "DATABASE_URL": settings.database_url, **(env or {})}
        self.args = args
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> PlatformRun:
        ensure_topics(self.settings, prefix=self.prefix)
        register_all(self.settings.schema_registry_url, prefix=self.prefix)
        self.home.mkdir(parents=True, exist_ok=True)
        self.process = spawn(["run", *self.args], self.env, self.home.parent / "run.out")
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    # -- what the run says --------------------------------------------------------------------------
    def status(self) -> dict | None:
        return read_status(self.home)

    def entry(self, name: str) -> dict:
        return self.status()["processes"][name]

    def pids(self) -> dict[str, int | None]:
        status = self.status()
        return {} if status is None else {name: p["pid"] for name, p in status["processes"].items()}

    def running_pid(self, name: str) -> int | None:
        """The pid of `name` when the status says it runs and that process is alive."""
        status = self.status()
        entry = None if status is None else status["processes"].get(name)
        if entry is None or entry["state"] != "running" or entry["pid"] is None:
            return None
        return entry["pid"] if pid_alive(entry["pid"]) else None

    def api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/health", timeout=10).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def output(self) -> str:
        return (self.home.parent / "run.out").read_text(errors="replace")[-4000:]

    # -- waits and faults ---------------------------------------------------------------------------
    def all_running(self) -> dict[str, int] | None:
        """Every process's pid when each runs (the status says so and the process is alive), else None."""
        pids = {name: self.running_pid(name) for name in APP_PROCESSES}
        return pids if all(pids.values()) else None

    def wait_all_running(self, timeout_s: float = 60) -> dict[str, int]:
        def all_running() -> dict[str, int] | None:
            assert self.process is not None and self.process.poll() is None, f"run exited:\n{self.output()}"
            return self.all_running()
        return eventually(all_running, timeout_s=timeout_s, what="every process running")

    def kill(self, name: str, signum: int = signal.SIGKILL) -> int:
        pid = self.running_pid(name)
        assert pid is not None, f"{name} is not running: {self.entry(name)}"
        os.kill(pid, signum)
        return pid

    def wait_restarted(self, name: str, old_pid: int, timeout_s: float = 30) -> int:
        def restarted() -> int | None:
            pid = self.running_pid(name)
            return pid if pid not in (None, old_pid) else None
        return eventually(restarted, timeout_s=timeout_s, interval_s=0.05, what=f"{name} restarted")

    def stop(self, timeout_s: float = 120) -> None:
        """SIGTERM the run (what Ctrl-C and `--stop` do) and wait; kill whatever is left on failure."""
        if self.process is None or self.process.poll() is not None:
            self._kill_leftovers()
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        finally:
            self._kill_leftovers()

    def _kill_leftovers(self) -> None:
        for pid in self.pids().values():
            if pid is not None and pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)

"""`tradestream run` on the real stack: each application process SIGKILLed in turn comes back by itself
with a new pid after its back-off, while the others keep their pids and the API keeps answering; the
status file records each exit (signal 9); the files the run writes are private.

`PlatformRun` starts a `tradestream run` on its own topics (TOPIC_PREFIX), data folder
(TRADESTREAM_HOME) and API port, and offers what a fault test needs: the pids, the status, a kill, a
wait for the restart, a clean stop. Other fault tests import it from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from connectors.kafka.codec import register_all
from tradestream.config import Settings
from tradestream.stack.process import pid_alive
from processors.supervision import SECOND_NS, RestartPolicy
from tradestream.supervisor import ProcessSpec, Supervisor, read_status, request_restart
from tradestream.topics import ensure_topics

from .conftest import eventually, spawn

pytestmark = pytest.mark.integration

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
    def wait_all_running(self, timeout_s: float = 60) -> dict[str, int]:
        def all_running() -> dict[str, int] | None:
            assert self.process is not None and self.process.poll() is None, f"run exited:\n{self.output()}"
            pids = {name: self.running_pid(name) for name in APP_PROCESSES}
            return pids if all(pids.values()) else None
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


def test_each_process_killed_comes_back_by_itself_while_the_others_keep_running(
        settings: Settings, unique: str, tmp_path: Path) -> None:
    with PlatformRun(settings, tmp_path / "home", f"sv{unique}.") as platform:
        platform.wait_all_running(timeout_s=60)
        eventually(platform.api_answers, timeout_s=60, what="the API answering")
        restart_s = {}
        for name in ("feed", "worker", "sink", "strategy", "api"):
            before = platform.wait_all_running(timeout_s=30)
            killed_at = time.monotonic()
            platform.kill(name)
            new_pid = platform.wait_restarted(name, before[name])
            restart_s[name] = time.monotonic() - killed_at
            others = {n: platform.running_pid(n) for n in APP_PROCESSES if n != name}
            assert others == {n: pid for n, pid in before.items() if n != name}, f"killing {name} disturbed others"
            assert new_pid != before[name]

            entry = platform.entry(name)
            assert entry["restarts"] == 1 and entry["failures_in_a_row"] == 1
            assert (entry["last_exit"]["signal"], entry["last_exit"]["signal_name"]) == (9, "SIGKILL")
            assert entry["last_exit"]["returncode"] == -9
            # Started again after the first back-off (1 s) and not much later.
            exited = _parse_iso(entry["last_exit"]["at"])
            assert 1.0 <= _parse_iso(entry["since"]) - exited < 3.0, entry
            eventually(platform.api_answers, timeout_s=60, what=f"the API answering after killing {name}")
            # The line the run wrote into the killed process's log says how it ended.
            exits = [line for line in Path(entry["log"]).read_text().splitlines() if line.startswith("=== exit")]
            assert exits and f"pid={before[name]} killed by signal 9 (SIGKILL)" in exits[-1]
        print(f"\nrestart after SIGKILL, seconds (kill to the new pid in the status): "
              f"{ {name: round(s, 2) for name, s in restart_s.items()} }")

        home = platform.home
        assert stat.S_IMODE(home.stat().st_mode) == 0o700
        for folder in (home / "logs", home / "run"):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        written = [*home.joinpath("logs").iterdir(), *home.joinpath("run").glob("*.pid"), home / "run/supervisor.json"]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in written} == {f.name: 0o600 for f in written}

        # An operator's restart from another terminal: stopped cleanly, started at once, not a failure.
        before = platform.wait_all_running(timeout_s=30)
        restarted = subprocess.run([sys.executable, "-m", "tradestream.cli", "run", "--restart", "sink"],
                                   env=platform.env, capture_output=True, text=True, timeout=90)
        assert restarted.returncode == 0, restarted.stderr
        entry = platform.entry("sink")
        assert entry["pid"] != before["sink"] and entry["restarts"] == 2 and entry["failures_in_a_row"] == 0
        shown = subprocess.run([sys.executable, "-m", "tradestream.cli", "run", "--status", "--json"],
                               env=platform.env, capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stdout + shown.stderr      # 0: every process runs
        assert json.loads(shown.stdout)["processes"].keys() == set(APP_PROCESSES)

        pids = platform.pids()
        platform.stop()
        assert platform.process.returncode == 0, platform.output()
        assert not [name for name, pid in pids.items() if pid_alive(pid)]
        status = platform.status()
        assert status["supervisor"]["state"] == "stopped"
        assert {p["state"] for p in status["processes"].values()} == {"stopped"}
        assert all(p["pid"] is None and p["last_exit"] is not None for p in status["processes"].values())


def _parse_iso(text: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def test_a_crash_looping_process_backs_off_and_is_given_up_while_another_keeps_running(tmp_path: Path) -> None:
    """Small Python programs instead of the platform: no stack needed, the back-off shortened."""
    crash = (sys.executable, "-c", "import sys; print('starting'); "
             "print('ValueError: CRASH_SETTING is not a number', file=sys.stderr); sys.exit(3)")
    steady = (sys.executable, "-c", "import time; time.sleep(600)")
    policy = RestartPolicy(initial_backoff_ns=SECOND_NS // 10, max_backoff_ns=SECOND_NS // 5,
                           stable_after_ns=60 * SECOND_NS, max_failures=4, stop_timeout_ns=5 * SECOND_NS)
    home = tmp_path / "home"
    supervisor = Supervisor([ProcessSpec("steady", steady), ProcessSpec("crashing", crash)], home, policy,
                            poll_interval_s=0.02)
    stop = threading.Event()
    loop = threading.Thread(target=supervisor.run, args=(stop,))
    loop.start()
    try:
        def status(name: str) -> dict:
            current = read_status(home)
            return {} if current is None else current["processes"][name]

        steady_pid = eventually(lambda: status("steady").get("pid"), timeout_s=10, what="steady started")
        gave_up = eventually(lambda: status("crashing").get("state") == "gave-up" and status("crashing"),
                             timeout_s=10, what="crashing given up")
        # Four failures in a row: three restarts after 0.1, 0.2 and 0.2 s (capped), then given up.
        assert (gave_up["restarts"], gave_up["failures_in_a_row"], gave_up["pid"]) == (3, 4, None)
        assert gave_up["last_exit"]["returncode"] == 3 and gave_up["last_exit"]["description"] == "exit status 3"
        assert gave_up["last_error"] == "ValueError: CRASH_SETTING is not a number"
        assert gave_up["log_tail"] == ["starting", "ValueError: CRASH_SETTING is not a number"]
        assert status("steady")["pid"] == steady_pid and status("steady")["restarts"] == 0

        # An operator's restart of the steady one: SIGTERM, then started again at once.
        request_restart(home, "steady")
        entry = eventually(lambda: status("steady")["pid"] not in (None, steady_pid) and status("steady"),
                           timeout_s=10, what="steady restarted")
        assert entry["last_exit"]["signal_name"] == "SIGTERM" and entry["failures_in_a_row"] == 0
    finally:
        stop.set()
        loop.join(timeout=30)
    assert not loop.is_alive()
    final = read_status(home)
    assert final["supervisor"]["state"] == "stopped" and final["processes"]["steady"]["pid"] is None

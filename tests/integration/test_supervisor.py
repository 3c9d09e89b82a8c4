"""`tradestream run` on the real stack: each application process SIGKILLed in turn comes back by itself
with a new pid after its back-off, while the others keep their pids and the API keeps answering; the
status file records each exit (signal 9); the files the run writes are private.

`PlatformRun` (in `platform_run.py`, shared with the fault suite) starts a `tradestream run` on its own
topics (TOPIC_PREFIX), data folder (TRADESTREAM_HOME) and API port.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from processors.supervision import SECOND_NS, RestartPolicy
from tradestream.config import Settings
from tradestream.stack.process import pid_alive
from tradestream.supervisor import ProcessSpec, Supervisor, read_status, request_restart

from .conftest import eventually
from .platform_run import APP_PROCESSES, PlatformRun

pytestmark = pytest.mark.integration


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

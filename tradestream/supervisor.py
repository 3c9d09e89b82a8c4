"""Runs the application processes of `tradestream run` and starts again any that exits.

The decisions (back-off, reset after a stable run, give-up, an operator's restart) are
`processors.supervision.Supervision`'s; this module only wires it to real processes: it starts them
(`ServiceProcess.start`: own session, log in `logs/<name>.log`, umask 077), reaps them every
`poll_interval_s` to learn their exit status, signals them, and reports:

- a line in the process's own log when it ends (`=== exit <time> pid=… killed by signal 9 (SIGKILL)
  after 12.3 s; restart 1 in 1.0 s`), so the log says how each run ended;
- a WARNING record (logger `tradestream.supervisor`, also in `logs/supervisor.log`) with the process
  name, pid, exit status or signal, uptime, what happens next and the last error line of its log;
- the status file `run/supervisor.json` (0600, replaced atomically at every change), which
  `tradestream run --status` prints and the API's health may read: per process its pid, state,
  restarts, failures in a row, last exit (status, signal, time, uptime), last error, log tail and
  next start time, plus the supervisor's own pid and policy.

An operator asks for a restart from another terminal by dropping a file named after the process in
`run/restart-requests/` (`request_restart`, what `tradestream run --restart NAME` does); the loop
picks it up at its next poll. Processes are polled rather than waited on by a SIGCHLD handler: a
0.2 s poll costs nothing next to the 1 s first back-off, and keeps signal handling to the caller.

Helpers for other tools and tests: `read_status`, `supervisor_pid`, `request_restart`, `status_path`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from processors.supervision import (
    GIVE_UP, KILL, RESTART, START, TERMINATE, Decision, ExitStatus, ProcessStatus, RestartPolicy, Supervision,
    last_error,
)
from schemas.errors import StackError
from tradestream.stack.process import (
    ServiceProcess, pid_alive, private_dir, secure_home, tail, utc_now, write_private,
)

log = logging.getLogger(__name__)

STATUS_FILE = "supervisor.json"
PID_NAME = "supervisor"
REQUESTS_DIR = "restart-requests"
LOG_TAIL_LINES = 10


@dataclass(frozen=True, slots=True)
class ProcessSpec:
    """One supervised process: its name (the log and pid file names) and its command line."""

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = field(default=None)


def status_path(home: Path) -> Path:
    return home / "run" / STATUS_FILE


def read_status(home: Path) -> dict | None:
    """The last status the supervisor wrote, or None when there is none."""
    try:
        return json.loads(status_path(home).read_text())
    except FileNotFoundError:
        return None


def supervisor_pid(home: Path) -> int | None:
    """The pid of the `tradestream run` supervising in `home`, when one is alive."""
    return ServiceProcess(PID_NAME, home).pid()


def request_restart(home: Path, name: str) -> None:
    """Ask the running supervisor to restart `name` now (back-off and give-up cleared)."""
    folder = private_dir(home / "run" / REQUESTS_DIR)
    write_private(folder / name, utc_now())


def _iso(wall_ns: int | None) -> str | None:
    if wall_ns is None:
        return None
    seconds, fraction = divmod(wall_ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction // 1_000_000:03d}Z"


def _since_start_marker(lines: list[str]) -> list[str]:
    """The lines a run wrote: those after the last `=== start` line of the log."""
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith("=== start"):
            return lines[index + 1:]
    return lines


class Supervisor:
    """Starts every process of `specs`, restarts those that exit, until `run`'s `stop` is set."""

    def __init__(self, specs: Sequence[ProcessSpec], home: Path, policy: RestartPolicy,
                 clock_ns: Callable[[], int] = time.monotonic_ns, wall_ns: Callable[[], int] = time.time_ns,
                 poll_interval_s: float = 0.2) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.home = home
        self.clock_ns = clock_ns
        self.wall_ns = wall_ns
        self.poll_interval_s = poll_interval_s
        self.machine = Supervision(tuple(self.specs), policy, clock_ns())
        self.services = {name: ServiceProcess(name, home) for name in self.specs}
        self.children: dict[str, subprocess.Popen] = {}
        self.log_tails: dict[str, list[str]] = {}
        self.started_wall_ns = wall_ns()
        self._written_revision = -1
        self._status_failing = False
        self._state = "running"

    # -- the loop ---------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Supervise until `stop` is set, then stop every process (in reverse order) and return."""
        secure_home(self.home)
        private_dir(self.home / "run")
        write_private(ServiceProcess(PID_NAME, self.home).pid_path, str(os.getpid()))
        private_dir(self.home / "run" / REQUESTS_DIR)
        for stale in (self.home / "run" / REQUESTS_DIR).iterdir():
            stale.unlink()   # a request for an earlier run
        try:
            while not stop.is_set():
                self.poll()
                stop.wait(self.poll_interval_s)
        finally:
            self.shutdown()
            ServiceProcess(PID_NAME, self.home).pid_path.unlink(missing_ok=True)

    def poll(self) -> None:
        """One turn: record exits, take restart requests, do what is due, write the status if changed."""
        for name, child in list(self.children.items()):
            if child.poll() is not None:
                self._exited(name, child)
        self._take_requests()
        for action in self.machine.due(self.clock_ns()):
            if action.kind == START:
                self._start(action.name)
            elif action.kind == KILL:
                self._signal(action.name, signal.SIGKILL)
        if self.machine.revision != self._written_revision:
            self.write_status()

    def shutdown(self, timeout_s: float | None = None) -> None:
        """Stop every process, the last started first; each gets `timeout_s` (the policy's stop
        timeout) to exit after SIGTERM before SIGKILL."""
        if timeout_s is None:
            timeout_s = self.machine.policy.stop_timeout_ns / 1e9
        self.machine.shutdown(self.clock_ns())
        self._state = "stopping"
        self.write_status()
        for name in reversed(tuple(self.specs)):
            child = self.children.get(name)
            if child is None:
                continue
            self._signal(name, signal.SIGTERM, quiet=True)
            try:
                child.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("process=%s pid=%d ignored SIGTERM for %.0f s; killing", name, child.pid, timeout_s)
                self._signal(name, signal.SIGKILL)
                child.wait()
            self._exited(name, child)
        self._state = "stopped"
        self.write_status()

    # -- actions --------------------------------------------------------------------------------------
    def _start(self, name: str) -> None:
        spec = self.specs[name]
        now = self.clock_ns()
        try:
            child = self.services[name].start(spec.argv, env=spec.env)
        except OSError as exc:   # fork or exec failed (no memory, too many processes): back off and retry
            decision = self.machine.exited(name, ExitStatus(None, str(exc)), now, str(exc))
            self._report(decision, pid=None)
            return
        self.children[name] = child
        self.machine.started(name, child.pid, now)
        restarts = self.machine.snapshot()[name].restarts
        if restarts:
            log.warning("process=%s restarted pid=%d restarts=%d", name, child.pid, restarts)

    def _signal(self, name: str, signum: signal.Signals, quiet: bool = False) -> None:
        child = self.children.get(name)
        if child is None:
            return
        log.log(logging.INFO if quiet else logging.WARNING, "process=%s pid=%d sending %s", name, child.pid,
                signum.name)
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    def _exited(self, name: str, child: subprocess.Popen) -> None:
        del self.children[name]
        status = ExitStatus(child.returncode)
        # Whatever it left in its process group goes with it (the group id is the dead leader's pid,
        # which the kernel does not hand out again while the group has members).
        try:
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        lines = _since_start_marker(tail(self.services[name].log_path, lines=LOG_TAIL_LINES * 5).splitlines())
        self.log_tails[name] = lines[-LOG_TAIL_LINES:]
        decision = self.machine.exited(name, status, self.clock_ns(), last_error(lines))
        self.services[name].pid_path.unlink(missing_ok=True)
        self._report(decision, pid=child.pid)

    def _report(self, decision: Decision, pid: int | None) -> None:
        name = decision.name
        uptime_s = decision.uptime_ns / 1e9
        error = self.machine.snapshot()[name].last_error
        try:
            self.services[name].note(f"=== exit {utc_now()} pid={pid} {decision.exit.describe()} after "
                                     f"{uptime_s:.1f} s; {decision.describe()}")
        except OSError as exc:   # disk full: the record below still says it
            log.error("process=%s exit not written to %s: %s", name, self.services[name].log_path, exc)
        if decision.action in (RESTART, GIVE_UP) and decision.failures:
            level = logging.ERROR if decision.action == GIVE_UP else logging.WARNING
            log.log(level, "process=%s pid=%s exited: %s after %.1f s; %s; last_error=%s last_lines=%s log=%s",
                    name, pid, decision.exit.describe(), uptime_s, decision.describe(), json.dumps(error),
                    json.dumps(self.log_tails.get(name, [])[-3:]), self.services[name].log_path)
        else:
            log.info("process=%s pid=%s exited: %s after %.1f s; %s", name, pid, decision.exit.describe(),
                     uptime_s, decision.describe())

    def _take_requests(self) -> None:
        folder = self.home / "run" / REQUESTS_DIR
        try:
            requests = sorted(folder.iterdir())
        except FileNotFoundError:
            return
        for request in requests:
            if request.name.startswith("."):
                continue   # still being written (`write_private`'s temporary file)
            request.unlink(missing_ok=True)
            name = request.name
            if name not in self.specs:
                log.warning("restart request for unknown process %r ignored", name)
                continue
            log.warning("process=%s restart requested by an operator", name)
            action = self.machine.request_restart(name, self.clock_ns())
            if action is not None and action.kind == TERMINATE:
                self._signal(name, signal.SIGTERM)

    # -- status -----------------------------------------------------------------------------------------
    def _wall(self, clock_ns: int | None) -> int | None:
        """A time of the supervision clock (monotonic) as wall-clock nanoseconds."""
        if clock_ns is None:
            return None
        return self.wall_ns() - (self.clock_ns() - clock_ns)

    def _process_entry(self, status: ProcessStatus) -> dict[str, object]:
        last_exit = None
        if status.last_exit is not None:
            last_exit = {**status.last_exit.as_dict(), "at": _iso(self._wall(status.last_exit_ns)),
                         "uptime_s": round((status.last_uptime_ns or 0) / 1e9, 3)}
        return {"pid": status.pid, "state": status.state, "since": _iso(self._wall(status.since_ns)),
                "restarts": status.restarts, "failures_in_a_row": status.failures, "last_exit": last_exit,
                "last_error": status.last_error, "log_tail": self.log_tails.get(status.name, []),
                "next_start_at": _iso(self._wall(status.next_start_ns)),
                "log": str(self.services[status.name].log_path)}

    def status(self) -> dict[str, object]:
        return {
            "supervisor": {"pid": os.getpid(), "state": self._state, "started_at": _iso(self.started_wall_ns),
                           "updated_at": _iso(self.wall_ns()), "policy": self.machine.policy.as_dict()},
            "processes": {name: self._process_entry(s) for name, s in self.machine.snapshot().items()},
        }

    def write_status(self) -> None:
        """Replace the status file; a failed write (disk full) is logged and retried at the next
        change, never allowed to stop the supervision of running processes."""
        revision = self.machine.revision
        try:
            write_private(status_path(self.home), json.dumps(self.status(), indent=2) + "\n")
        except OSError as exc:
            if not self._status_failing:   # once per streak of failures, not at every poll
                log.error("status file %s not written (retried at every poll): %s", status_path(self.home), exc)
            self._status_failing = True
            return
        if self._status_failing:
            log.warning("status file %s written again", status_path(self.home))
        self._status_failing = False
        self._written_revision = revision


def stop_orphans(home: Path, names: Sequence[str], timeout_s: float = 30.0) -> list[str]:
    """Stop processes of `names` left running by a supervisor that died (their pid files are alive):
    a new supervisor must own its processes to learn how they end. Returns the names stopped."""
    stopped = []
    for name in reversed(tuple(names)):
        service = ServiceProcess(name, home)
        pid = service.pid()
        if pid is not None:
            log.warning("process=%s pid=%d left by an earlier run; stopping it", name, pid)
            service.stop(timeout_s)
            stopped.append(name)
    return stopped


def ensure_not_supervised(home: Path) -> None:
    pid = supervisor_pid(home)
    if pid is not None and pid != os.getpid() and pid_alive(pid):
        raise StackError(f"`tradestream run` (pid {pid}) already supervises the processes in {home}; "
                         "`tradestream run --status` shows them, `tradestream run --stop` stops them")

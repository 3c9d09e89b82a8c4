"""Restart decisions for the application processes of `tradestream run`, as a pure state machine.

Time is given by the caller (`now_ns`, from any monotonic clock); nothing here reads a clock, starts,
signals or waits for a process. The wiring (`tradestream.supervisor`) reports what happened
(`started`, `exited`, an operator's `request_restart`, `shutdown`) and asks on every poll what to do
now (`due`). One `Supervision` holds every process; each is decided on its own, so one process
crash-looping never holds up the others.

- A process that exits, whatever its status (0 included: a service is not supposed to end), is
  started again after a back-off: `initial_backoff_ns` after its first failure in a row, doubled at
  each further one, at most `max_backoff_ns` (1, 2, 4, 8, 16, 32, 60, 60 … s by default).
- A run that lasted `stable_after_ns` or more was healthy: its failures in a row are forgotten (at that
  moment, so the status shows it), and its next crash is restarted after `initial_backoff_ns` again.
- After `max_failures` failures in a row the process is given up (state `gave-up`) until an operator
  asks for a restart; 0 means never give up. With the defaults a process that cannot start is given up
  after about 4 minutes of trying (1 + 2 + … + 32 + 60 + 60 + 60 s of back-off).
- An operator's restart clears the back-off and a give-up. A running process is first asked to stop
  (`terminate`, which the caller does at once), killed if it has not exited `stop_timeout_ns` later,
  and started again as soon as it has exited; that exit is not a failure. A waiting or given-up process
  is started at once.
- After `shutdown` nothing is started again.

`ExitStatus` describes an exit the way an operator reads it ("exit status 1", "killed by signal 9
(SIGKILL)"); `last_error` picks the line of a log tail that most likely says why.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SECOND_NS = 1_000_000_000

# Process states, as the status file spells them.
WAITING = "waiting"        # to be started at `next_start_ns` (the first start, or a back-off)
RUNNING = "running"
STOPPING = "stopping"      # an operator's restart: asked to stop, started again once it has exited
GAVE_UP = "gave-up"        # too many failures in a row; an operator's restart starts it again
STOPPED = "stopped"        # the supervisor is shutting down or has shut down

# What the caller is asked to do.
START = "start"
TERMINATE = "terminate"    # SIGTERM: stop cleanly
KILL = "kill"              # SIGKILL: it did not stop within `stop_timeout_ns`

# What an exit leads to (`Decision.action`).
RESTART = "restart"
GIVE_UP = "give-up"
NONE = "none"              # shutting down: the exit was expected


@dataclass(frozen=True, slots=True, kw_only=True)
class RestartPolicy:
    initial_backoff_ns: int = 1 * SECOND_NS
    max_backoff_ns: int = 60 * SECOND_NS
    stable_after_ns: int = 60 * SECOND_NS
    max_failures: int = 10
    stop_timeout_ns: int = 30 * SECOND_NS

    def __post_init__(self) -> None:
        if self.initial_backoff_ns <= 0:
            raise ValueError("initial_backoff_ns must be positive")
        if self.max_backoff_ns < self.initial_backoff_ns:
            raise ValueError("max_backoff_ns must be at least initial_backoff_ns")
        if self.stable_after_ns <= 0:
            raise ValueError("stable_after_ns must be positive")
        if self.max_failures < 0:
            raise ValueError("max_failures must not be negative (0: never give up)")
        if self.stop_timeout_ns <= 0:
            raise ValueError("stop_timeout_ns must be positive")

    def backoff_ns(self, failures: int) -> int:
        """The wait before the next start after `failures` failures in a row (1 or more)."""
        if failures < 1:
            raise ValueError("failures must be at least 1")
        delay = self.initial_backoff_ns
        for _ in range(failures - 1):
            delay *= 2
            if delay >= self.max_backoff_ns:
                return self.max_backoff_ns
        return min(delay, self.max_backoff_ns)

    def as_dict(self) -> dict[str, float | int]:
        return {"initial_backoff_s": self.initial_backoff_ns / SECOND_NS,
                "max_backoff_s": self.max_backoff_ns / SECOND_NS,
                "stable_after_s": self.stable_after_ns / SECOND_NS,
                "max_failures": self.max_failures,
                "stop_timeout_s": self.stop_timeout_ns / SECOND_NS}


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How a process ended, as `subprocess` reports it: `returncode` N >= 0 is `exit(N)`, -N is "killed
    by signal N", None is "never started" (`detail` says why)."""

    returncode: int | None
    detail: str = ""

    @property
    def signal_number(self) -> int | None:
        return -self.returncode if self.returncode is not None and self.returncode < 0 else None

    @property
    def signal_name(self) -> str | None:
        number = self.signal_number
        if number is None:
            return None
        try:
            return signal.Signals(number).name
        except ValueError:
            return f"signal {number}"

    def describe(self) -> str:
        if self.returncode is None:
            return f"could not start: {self.detail}" if self.detail else "could not start"
        if self.signal_number is not None:
            return f"killed by signal {self.signal_number} ({self.signal_name})"
        return f"exit status {self.returncode}"

    def as_dict(self) -> dict[str, object]:
        return {"returncode": self.returncode, "signal": self.signal_number, "signal_name": self.signal_name,
                "description": self.describe()}


@dataclass(frozen=True, slots=True)
class Decision:
    """What an exit leads to, with the numbers a log line needs."""

    name: str
    exit: ExitStatus
    action: str             # RESTART, GIVE_UP or NONE
    uptime_ns: int          # how long the run lasted (0 when it never started)
    failures: int           # failures in a row, this one included (0: not a failure, e.g. an operator's restart)
    delay_ns: int = 0       # wait before the next start (RESTART)
    restart: int = 0        # the number of the coming restart (RESTART)

    def describe(self) -> str:
        if self.action == RESTART:
            return f"restart {self.restart} in {self.delay_ns / SECOND_NS:.1f} s (failures in a row: {self.failures})"
        if self.action == GIVE_UP:
            return (f"gave up after {self.failures} failures in a row; "
                    "`tradestream run --restart NAME` starts it again")
        return "not restarted (shutting down)"


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    kind: str               # START, TERMINATE or KILL


@dataclass(frozen=True, slots=True)
class ProcessStatus:
    """One process as the status file shows it; times are in the caller's clock."""

    name: str
    state: str
    pid: int | None
    since_ns: int           # when it entered `state`
    restarts: int           # starts after the first one
    failures: int           # failures in a row (reset after `stable_after_ns` up, or by an operator)
    last_exit: ExitStatus | None
    last_exit_ns: int | None
    last_uptime_ns: int | None
    last_error: str | None
    next_start_ns: int | None


@dataclass(slots=True)
class _Process:
    name: str
    state: str
    since_ns: int
    pid: int | None = None
    started_ns: int | None = None
    starts: int = 0
    failures: int = 0
    next_start_ns: int | None = None
    kill_at_ns: int | None = None
    last_exit: ExitStatus | None = None
    last_exit_ns: int | None = None
    last_uptime_ns: int | None = None
    last_error: str | None = None


class Supervision:
    """The restart decisions for a fixed set of named processes, all waiting for their first start."""

    def __init__(self, names: Sequence[str], policy: RestartPolicy, now_ns: int) -> None:
        if not names:
            raise ValueError("names must not be empty")
        if len(set(names)) != len(names):
            raise ValueError(f"names must be unique: {list(names)}")
        self.policy = policy
        self._processes = {name: _Process(name, WAITING, now_ns, next_start_ns=now_ns) for name in names}
        self.revision = 0   # grows at every change of what `snapshot` returns

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._processes)

    def _process(self, name: str) -> _Process:
        try:
            return self._processes[name]
        except KeyError:
            raise ValueError(f"no process named {name!r}; known: {', '.join(self._processes)}") from None

    def _enter(self, process: _Process, state: str, now_ns: int) -> None:
        process.state = state
        process.since_ns = now_ns
        self.revision += 1

    # -- what happened --------------------------------------------------------------------------------
    def started(self, name: str, pid: int, now_ns: int) -> None:
        process = self._process(name)
        if process.state != WAITING:
            raise ValueError(f"{name} was started while {process.state}; only a waiting process is started")
        process.pid = pid
        process.started_ns = now_ns
        process.starts += 1
        process.next_start_ns = None
        self._enter(process, RUNNING, now_ns)

    def exited(self, name: str, status: ExitStatus, now_ns: int, last_error: str | None = None) -> Decision:
        """Record an exit (or a failed start, `status.returncode` None, while waiting) and decide."""
        process = self._process(name)
        if process.state not in (RUNNING, STOPPING, STOPPED, WAITING):
            raise ValueError(f"{name} exited while {process.state}")
        uptime = now_ns - process.started_ns if process.pid is not None and process.started_ns is not None else 0
        process.pid = None
        process.kill_at_ns = None
        process.last_exit = status
        process.last_exit_ns = now_ns
        process.last_uptime_ns = uptime
        process.last_error = last_error
        if process.state == STOPPED:
            self.revision += 1
            return Decision(name, status, NONE, uptime, 0)
        if process.state == STOPPING:       # an operator's restart: at once, not a failure
            process.failures = 0
            process.next_start_ns = now_ns
            self._enter(process, WAITING, now_ns)
            return Decision(name, status, RESTART, uptime, 0, 0, process.starts)
        if uptime >= self.policy.stable_after_ns:
            process.failures = 0
        process.failures += 1
        if self.policy.max_failures and process.failures >= self.policy.max_failures:
            process.next_start_ns = None
            self._enter(process, GAVE_UP, now_ns)
            return Decision(name, status, GIVE_UP, uptime, process.failures)
        delay = self.policy.backoff_ns(process.failures)
        process.next_start_ns = now_ns + delay
        self._enter(process, WAITING, now_ns)
        return Decision(name, status, RESTART, uptime, process.failures, delay, process.starts)

    def request_restart(self, name: str, now_ns: int) -> Action | None:
        """An operator's restart. Returns TERMINATE when the running process is to be stopped first;
        None when it is started by the next `due` (or not at all, when shutting down)."""
        process = self._process(name)
        if process.state == STOPPED:
            return None
        process.failures = 0
        if process.state in (RUNNING, STOPPING):
            process.kill_at_ns = now_ns + self.policy.stop_timeout_ns
            self._enter(process, STOPPING, now_ns)
            return Action(name, TERMINATE)
        process.next_start_ns = now_ns
        self._enter(process, WAITING, now_ns)
        return None

    def shutdown(self, now_ns: int) -> None:
        """Nothing is started again; the caller stops the running processes and reports their exits."""
        for process in self._processes.values():
            process.next_start_ns = None
            process.kill_at_ns = None
            self._enter(process, STOPPED, now_ns)

    # -- what to do now ---------------------------------------------------------------------------------
    def due(self, now_ns: int) -> list[Action]:
        """The starts and kills due at `now_ns`, in the order the names were given. Also forgets the
        failures of a process that has now been up `stable_after_ns`."""
        actions = []
        for process in self._processes.values():
            if process.state == WAITING and process.next_start_ns is not None and now_ns >= process.next_start_ns:
                actions.append(Action(process.name, START))
            elif process.state == STOPPING and process.kill_at_ns is not None and now_ns >= process.kill_at_ns:
                process.kill_at_ns = None   # once; the exit follows
                actions.append(Action(process.name, KILL))
            elif (process.state == RUNNING and process.failures and process.started_ns is not None
                  and now_ns - process.started_ns >= self.policy.stable_after_ns):
                process.failures = 0
                self.revision += 1
        return actions

    def pid(self, name: str) -> int | None:
        return self._process(name).pid

    def snapshot(self) -> dict[str, ProcessStatus]:
        return {p.name: ProcessStatus(name=p.name, state=p.state, pid=p.pid, since_ns=p.since_ns,
                                      restarts=max(0, p.starts - 1), failures=p.failures, last_exit=p.last_exit,
                                      last_exit_ns=p.last_exit_ns, last_uptime_ns=p.last_uptime_ns,
                                      last_error=p.last_error, next_start_ns=p.next_start_ns)
                for p in self._processes.values()}


# A Python exception line ("ValueError: …", "confluent_kafka.KafkaException: …"), or a log record at
# ERROR or CRITICAL in our text or JSON formats.
_ERROR_LINE = re.compile(
    r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Failure|Warning))(?::|$)"
    r"|\b(?:ERROR|CRITICAL|FATAL)\b"
    r'|"level":\s*"(?:ERROR|CRITICAL)"')


def last_error(lines: Iterable[str]) -> str | None:
    """The last line that reads as an error (an exception's last line, an ERROR/CRITICAL record), or
    None when there is none: a process killed from outside usually logged nothing about it."""
    found = None
    for line in lines:
        text = line.strip()
        if text and _ERROR_LINE.search(text):
            found = text
    return found

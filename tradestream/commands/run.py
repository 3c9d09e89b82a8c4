"""`tradestream run`: the application processes of `make run` (worker, sink, simulated feed, the
strategy in STRATEGY_CONFIG (default examples/strategies/correlation.yaml) trading in the account of
ACCOUNT_CONFIG (default examples/accounts/paper.yaml) on the paper broker, API), supervised.

The stack must be up (`tradestream stack up`). Each process runs in the background with its log in
`$TRADESTREAM_HOME/logs`; `tradestream.supervisor` starts again any process that exits (back-off 1 s
doubling to 60 s, reset after 60 s up, given up after 10 failures in a row) while the others keep
running, and writes `run/supervisor.json`. This command prints when the API reports every component
up, and runs until Ctrl-C (or SIGTERM, or `--stop` from another terminal), which stops the
application processes. The stack keeps running: it is shared with `make test` and the benchmarks,
and takes far longer to start than the processes; `make stop` stops both.

Other terminals: `--status` prints the supervisor's status file (exit 0 when every process runs),
`--restart NAME` restarts one process now, `--stop` stops the run.

With a TOPIC_PREFIX other than the default, the consumer groups of the worker, the sink and the strategy
runners (whose group shares out the strategies' leases) carry the prefix, so a run on its own topics (a test, a
second environment) never joins the groups of another.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

import httpx

from processors.supervision import RUNNING, SECOND_NS, RestartPolicy
from schemas.errors import ConfigError, StackError
from tradestream.config import PROJECT_ROOT, Settings
from tradestream.stack.process import (
    PRIVATE_UMASK, ServiceProcess, open_private, pid_alive, port_bindable, private_dir, wait_until,
)
from tradestream.supervisor import (
    ProcessSpec, Supervisor, ensure_not_supervised, read_status, request_restart, status_path, stop_orphans,
    supervisor_pid,
)

log = logging.getLogger(__name__)

APP_PROCESSES = ("worker", "sink", "feed", "strategy", "api")
DEFAULT_STRATEGY = PROJECT_ROOT / "examples" / "strategies" / "correlation.yaml"
DEFAULT_ACCOUNT = PROJECT_ROOT / "examples" / "accounts" / "paper.yaml"
DEFAULT_TOPIC_PREFIX = "ts."


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run the worker, sink, simulated feed, strategy and API, restarting any that exits, until Ctrl-C",
        description="Run the application processes under a supervisor that restarts any that exits, until "
                    "Ctrl-C. The stack keeps running (`make stop` stops it).")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--stop", action="store_true", help="stop the processes a `run` started (and the run)")
    action.add_argument("--status", action="store_true",
                        help="print each process's state, pid, restarts and last exit; exit 0 when all run")
    action.add_argument("--restart", metavar="PROCESS", choices=APP_PROCESSES,
                        help=f"restart one process of the running `run` now ({', '.join(APP_PROCESSES)})")
    parser.add_argument("--json", action="store_true", help="with --status: the status file as it is")
    parser.add_argument("--ready-timeout", type=float, default=120.0,
                        help="seconds to wait for /api/health to report every component up")
    policy = parser.add_argument_group("restart policy")
    policy.add_argument("--backoff-initial-s", type=float, default=1.0, help="wait before the first restart (1)")
    policy.add_argument("--backoff-max-s", type=float, default=60.0, help="longest wait between restarts (60)")
    policy.add_argument("--stable-after-s", type=float, default=60.0,
                        help="a run this long resets the back-off (60)")
    policy.add_argument("--max-failures", type=int, default=10,
                        help="give a process up after this many failures in a row; 0: never (10)")
    policy.add_argument("--stop-timeout-s", type=float, default=30.0,
                        help="wait after SIGTERM before SIGKILL when stopping a process (30)")
    parser.set_defaults(func=run)


def _group(base: str, prefix: str) -> str:
    return base if prefix == DEFAULT_TOPIC_PREFIX else f"{base}-{prefix.rstrip('.')}"


def _commands(settings: Settings) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "tradestream.cli"]
    prefix = settings.topic_prefix
    return {
        "worker": [*cli, "worker", "--app-id", _group("tradestream-worker", prefix)],
        "sink": [*cli, "sink", "--group", _group("tradestream-sink", prefix)],
        "feed": [*cli, "feed", "simulated"],
        "strategy": [*cli, "strategy", "run", "--config", os.environ.get("STRATEGY_CONFIG") or str(DEFAULT_STRATEGY),
                     "--account", os.environ.get("ACCOUNT_CONFIG") or str(DEFAULT_ACCOUNT),
                     "--group", _group("tradestream-strategy-runners", prefix)],
        "api": [*cli, "api", "--host", settings.api_host, "--port", str(settings.api_port)],
    }


def _policy(args: argparse.Namespace) -> RestartPolicy:
    flags = {"initial_backoff_ns": "--backoff-initial-s", "max_backoff_ns": "--backoff-max-s",
             "stable_after_ns": "--stable-after-s", "max_failures": "--max-failures",
             "stop_timeout_ns": "--stop-timeout-s"}
    try:
        return RestartPolicy(initial_backoff_ns=int(args.backoff_initial_s * SECOND_NS),
                             max_backoff_ns=int(args.backoff_max_s * SECOND_NS),
                             stable_after_ns=int(args.stable_after_s * SECOND_NS),
                             max_failures=args.max_failures,
                             stop_timeout_ns=int(args.stop_timeout_s * SECOND_NS))
    except ValueError as exc:
        field = next((flag for name, flag in flags.items() if str(exc).startswith(name)), "restart policy")
        raise ConfigError(f"{field}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.stop:
        return stop(settings, args.stop_timeout_s)
    if args.status:
        return show_status(settings, as_json=args.json)
    if args.restart:
        return restart(settings, args.restart, args.stop_timeout_s)
    return supervise(settings, args)


# -- the run -----------------------------------------------------------------------------------------
def supervise(settings: Settings, args: argparse.Namespace) -> int:
    policy = _policy(args)
    os.umask(PRIVATE_UMASK)
    home = settings.home
    ensure_not_supervised(home)
    stop_orphans(home, APP_PROCESSES, timeout_s=args.stop_timeout_s)
    if not port_bindable(settings.api_host, settings.api_port):
        raise StackError(f"port {settings.api_port} is taken by another process; stop it or set API_PORT")
    _log_to_file(home / "logs" / "supervisor.log")
    # Unbuffered output: what a process printed just before a crash is in its log, not lost with it.
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    specs = [ProcessSpec(name, tuple(argv), env) for name, argv in _commands(settings).items()]
    supervisor = Supervisor(specs, home, policy)

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda *_: stopping.set())
    url = f"http://{settings.api_host}:{settings.api_port}"
    threading.Thread(target=_report_ready, args=(url, settings, args.ready_timeout, stopping),
                     name="ready", daemon=True).start()
    supervisor.run(stopping)
    print("stopped worker, sink, feed, strategy and API (the stack keeps running; `make stop` stops it)",
          flush=True)
    return 0


def _log_to_file(path: Path) -> None:
    """The supervisor's records also in logs/supervisor.log (0600, the console's format), so a run in
    the background keeps them."""
    private_dir(path.parent)
    handler = logging.StreamHandler(os.fdopen(open_private(path), "a", encoding="utf-8", buffering=1))
    console = next((h.formatter for h in logging.getLogger().handlers if h.formatter is not None), None)
    handler.setFormatter(console or logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    supervisor_log = logging.getLogger("tradestream.supervisor")
    supervisor_log.addHandler(handler)
    if supervisor_log.getEffectiveLevel() > logging.INFO:
        supervisor_log.setLevel(logging.INFO)


def _report_ready(url: str, settings: Settings, timeout_s: float, stopping: threading.Event) -> None:
    started = time.monotonic()
    while not stopping.is_set():
        state = _health(url)
        if state == "up":
            print(f"tradestream is up in {time.monotonic() - started:.0f} s: dashboard {url}/ , "
                  f"health {url}/api/health ; logs in {settings.home / 'logs'} ; "
                  "`tradestream run --status` shows the processes ; Ctrl-C to stop", flush=True)
            return
        if time.monotonic() - started > timeout_s:
            print(f"not every component is up after {timeout_s:.0f} s: {state}", flush=True)
            return
        stopping.wait(1.0)


def _health(url: str) -> str:
    try:
        response = httpx.get(f"{url}/api/health", timeout=10)
    except httpx.HTTPError as exc:
        return f"API not answering ({type(exc).__name__})"
    body = response.json()
    if body.get("status") == "up":
        return "up"
    down = {name: c["detail"] for name, c in body.get("components", {}).items() if c["status"] != "up"}
    return f"down: {down}"


# -- from another terminal ------------------------------------------------------------------------------
def stop(settings: Settings, stop_timeout_s: float) -> int:
    """SIGTERM the supervisor, which stops its processes; without one, stop what pid files name."""
    pid = supervisor_pid(settings.home)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        # The supervisor gives each process `stop_timeout_s`, one after the other.
        wait_until(lambda: not pid_alive(pid), stop_timeout_s * (len(APP_PROCESSES) + 1),
                   f"`tradestream run` (pid {pid})", settings.home / "logs" / "supervisor.log")
    for name in reversed(APP_PROCESSES):
        ServiceProcess(name, settings.home).stop(stop_timeout_s)
    print("application processes stopped")
    return 0


def restart(settings: Settings, name: str, stop_timeout_s: float) -> int:
    home = settings.home
    if supervisor_pid(home) is None:
        raise StackError(f"no `tradestream run` supervises processes in {home}; `make run` starts one")
    before = (read_status(home) or {}).get("processes", {}).get(name, {}).get("pid")
    request_restart(home, name)

    def restarted() -> bool:
        entry = (read_status(home) or {}).get("processes", {}).get(name, {})
        return entry.get("state") == RUNNING and entry.get("pid") not in (None, before)

    wait_until(restarted, stop_timeout_s + 30, f"the restart of {name}", home / "logs" / f"{name}.log")
    after = read_status(home)["processes"][name]["pid"]
    print(f"{name} restarted: pid {before} -> {after}")
    return 0


def show_status(settings: Settings, as_json: bool = False) -> int:
    home = settings.home
    status = read_status(home)
    if status is None:
        print(f"no status in {status_path(home)}: `tradestream run` has not run with TRADESTREAM_HOME={home}")
        return 1
    alive = supervisor_pid(home) == status["supervisor"]["pid"]
    print(json.dumps(status, indent=2) if as_json else _format_status(status, alive))
    return 0 if alive and all(p["state"] == RUNNING for p in status["processes"].values()) else 1


def _format_status(status: dict, alive: bool) -> str:
    supervisor = status["supervisor"]
    if alive:
        head = f"supervisor pid {supervisor['pid']} {supervisor['state']} since {supervisor['started_at']}"
    elif supervisor["state"] == "stopped":
        head = f"supervisor pid {supervisor['pid']} stopped at {supervisor['updated_at']} (`make run` starts it again)"
    else:
        head = (f"supervisor pid {supervisor['pid']} is gone without stopping its processes (they run unsupervised; "
                f"`tradestream run --stop` stops them); its last status, at {supervisor['updated_at']}:")
    lines = [head, f"{'process':<9} {'state':<9} {'pid':>8} {'restarts':>8}  {'since':<24}  last exit"]
    for name, p in status["processes"].items():
        last = p["last_exit"]
        exit_text = "-" if last is None else f"{last['description']} at {last['at']} after {last['uptime_s']:.1f} s"
        if p["state"] == "waiting" and p["next_start_at"]:
            exit_text += f"; next start {p['next_start_at']}"
        pid = "-" if p["pid"] is None else str(p["pid"])
        lines.append(f"{name:<9} {p['state']:<9} {pid:>8} {p['restarts']:>8}  {p['since']:<24}  {exit_text}")
        if p["last_error"]:
            lines.append(f"{'':<9} last error: {p['last_error']}")
    return "\n".join(lines)

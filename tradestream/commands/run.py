"""`tradestream run`: the application processes of `make run` (worker, sink, simulated feed, the
strategy in STRATEGY_CONFIG (default examples/strategies/correlation.yaml), API).

The stack must be up (`tradestream stack up`). Each process runs in the background with its log in
`$TRADESTREAM_HOME/logs`; this command waits until the API reports every component up, prints where
to look, and keeps running until Ctrl-C, which stops the processes it started. `--stop` stops them
from another terminal (what `make stop` does).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

import httpx

from tradestream.config import PROJECT_ROOT, Settings
from schemas.errors import StackError
from tradestream.stack.process import ServiceProcess, port_bindable, tail

log = logging.getLogger(__name__)

APP_PROCESSES = ("worker", "sink", "feed", "strategy", "api")
DEFAULT_STRATEGY = PROJECT_ROOT / "examples" / "strategies" / "correlation.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("run", help="run the worker, the simulated feed and the API until Ctrl-C")
    parser.add_argument("--stop", action="store_true", help="stop the processes a `run` started")
    parser.add_argument("--ready-timeout", type=float, default=120.0,
                        help="seconds to wait for /api/health to report every component up")
    parser.set_defaults(func=run)


def _commands(settings: Settings) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "tradestream.cli"]
    return {
        "worker": [*cli, "worker"],
        "sink": [*cli, "sink"],
        "feed": [*cli, "feed", "simulated"],
        "strategy": [*cli, "strategy", "run", "--config", os.environ.get("STRATEGY_CONFIG") or str(DEFAULT_STRATEGY)],
        "api": [*cli, "api", "--host", settings.api_host, "--port", str(settings.api_port)],
    }


def stop_all(settings: Settings) -> None:
    for name in reversed(APP_PROCESSES):
        ServiceProcess(name, settings.home).stop()


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if args.stop:
        stop_all(settings)
        print("application processes stopped")
        return 0
    processes = {name: ServiceProcess(name, settings.home) for name in APP_PROCESSES}
    if not processes["api"].running() and not port_bindable(settings.api_host, settings.api_port):
        raise StackError(f"port {settings.api_port} is taken by another process; stop it or set API_PORT")
    for name, argv in _commands(settings).items():
        if not processes[name].running():
            processes[name].spawn(argv)

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    url = f"http://{settings.api_host}:{settings.api_port}"
    started = time.monotonic()
    reported = False
    try:
        while not stopping.is_set():
            for name, process in processes.items():
                if not process.running():
                    raise StackError(f"{name} exited; see {process.log_path}:\n{tail(process.log_path)}")
            if not reported:
                state = _health(url)
                if state == "up":
                    print(f"tradestream is up in {time.monotonic() - started:.0f} s: dashboard {url}/ , "
                          f"health {url}/api/health ; logs in {settings.home / 'logs'} ; Ctrl-C to stop",
                          flush=True)
                    reported = True
                elif time.monotonic() - started > args.ready_timeout:
                    print(f"not every component is up after {args.ready_timeout:.0f} s: {state}", flush=True)
                    reported = True
            stopping.wait(1.0)
    except KeyboardInterrupt:
        pass
    finally:
        stop_all(settings)
        print("stopped worker, sink, feed, strategy and API (the stack keeps running; `make stop` stops it)", flush=True)
    return 0


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

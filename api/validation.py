"""Scanner validation away from the event loop: bounded input, a small pool of worker processes, and a
time limit that ends a validation which runs too long.

Why. Validating a scanner parses JSON, reads every setting and compiles every rule (`ScannerConfig`):
pure Python at about 8 microseconds a character of rule text. Run on the event loop, an operator's 8 MB
rule took 36 s and 10,000 rules 56 s, and nothing else was served meanwhile (`/api/health` timed out for
1 min 45 s). Two measures, each enough for the usual case and together for the worst:

1. Bounded input, so that validation is always short. The body is at most `max_body_bytes` (256 KiB by
   default; 413 above, naming the limit), JSON at most MAX_JSON_DEPTH levels deep, and the scanner
   refuses more than 20 rules in a list or 1,000 characters in a rule (`processors.scanner.config.choices`)
   before compiling any. Measured on the 2-core development machine, shared with other work:

       input                                                  before            now
       the example configuration                              16 ms             16 ms
       one rule of 1.2 MB (the operator's 8 MB: about 55 s)   8.1 s             413 while reading the body
       10,000 short rules (the operator's: 56 s)              3.9 s             400 "at most 20 rules", 1 ms
       the costliest valid settings: 20 entry and 20 exit     -                 0.43-0.70 s
         rules of 1,000 characters, compiled alone and the
         entry rules together

2. A pool of worker processes (`validation_workers`, 1 by default, at a lower CPU priority than the API)
   rather than threads: a thread holds the GIL for up to 5 ms at a time, against the loop and against
   every other thread, and it cannot be stopped when it runs too long. Measured with 40 of the costliest
   valid bodies sent at once while `/api/health/live` was requested back to back (load average 7-9 on
   the two cores; `tests/api/test_server.py` asserts the bound of 200 ms):

       where validation ran                  live: p50    live: max    the 40 validation requests
       on the event loop (before)            493 ms       1.3 s        all 200, the last after 21 s
       asyncio.to_thread (up to 6 threads)   85 ms        1.7 s        all 200, the last after 21 s
       one thread                            9.9 ms       619 ms       all 200, the last after 32 s
       one worker process                    1.2 ms       96 ms        4 validated, 36 answered 503
                                                                       after the 5 s wait limit

   A worker process is killed and replaced when a validation runs longer than `validation_timeout_s`
   (422: the configuration could not be validated in time; simplify it), and a request that finds every
   worker busy for that long is answered 503 with Retry-After (the API is validating other scanners),
   so a storm of validations costs each caller at most twice the limit and never the API's liveness.

The workers are forked from a fork server that has imported this module once (`forkserver` start
method: not `fork`, which copies the API's threads' locks; not `spawn`, which would import the
scanner's dependencies again, about 2.5 s, for every worker). As with every start method but `fork`, a
worker imports the program's main module, which must do nothing on import (`if __name__ == "__main__"`,
as the `tradestream` command and pytest do).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import msgspec

from processors.rules import RuleError
from processors.scanner import ScannerConfig, ScannerConfigError
from schemas.errors import TradestreamError

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 16
"""Levels of JSON arrays and objects inside one another; the deepest valid scanner has 3
(config > option > category_split)."""
MAX_ERRORS = 50
"""Field errors returned at most; a note says how many more there were."""
WORKER_NICENESS = 10
"""Workers run at a lower CPU priority than the API's event loop (and PostgreSQL): when both want the
CPU, the loop gets it, so a busy worker delays only the validations."""


@dataclass(frozen=True, slots=True)
class Valid:
    """A valid scanner: its name and its normalised settings (`ScannerConfig.to_mapping`)."""

    name: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Invalid:
    """Every problem of the settings: `{"field": path, "message": what is wrong}`."""

    errors: list[dict[str, Any]]


class ValidationBusy(TradestreamError):
    """Every validation worker stayed busy for the whole wait: retry in a few seconds (503)."""


class ValidationTimedOut(TradestreamError):
    """The settings could not be validated within the time limit: simplify them (fewer or shorter rules),
    then send them again (422). The worker that was validating them has been replaced."""


# What runs in a worker process ----------------------------------------------------------------------

def _path(parent: str, key: object) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def body_problems(data: Any, max_depth: int = MAX_JSON_DEPTH) -> list[dict[str, str]]:
    """What no setting may hold, found in one pass over the decoded JSON (iterative: a deep body cannot
    exhaust the stack): nesting deeper than `max_depth`, and the NUL character, which PostgreSQL refuses
    in text, in a key or a string. Each problem names its path (`order.exchange`, `exit_rules[2]`)."""
    problems: list[dict[str, str]] = []
    stack: list[tuple[str, Any, int]] = [("", data, 1)]
    while stack and len(problems) < MAX_ERRORS:
        path, value, depth = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                problems.append({"field": path, "message": "must not contain the NUL character (\\u0000)"})
            continue
        if not isinstance(value, (dict, list)):
            continue
        if depth > max_depth:
            problems.append({"field": path, "message": f"nests arrays and objects more than {max_depth} levels "
                                                       "deep; no setting is nested like that"})
            continue
        if isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    problems.append({"field": _path(path, key.replace("\x00", "\\u0000")),
                                     "message": "setting names must not contain the NUL character (\\u0000)"})
                else:
                    stack.append((_path(path, key), item, depth + 1))
        else:
            stack.extend((_path(path, index), item, depth + 1) for index, item in enumerate(value))
    return sorted(problems, key=lambda problem: problem["field"])


def _at_most(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(errors) <= MAX_ERRORS:
        return errors
    return [*errors[:MAX_ERRORS], {"field": "", "message": f"and {len(errors) - MAX_ERRORS:,} more problems"}]


_RULE = re.compile(r"(entry|exit)_rules\[\d+\]")
_AT_POSITION = re.compile(r" at position (\d+)$")


def _field_error(field: str, message: str) -> dict[str, Any]:
    """A field error as the API answers it; a rule's error also gives `position`: the 0-based character of the rule
    where the problem is (the rule editor marks it)."""
    at = _AT_POSITION.search(message) if _RULE.fullmatch(field) else None
    return {"field": field, "message": message} if at is None else {"field": field, "message": message,
                                                                    "position": int(at.group(1))}


def check_scanner(body: bytes) -> Valid | Invalid:
    """The scanner written in the JSON `body`, validated: its normalised settings, or every problem."""
    try:
        data = msgspec.json.decode(body)
    except RecursionError:
        return Invalid([{"field": "", "message": f"the JSON nests arrays and objects more than {MAX_JSON_DEPTH} "
                                                 "levels deep"}])
    except msgspec.DecodeError as exc:
        return Invalid([{"field": "", "message": f"the body is not JSON: {exc}"}])
    problems = body_problems(data)
    if problems:
        return Invalid(_at_most(problems))
    if not isinstance(data, dict):
        return Invalid([{"field": "", "message": "the body must be a JSON object of settings"}])
    try:
        config = ScannerConfig.from_mapping(data)
    except ScannerConfigError as exc:
        return Invalid(_at_most([_field_error(e.field, e.message) for e in exc.errors]))
    except RuleError as exc:
        return Invalid([{"field": "rules", "message": str(exc)}])
    return Valid(config.name, config.to_mapping())


def _serve(connection: Connection) -> None:
    """A worker's life: validate each body received, send back the outcome, until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the API, which closes the pipe
    os.nice(WORKER_NICENESS)
    while True:
        try:
            body = connection.recv_bytes()
        except (EOFError, OSError):
            return
        connection.send(check_scanner(body))


# The pool, in the API process -----------------------------------------------------------------------

class _Worker:
    """One worker process and the pipe to it; one validation at a time."""

    def __init__(self, context: multiprocessing.context.BaseContext) -> None:
        self.pipe, child_end = context.Pipe()
        self.process = context.Process(target=_serve, args=(child_end,), name="scanner-validation", daemon=True)
        self.process.start()
        child_end.close()

    def call(self, body: bytes, timeout_s: float) -> Valid | Invalid | None:
        """The outcome, or None when it took longer than `timeout_s`; OSError or EOFError if the worker died."""
        self.pipe.send_bytes(body)
        if not self.pipe.poll(timeout_s):
            return None
        return self.pipe.recv()

    def stop(self, kill: bool = False) -> None:
        self.pipe.close()  # a waiting worker reads EOF and returns
        if kill:
            self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


class ScannerValidator:
    """`workers` worker processes; `await validate(body)` waits at most `timeout_s` for a free one and
    then at most `timeout_s` for its answer."""

    def __init__(self, workers: int = 1, timeout_s: float = 5.0) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.workers = workers
        self.timeout_s = timeout_s
        self._context = multiprocessing.get_context("forkserver")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._threads: ThreadPoolExecutor | None = None  # one thread per worker waits for its answer
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._stopped = True

    @property
    def pids(self) -> list[int]:
        """The process ids of the workers alive now."""
        with self._lock:
            return sorted(worker.process.pid for worker in self._all if worker.process.pid is not None)

    def start(self) -> None:
        """Start the workers in the background (the first start also starts the fork server, which
        imports the scanner once: seconds); requests wait for them within their time limit."""
        self._loop = asyncio.get_running_loop()
        self._idle = asyncio.Queue()
        # Anew at each start: an app's lifespan may run more than once.
        self._threads = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="scanner-validation")
        self._stopped = False
        # Preload before the fork server starts: each worker is then a fork of an interpreter that has it.
        self._context.set_forkserver_preload([__name__])
        for _ in range(self.workers):
            self._threads.submit(self._spawn_into_pool)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._context)
        with self._lock:
            self._all.add(worker)
        return worker

    def _spawn_into_pool(self) -> None:
        try:
            worker = self._spawn()
        except OSError:
            log.exception("scanner validation worker could not start; validations wait and answer 503")
            return
        self._release(worker)

    def _release(self, worker: _Worker) -> None:
        assert self._loop is not None and self._idle is not None
        if self._stopped:
            self._retire(worker, kill=False)
            return
        try:
            self._loop.call_soon_threadsafe(self._idle.put_nowait, worker)
        except RuntimeError:  # the loop has closed: the API is shutting down
            self._retire(worker, kill=False)

    def _retire(self, worker: _Worker, kill: bool) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop(kill=kill)

    def _run(self, worker: _Worker, body: bytes, timeout_s: float) -> Valid | Invalid | Callable[[], Exception]:
        """In a thread: the worker's answer; a worker that ran too long or died is replaced. Returns the
        worker to the pool whatever happens, even when the request that asked has gone."""
        try:
            outcome = worker.call(body, timeout_s)
        except (OSError, EOFError) as exc:
            self._retire(worker, kill=True)
            if self._stopped:  # the pipe was closed by stop()
                return lambda: ValidationBusy("the API is shutting down; send the settings again")
            log.error("scanner validation worker pid=%s died (%s); starting another", worker.process.pid,
                      type(exc).__name__)
            self._spawn_into_pool()
            return lambda: ValidationBusy("the validation worker stopped while validating; send the settings again")
        if outcome is None:
            log.warning("scanner validation worker pid=%s ran longer than %.1f s; replacing it",
                        worker.process.pid, timeout_s)
            self._retire(worker, kill=True)
            self._spawn_into_pool()
            return lambda: ValidationTimedOut(
                f"the settings could not be validated within {timeout_s:g} s (API_VALIDATION_TIMEOUT_S); "
                "use fewer or shorter rules")
        self._release(worker)
        return outcome

    async def validate(self, body: bytes) -> Valid | Invalid:
        """The scanner written in the JSON `body`; ValidationBusy or ValidationTimedOut."""
        if self._idle is None or self._threads is None:
            raise RuntimeError("ScannerValidator.start() was not called (the app's lifespan starts it)")
        timeout_s = self.timeout_s
        try:
            worker = await asyncio.wait_for(self._idle.get(), timeout_s)
        except TimeoutError:
            raise ValidationBusy(f"every validation worker stayed busy for {timeout_s:g} s; "
                                 "retry in a few seconds") from None
        # Shielded: if this request is cancelled, the thread still finishes and returns the worker.
        outcome = await asyncio.shield(asyncio.get_running_loop().run_in_executor(self._threads, self._run,
                                                                                  worker, body, timeout_s))
        if callable(outcome):
            raise outcome()
        return outcome

    def stop(self) -> None:
        """Stop every worker (idle ones read EOF and exit; a busy one is killed after 5 s)."""
        self._stopped = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()
        if self._threads is not None:
            self._threads.shutdown(wait=False, cancel_futures=True)

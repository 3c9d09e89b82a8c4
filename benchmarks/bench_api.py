"""API throughput and latency at concurrency 20: requests/s, p50 and p99 per route.

Run: .venv/bin/python benchmarks/bench_api.py [--seconds 5] [--concurrency 20]
Needs the local stack's PostgreSQL (`make bench` starts the stack first). The benchmark starts the API
itself, as `tradestream api` on a free port, seeds its own rows (a user with an API token who owns the scanners
and the strategy, scanners, signals of one strategy, latency windows, all named after one run token) and deletes
them at the end. Every request carries the user's token, as a script's would.

Targets on a 2-core machine, at concurrency 20:
    cached reads (liveness, the OpenAPI document, readiness: 1 s cache)     >= 1,000 requests/s
    database-backed routes (scanners, signals of a strategy, latency)       p99 < 100 ms

The load generator is a plain asyncio HTTP/1.1 client over 20 kept-alive connections, one request in
flight on each (what 20 browsers or scrapers do). It is not httpx: measured on this machine against the
same liveness route, an httpx.AsyncClient with 20 connections spent 2.1 ms of its own CPU per request and
reached 180-220 requests/s whatever the server did; the plain client spends 25-40 us a request and
reached 2,400-6,800. Every response is checked: a status other than 200 (or readiness's 503) fails the
run. The machine is shared: the last line gives its load average, and figures taken at a load of 7 are
half those at 3.

Before and after the changes of issue 16 (1 uvicorn worker, load average 3 on the 2 cores):

    route                              before: req/s   p99 ms    after: req/s   p99 ms
    /api/health/live                           5,386      7.8           6,202      8.1
    /schema/openapi.json                       4,961      8.3           4,544     10.1
    /api/health/ready                             15    1,548           2,846     57.2
    /api/scanners                                676     51.8           1,854     21.3
    /api/signals?strategy=...&limit=50           806     36.1           1,199     30.2
    /api/metrics/latency                       1,190     28.4           1,827     19.2

What moved them: readiness checks the services once a second for every request instead of on each
(`api.health`); the database routes take one round trip instead of four (autocommit, and no check of a
connection used in the last 2 s, `api.database`); the scanner and signal lists are built as JSON by
PostgreSQL instead of typecast to Python and encoded again (`api.scanners`); uvicorn writes no access-log
line per request (`tradestream api --access-log` turns it on). Two uvicorn workers (API_WORKERS=2) gave the same figures within the noise on two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import yaml

from api.users import digest, new_secret
from tradestream.config import Settings

ROOT = Path(__file__).resolve().parents[1]
CACHED_TARGET_RPS = 1000.0
DATABASE_TARGET_P99_MS = 100.0


@dataclass(frozen=True)
class Route:
    path: str
    kind: str  # "cached" | "database"
    accepted: tuple[int, ...] = (200,)
    """Statuses that count as answers (readiness is 503 when a component it counts is down)."""


@dataclass(frozen=True)
class Result:
    route: Route
    requests: int
    seconds: float
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def meets_target(self) -> bool:
        if self.route.kind == "cached":
            return self.per_second >= CACHED_TARGET_RPS
        return self.percentile(0.99) < DATABASE_TARGET_P99_MS


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Connection:
    """One kept-alive HTTP/1.1 connection: a GET at a time, the body read by its Content-Length."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, token: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host
        self.authorization = f"Authorization: Bearer {token}\r\n" if token else ""

    @classmethod
    async def open(cls, host: str, port: int, token: str = "") -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}", token)

    async def get(self, path: str) -> tuple[int, bytes]:
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.authorization}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines[1:] if line)}
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = await self._chunks()
        else:
            raise RuntimeError(f"GET {path}: a response without a length ({headers})")
        return status, body

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(parts)

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


async def measure(host: str, port: int, route: Route, concurrency: int, seconds: float,
                  warm_up_s: float, token: str) -> Result:
    """`concurrency` connections each sending GETs back to back for `warm_up_s` (not counted), then `seconds`."""
    connections = [await Connection.open(host, port, token) for _ in range(concurrency)]
    latencies: list[float] = []
    started = time.perf_counter()
    counting_from = started + warm_up_s
    stop_at = counting_from + seconds

    async def loop(connection: Connection) -> None:
        while True:
            sent = time.perf_counter()
            if sent >= stop_at:
                return
            status, body = await connection.get(route.path)
            done = time.perf_counter()
            if status not in route.accepted:
                raise RuntimeError(f"GET {route.path} answered {status}: {body[:300]!r}")
            if sent >= counting_from:
                latencies.append((done - sent) * 1000)

    try:
        await asyncio.gather(*(loop(c) for c in connections))
    finally:
        for connection in connections:
            await connection.close()
    return Result(route, len(latencies), seconds, latencies)


# The rows the benchmark reads -------------------------------------------------------------------------

@contextmanager
def seeded(settings: Settings, token: str) -> Iterator[tuple[str, str]]:
    """A user who owns scanners and the strategy `bench-<token>`, with 500 signals, and latency windows; yields the
    strategy and the user's API token; deleted afterwards."""
    strategy = f"bench-{token}"
    api_token = new_secret("tsk_")
    config = yaml.safe_load((ROOT / "examples/strategies/correlation.yaml").read_text())
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        with conn.cursor() as cursor:
            # The password hash is never checked (the user calls with the token): a fixed, valid-looking one.
            (user_id,) = cursor.execute("insert into users (name, role, password_hash) values (%s, 'trader', "
                                        "'$argon2id$v=19$m=65536,t=3,p=4$unused$unused') returning user_id",
                                        (f"bench-{token}",)).fetchone()
            cursor.execute("insert into api_tokens (token_hash, user_id) values (%s, %s)", (digest(api_token), user_id))
            cursor.executemany("insert into ownerships (kind, resource_id, user_id) values ('strategy', %s, %s)",
                               [(name, user_id) for name in [strategy, *(f"bench-{token}-{i}" for i in range(10))]])
            cursor.executemany("insert into scanners (name, config) values (%s, %s)",
                               [(f"bench-{token}-{i}", json.dumps(config | {"name": f"bench-{token}-{i}"}))
                                for i in range(10)])
            cursor.executemany(
                "insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, price, "
                "reason) values (%s, %s, 'SPY', 'BUY', 'ENTRY', now() - make_interval(secs => %s), 1, 2, 600.5, "
                "'bench')", [(f"bench-{token}-{i}", strategy, i) for i in range(500)])
            cursor.executemany(
                "insert into latency_metrics (feed, symbol, hop, window_start, window_end, sample_count, p50_ns, "
                "p95_ns, p99_ns, max_ns) values (%s, %s, 'TICK_TO_BAR_CLOSE', now() - interval '1 minute', now(), "
                "40, 2000000, 5000000, 7000000, 9000000)",
                [(f"bench-{token}", symbol) for symbol in ("SPY", "QQQ", "AAPL", "MSFT")])
    try:
        yield strategy, api_token
    finally:
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            conn.execute("delete from users where name = %s", (f"bench-{token}",))  # its token and ownerships too
            conn.execute("delete from scanners where name like %s", (f"bench-{token}-%",))
            conn.execute("delete from signals where strategy = %s", (strategy,))
            conn.execute("delete from latency_metrics where feed = %s", (f"bench-{token}",))


@contextmanager
def api_process(port: int, extra_env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    env = os.environ | {"API_PORT": str(port), "API_HOST": "127.0.0.1"} | extra_env
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "tradestream.cli", "api"], env=env, stdout=log,
                                   stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


async def wait_until_live(host: str, port: int, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited with {process.returncode} before answering")
        try:
            connection = await Connection.open(host, port)
        except OSError:
            connection = None
        if connection is not None:
            try:
                status, _ = await connection.get("/api/health/live")
                if status == 200:
                    return
            finally:
                await connection.close()
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API did not answer /api/health/live within {timeout_s} s")
        await asyncio.sleep(0.1)


def table(results: list[Result], concurrency: int) -> str:
    lines = [f"{'route':<44} {'kind':<8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}  target",
             "-" * 100]
    for r in results:
        target = (f">= {CACHED_TARGET_RPS:,.0f} req/s" if r.route.kind == "cached"
                  else f"p99 < {DATABASE_TARGET_P99_MS:.0f} ms")
        lines.append(f"{r.route.path[:44]:<44} {r.route.kind:<8} {r.requests:>9,} {r.per_second:>8,.0f} "
                     f"{r.percentile(0.5):>8.1f} {r.percentile(0.99):>8.1f}  {target:<18} "
                     f"{'met' if r.meets_target else 'MISSED'}")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines.append(f"(concurrency {concurrency}; load average before the run {load} on {os.cpu_count()} cores)")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> list[Result]:
    settings = Settings.from_env()
    token = uuid.uuid4().hex[:8]
    host, port = "127.0.0.1", free_port()
    log_path = settings.home / "logs" / f"bench-api-{token}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    extra_env = {"API_WORKERS": str(args.workers)} if args.workers else {}
    with seeded(settings, token) as (strategy, api_token), api_process(port, extra_env, log_path) as process:
        await wait_until_live(host, port, process, timeout_s=60)
        routes = [Route("/api/health/live", "cached"), Route("/schema/openapi.json", "cached"),
                  Route("/api/health/ready", "cached", (200, 503)),
                  Route("/api/scanners", "database"), Route(f"/api/signals?strategy={strategy}&limit=50", "database"),
                  Route("/api/metrics/latency", "database")]
        results = []
        for route in routes:
            results.append(await measure(host, port, route, args.concurrency, args.seconds, args.warm_up, api_token))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured seconds per route")
    parser.add_argument("--warm-up", type=float, default=1.0, help="seconds per route before measuring")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0, help="API_WORKERS for the API (0: its default)")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    print(table(results, args.concurrency))


if __name__ == "__main__":
    main()

"""The API's own Prometheus metrics: request counts and latencies by route, and the process collectors.

Each app has its own registry (not prometheus_client's global one), so several apps in one process,
as in the tests, do not collide. Requests are labelled with the route's path template
(`/api/scanners/{name}`), never the raw path, so the number of series stays bounded.
"""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

UNMATCHED_ROUTE = "unmatched"


class RequestMetrics:
    """Counters and histograms of the HTTP requests one app served, plus the process metrics."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # The client's default collectors (what its global registry carries): CPU, memory, open files,
        # start time; the Python version; garbage-collector counts.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter("tradestream_api_requests", "HTTP requests the API answered, by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("tradestream_api_request_duration_seconds",
                                  "Time from receiving a request to the end of its response, by route.",
                                  ["method", "route"], registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)

    def exposition(self) -> bytes:
        """These metrics in the text format of `prometheus_client.CONTENT_TYPE_LATEST`."""
        return generate_latest(self.registry)


class RequestMetricsMiddleware(ASGIMiddleware):
    """Times every HTTP request and counts it by route template and response status."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics: RequestMetrics) -> None:
        self.metrics = metrics

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        started = time.perf_counter()
        # An exception that escapes the app's exception handlers becomes a 500 in the server.
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await next_app(scope, receive, send_and_note_status)
        finally:
            self.metrics.observe(scope["method"], scope.get("path_template") or UNMATCHED_ROUTE, status,
                                 time.perf_counter() - started)

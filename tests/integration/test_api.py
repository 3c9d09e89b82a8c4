"""The API against the real services: health of every component (full, live and ready), latency metrics
as JSON and in the Prometheus exposition."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from litestar.testing import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from tests.users import ApiUser
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
COMPONENTS = {"kafka", "schema_registry", "postgres", "s3", "worker", "sink", "feed"}
COUNTED = {"kafka", "schema_registry", "postgres"}


def test_health_reports_each_component(settings: Settings) -> None:
    with TestClient(app=create_app(api_settings(settings))) as client:
        response = client.get("/api/health")
        ready = client.get("/api/health/ready")
        live = client.get("/api/health/live")
    body = response.json()
    assert set(body["components"]) == COMPONENTS
    for name in ("kafka", "schema_registry", "postgres", "s3"):
        assert body["components"][name]["status"] == "up", body["components"][name]
    assert response.status_code == (200 if body["status"] == "up" else 503)
    assert "PostgreSQL" in body["components"]["postgres"]["detail"]  # read through the pool

    ready_body = ready.json()
    assert set(ready_body["components"]) == COMPONENTS and set(ready_body["not_counted"]) == COMPONENTS - COUNTED
    counted_up = all(c["status"] == "up" for name, c in ready_body["components"].items() if name in COUNTED)
    assert counted_up  # the stack is up: the API is ready whether or not a worker, sink or feed runs
    assert ready.status_code == (200 if counted_up else 503)
    assert ready_body["status"] == ("up" if counted_up else "down")
    assert live.status_code == 200 and live.json() == {"status": "up"}


def test_latency_metrics_json_and_prometheus(settings: Settings, unique: str, api_user: ApiUser) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("insert into latency_metrics (feed, symbol, hop, window_start, window_end, sample_count, p50_ns,"
                     " p95_ns, p99_ns, max_ns) values (%s, 'SPY', 'TICK_TO_BAR_CLOSE', %s, %s, 40, 2000000, "
                     "5000000, 7000000, 9000000)", (f"f{unique}", now - dt.timedelta(seconds=60), now))
    with TestClient(app=create_app(api_settings(settings))) as client:
        assert client.get("/api/metrics/latency").status_code == 401
        rows = client.get("/api/metrics/latency", headers=api_user.headers).json()
        scrape = client.get("/metrics")
    ours = [r for r in rows if r["feed"] == f"f{unique}"]
    assert ours and ours[0]["p99_ms"] == 7.0 and ours[0]["hop"] == "tick_to_bar_close" and ours[0]["count"] == 40

    assert scrape.status_code == 200 and scrape.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(scrape.text) for s in family.samples}
    labels = {"feed": f"f{unique}", "symbol": "SPY", "hop": "tick_to_bar_close"}
    assert samples[("tradestream_latency_seconds", frozenset((labels | {"quantile": "0.99"}).items()))] == 0.007
    assert samples[("tradestream_latency_samples", frozenset(labels.items()))] == 40
    assert samples[("tradestream_database_scrape_success", frozenset())] == 1.0


def test_dashboard_is_served(settings: Settings) -> None:
    with TestClient(app=create_app(api_settings(settings))) as client:
        page = client.get("/")
        script = client.get("/app.js")
        styles = client.get("/app.css")
    assert page.status_code == 200 and "color-scheme" in page.text and 'data-theme="dark"' in page.text
    assert 'src="/app.js"' in page.text and 'href="/app.css"' in page.text and 'id="login-form"' in page.text
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    for route in ("/api/auth/login", "/api/auth/me", "/api/health", "/api/signals", "/api/correlation"):
        assert route in script.text, route
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")

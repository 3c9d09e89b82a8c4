"""The API against the real services: health of every component, latency metrics as JSON and Prometheus."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from litestar.testing import TestClient

from api.app import create_app
from tradestream.config import Settings

pytestmark = pytest.mark.integration


def test_health_reports_each_component(settings: Settings) -> None:
    with TestClient(app=create_app(settings)) as client:
        response = client.get("/api/health")
    body = response.json()
    assert set(body["components"]) == {"kafka", "schema_registry", "postgres", "s3", "worker", "feed"}
    for name in ("kafka", "schema_registry", "postgres", "s3"):
        assert body["components"][name]["status"] == "up", body["components"][name]
    assert response.status_code == (200 if body["status"] == "up" else 503)


def test_latency_metrics_json_and_prometheus(settings: Settings, unique: str) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("insert into latency_metrics (feed, symbol, hop, window_start, window_end, sample_count, p50_ns,"
                     " p95_ns, p99_ns, max_ns) values (%s, 'SPY', 'TICK_TO_BAR_CLOSE', %s, %s, 40, 2000000, "
                     "5000000, 7000000, 9000000)", (f"f{unique}", now - dt.timedelta(seconds=60), now))
    with TestClient(app=create_app(settings)) as client:
        rows = client.get("/api/metrics/latency").json()
        text = client.get("/metrics").text
    ours = [r for r in rows if r["feed"] == f"f{unique}"]
    assert ours and ours[0]["p99_ms"] == 7.0 and ours[0]["hop"] == "tick_to_bar_close" and ours[0]["count"] == 40
    assert (f'tradestream_latency_seconds{{feed="f{unique}",symbol="SPY",hop="tick_to_bar_close",quantile="0.99"}} '
            "0.007000000") in text


def test_dashboard_is_served(settings: Settings) -> None:
    with TestClient(app=create_app(settings)) as client:
        page = client.get("/")
    assert page.status_code == 200 and "color-scheme" in page.text and "/api/health" in page.text
    assert "/api/signals" in page.text and "/api/correlation" in page.text

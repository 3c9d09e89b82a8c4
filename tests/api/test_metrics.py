"""/metrics: never a 500; the API's own request metrics, the process metrics, and the latency gauges."""

from __future__ import annotations

from litestar.testing import TestClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import exposition, latency_families


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, keyed by name and labels (parsing also proves the format valid)."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_answers_200_with_process_metrics_when_the_database_is_unreachable(
        offline_client: TestClient) -> None:
    response = offline_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    found = samples(response.text)
    names = {name for name, _ in found}
    assert found[("tradestream_database_scrape_success", frozenset())] == 0.0
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "python_info"} <= names
    assert "tradestream_latency_seconds" not in names


def test_requests_are_counted_and_timed_by_route_and_status(offline_client: TestClient) -> None:
    for _ in range(3):
        assert offline_client.get("/api/health/live").status_code == 200
    assert offline_client.get("/api/scanners/some-name").status_code == 503  # the database is down
    found = samples(offline_client.get("/metrics").text)

    def label_set(**labels: str) -> frozenset:
        return frozenset(labels.items())

    assert found[("tradestream_api_requests_total",
                  label_set(method="GET", route="/api/health/live", status="200"))] == 3
    assert found[("tradestream_api_requests_total",
                  label_set(method="GET", route="/api/scanners/{name}", status="503"))] == 1
    assert found[("tradestream_api_request_duration_seconds_count",
                  label_set(method="GET", route="/api/health/live"))] == 3
    assert found[("tradestream_api_request_duration_seconds_bucket",
                  label_set(method="GET", route="/api/health/live", le="+Inf"))] == 3


def test_latency_rows_become_gauges_in_seconds() -> None:
    rows = [{"feed": "sim", "symbol": "SPY", "hop": "tick_to_bar_close", "count": 12,
             "p50_ms": 1.5, "p95_ms": 3.0, "p99_ms": 4.0, "max_ms": 9.25},
            {"feed": 'odd "feed"\\', "symbol": "QQQ", "hop": "bar_to_indicator", "count": 1,
             "p50_ms": 1.0, "p95_ms": 1.0, "p99_ms": 1.0, "max_ms": 1.0}]
    text = exposition(latency_families(rows)).decode()
    assert "# TYPE tradestream_latency_seconds gauge" in text
    found = samples(text)
    spy = {"feed": "sim", "symbol": "SPY", "hop": "tick_to_bar_close"}
    assert found[("tradestream_latency_seconds", frozenset((spy | {"quantile": "0.99"}).items()))] == 0.004
    assert found[("tradestream_latency_seconds", frozenset((spy | {"quantile": "1"}).items()))] == 0.00925
    assert found[("tradestream_latency_samples", frozenset(spy.items()))] == 12
    odd = {"feed": 'odd "feed"\\', "symbol": "QQQ", "hop": "bar_to_indicator"}
    assert found[("tradestream_latency_samples", frozenset(odd.items()))] == 1

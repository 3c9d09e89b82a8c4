from __future__ import annotations

from api.metrics import prometheus_text


def test_prometheus_text_format() -> None:
    text = prometheus_text([{"feed": "sim", "symbol": "SPY", "hop": "tick_to_bar_close", "count": 12,
                             "p50_ms": 1.5, "p95_ms": 3.0, "p99_ms": 4.0, "max_ms": 9.25}])
    assert '# TYPE tradestream_latency_seconds gauge' in text
    assert 'tradestream_latency_seconds{feed="sim",symbol="SPY",hop="tick_to_bar_close",quantile="0.99"} 0.004000000' in text
    assert 'tradestream_latency_samples{feed="sim",symbol="SPY",hop="tick_to_bar_close"} 12' in text

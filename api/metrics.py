"""Latency metrics from the database: JSON for the dashboard, Prometheus text for scrapers."""

from __future__ import annotations

import psycopg

from tradestream.config import Settings

LATEST = """
    select distinct on (feed, symbol, hop) feed, symbol, hop, window_start, window_end, sample_count,
           p50_ns, p95_ns, p99_ns, max_ns
    from latency_metrics
    where window_end > now() - interval '10 minutes'
    order by feed, symbol, hop, window_end desc
"""


def latest_latency(settings: Settings) -> list[dict[str, object]]:
    with psycopg.connect(settings.database_url, connect_timeout=5) as conn:
        rows = conn.execute(LATEST).fetchall()
    return [{"feed": r[0], "symbol": r[1], "hop": r[2].lower(), "window_start": r[3].isoformat(),
             "window_end": r[4].isoformat(), "count": r[5], "p50_ms": r[6] / 1e6, "p95_ms": r[7] / 1e6,
             "p99_ms": r[8] / 1e6, "max_ms": r[9] / 1e6} for r in rows]


def _label(value: object) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prometheus_text(rows: list[dict[str, object]]) -> str:
    lines = ["# HELP tradestream_latency_seconds Pipeline hop latency percentiles over a sliding window.",
             "# TYPE tradestream_latency_seconds gauge"]
    for row in rows:
        labels = f'feed="{_label(row["feed"])}",symbol="{_label(row["symbol"])}",hop="{_label(row["hop"])}"'
        for quantile, key in (("0.5", "p50_ms"), ("0.95", "p95_ms"), ("0.99", "p99_ms"), ("1", "max_ms")):
            lines.append(f'tradestream_latency_seconds{{{labels},quantile="{quantile}"}} {float(row[key]) / 1000:.9f}')
    lines += ["# HELP tradestream_latency_samples Samples in the latency window.",
              "# TYPE tradestream_latency_samples gauge"]
    for row in rows:
        labels = f'feed="{_label(row["feed"])}",symbol="{_label(row["symbol"])}",hop="{_label(row["hop"])}"'
        lines.append(f"tradestream_latency_samples{{{labels}}} {row['count']}")
    return "\n".join(lines) + "\n"

"""The overview's market-data card and latency table in headless Chromium, kept current by the live updates: a pair
of feeds failing over (FeedStatusChanged reports published on the session's feed-status topic) is shown as failed
over to its secondary with the reason, and a latency window published on the metrics topic appears in the table
without a reload, its percentiles in milliseconds."""

from __future__ import annotations

import time
import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from connectors.kafka.codec import AvroCodec
from connectors.kafka.publisher import EventPublisher
from processors.model import FeedStatusChanged, LatencyMeasured
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration


def test_the_feeds_fail_over_and_latency_live(browser: webdriver.Chrome, dashboard_url: str,
                                              dashboard_topic_prefix: str, screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    user = make_user(settings.database_url, f"overview-{unique}", password=f"overview pw {unique}")
    kafka = settings.kafka(dashboard_topic_prefix)
    publisher = EventPublisher(kafka, AvroCodec(kafka.registry_config()), client_id="browser-test-feeds")

    wait = log_in(browser, dashboard_url, user)
    wait.until(visible.text_to_be_present_in_element((By.ID, "live-state"), "live"))
    now = time.time_ns()
    publisher.publish(kafka.topic("feed.status"), "ibkr", FeedStatusChanged(
        feed="ibkr", ts_init=now, connected=False, active=False, messages_per_second=0.0, event="disconnected",
        detail="error 1100", role="primary"))
    publisher.publish(kafka.topic("feed.status"), "polygon", FeedStatusChanged(
        feed="polygon", ts_init=now + 1, connected=True, active=True, messages_per_second=0.0, event="failover",
        detail="failover to polygon: primary disconnected; 3 buffered ticks released", role="secondary"))
    symbol = f"Z{unique[:5].upper()}"
    publisher.publish(kafka.topic("metrics.latency"), f"polygon/{symbol}", LatencyMeasured(
        feed="polygon", symbol=symbol, hop="EXCHANGE_TO_ARRIVAL", window_start=now - 60 * 10**9, window_end=now,
        count=40, p50_ns=1_500_000, p95_ns=4_200_000, p99_ns=9_900_000, max_ns=12_000_000))
    assert publisher.flush(10) == 0 and publisher.failed == 0

    wait.until(visible.text_to_be_present_in_element((By.ID, "feed-mode"), "fail-over"))
    assert "polygon" in browser.find_element(By.ID, "feed-active").text
    assert "primary disconnected" in browser.find_element(By.ID, "feed-switch").text
    states = {row.get_attribute("data-feed"): row.find_element(By.CSS_SELECTOR, ".feed-state").text
              for row in browser.find_elements(By.CSS_SELECTOR, "#feeds tr")}
    assert states["ibkr"] == "disconnected" and states["polygon"] == "serving"
    row = f"#latency tr[data-latency='polygon|{symbol}|exchange_to_arrival']"
    wait.until(visible.presence_of_element_located((By.CSS_SELECTOR, row)))
    figures = [browser.find_element(By.CSS_SELECTOR, f"{row} .{p}").text for p in ("p50", "p95", "p99")]
    assert figures == ["1.5", "4.2", "9.9"]
    screenshot("failed-over")
    assert console_errors(browser) == []

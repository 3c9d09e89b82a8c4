"""The trades page in headless Chromium, fed over the websocket: a trade published on the session's trades topic
appears without a reload, with its unrealised P&L worked out from a bar published after it, its order beside it,
and leaves the running trades when its closing version comes; another user's trade never shows."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from connectors.kafka.codec import AvroCodec
from connectors.kafka.publisher import EventPublisher
from processors.model import Bar
from tests.streams.trading_events import D, ns, order_event, trade
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
OPENED = "2026-03-10T13:45:00+00:00"  # 09:45 ET


def test_a_trade_appears_live(browser: webdriver.Chrome, dashboard_url: str, dashboard_topic_prefix: str,
                              screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account, other = f"paper-{unique}", f"other-{unique}"
    user = make_user(settings.database_url, f"trades-{unique}", accounts=[account], password=f"trades pw {unique}")
    make_user(settings.database_url, f"trades-o-{unique}", accounts=[other])
    symbol = f"Z{unique[:5].upper()}"
    kafka = settings.kafka(dashboard_topic_prefix)
    publisher = EventPublisher(kafka, AvroCodec(kafka.registry_config()), client_id="test-trades-page")

    def publish(topic: str, key: str, event: object) -> None:
        publisher.publish(kafka.topic(topic), key, event)
        assert publisher.flush(10) == 0 and publisher.failed == 0

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='trades']").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "trades-summary"), "0 running or waiting trade(s)"))
    wait.until(visible.text_to_be_present_in_element((By.ID, "live-state"), "live"))

    theirs = trade(f"{unique}-theirs", other, "breakout", 1, "OPENED", "Running", OPENED, symbol=symbol,
                   entry_qty=7, entry_price="10", opened=OPENED)
    publish("trades", other, theirs)
    running = dataclasses.replace(
        trade(f"{unique}-t1", account, "breakout", 1, "OPENED", "Running", OPENED, symbol=symbol, entry_qty=100,
              entry_price="500.25", opened=OPENED), stop_price=D("497.75"), target_price=D("505"))
    publish("trades", account, running)
    row = (By.CSS_SELECTOR, f"#trades-rows tr[data-trade='{unique}-t1']")
    wait.until(visible.visibility_of_element_located(row))
    cells = [td.text for td in browser.find_element(*row).find_elements(By.TAG_NAME, "td")]
    assert cells == ["03/10/2026 09:45:00", account, "breakout", symbol, "long", "100", "500.25", "497.75", "505", "",
                     "", "Running"]

    bar = Bar(symbol=symbol, timeframe="1m", session="regular", start=ns(OPENED), end=ns(OPENED) + 60 * 10**9,
              open=D("500.25"), high=D("502"), low=D("500"), close=D("501.75"), volume=1000, vwap=D("501"),
              trades=10, ts_init=ns(OPENED) + 61 * 10**9)
    publish("bars", symbol, bar)
    pnl = (By.CSS_SELECTOR, f"#trades-rows tr[data-trade='{unique}-t1'] td.pnl")
    wait.until(visible.text_to_be_present_in_element(pnl, "150.00"))  # (501.75 - 500.25) x 100
    assert "gain" in browser.find_element(*pnl).get_attribute("class")

    order = dataclasses.replace(order_event(f"{unique}-o1", 0, account, f"{unique}-t1"), symbol=symbol)
    publish("orders.events", account, order)
    order_row = (By.CSS_SELECTOR, f"#orders-rows tr[data-order='{unique}-o1']")
    wait.until(visible.visibility_of_element_located(order_row))
    assert "ACCEPTED" in browser.find_element(*order_row).text and "Placed" in browser.find_element(*order_row).text
    assert browser.find_elements(By.CSS_SELECTOR, f"#trades-rows tr[data-trade='{unique}-theirs']") == []
    screenshot("running")

    closed = dataclasses.replace(running, version=2, change="CLOSED", status="Closed", exit_qty=100,
                                 exit_price=D("501.75"), pnl=Decimal("150").quantize(D("1")),
                                 closed_ns=ns(OPENED) + 120 * 10**9)
    publish("trades", account, closed)
    wait.until(visible.invisibility_of_element_located(row))
    assert browser.find_element(By.ID, "trades-summary").text == "0 running or waiting trade(s)"
    assert console_errors(browser) == []

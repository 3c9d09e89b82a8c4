"""The trades page in headless Chromium, fed over the websocket: a trade published on the session's trades topic
appears without a reload, with its unrealised P&L worked out from a bar published after it, its order beside it,
and leaves the running trades when its closing version comes; another user's trade never shows. Unrealised P&L is
exact and shown to the cent, halves away from zero, where floating point would show another cent."""

from __future__ import annotations

import dataclasses
import uuid
from decimal import Decimal

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import WebDriverWait

from connectors.kafka.codec import AvroCodec
from connectors.kafka.publisher import EventPublisher
from processors.model import Bar
from tests.streams.trading_events import D, fill, ns, order_event, trade
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


# Each running row's cells and its P&L cell's class, read in one go (a row is re-rendered by every update).
ROWS_SCRIPT = """return [...document.querySelectorAll('#trades-rows tr')].map((tr) =>
  [tr.dataset.trade, [...tr.cells].map((td) => td.textContent), tr.querySelector('td.pnl').className]);"""


def test_unrealised_pnl_is_exact_to_the_cent(browser: webdriver.Chrome, dashboard_url: str,
                                             dashboard_topic_prefix: str) -> None:
    """Halves of a cent, which floats miss: 0.005 is 0.00499999... in binary, so (last - entry) x quantity with
    Number and toFixed(2) showed 0.00 and -0.00 for these trades, and 0.01 for the option's 0.015 x 100."""
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account = f"paper-{unique}"
    user = make_user(settings.database_url, f"exact-{unique}", accounts=[account], password=f"exact pw {unique}")
    kafka = settings.kafka(dashboard_topic_prefix)
    publisher = EventPublisher(kafka, AvroCodec(kafka.registry_config()), client_id="test-trades-exact")

    def publish(topic: str, key: str, event: object) -> None:
        publisher.publish(kafka.topic(topic), key, event)
        assert publisher.flush(10) == 0 and publisher.failed == 0

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='trades']").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "live-state"), "live"))

    # (trade, symbol, direction, quantity, entry, last close, multiplier): P&L shown, its class
    cases = [("short", "S", "short", 1, "20.115", "20.11", 1, "0.01", "gain"),      # -(20.11 - 20.115) = 0.005
             ("loss", "L", "long", 1, "100.115", "100.11", 1, "-0.01", "loss"),     # -0.005
             ("option", "O", "long", 3, "1.01", "1.01005", 100, "0.02", "gain"),     # 0.00005 x 3 x 100 = 0.015
             ("tenths", "T", "long", 3, "0.1", "0.3", 1, "0.60", "gain")]           # 0.6000000000000001 in floats
    expected = {}
    for name, letter, direction, quantity, entry, last, multiplier, shown, kind in cases:
        trade_id, symbol = f"{unique}-{name}", f"{letter}{unique[:5].upper()}"
        publish("trades", account, trade(trade_id, account, "breakout", 1, "OPENED", "Running", OPENED,
                                         symbol=symbol, direction=direction, entry_qty=quantity, entry_price=entry,
                                         opened=OPENED))
        if multiplier != 1:
            publish("fills", account, dataclasses.replace(
                fill(f"{trade_id}-e1", account, trade_id, "BUY", quantity, entry, "0.65"), symbol=symbol,
                multiplier=multiplier))
        publish("bars", symbol, Bar(symbol=symbol, timeframe="1m", session="regular", start=ns(OPENED),
                                    end=ns(OPENED) + 60 * 10**9, open=D(entry), high=D(max(entry, last, key=Decimal)),
                                    low=D(min(entry, last, key=Decimal)), close=D(last), volume=1000, vwap=D(last),
                                    trades=10, ts_init=ns(OPENED) + 61 * 10**9))
        expected[trade_id] = [["03/10/2026 09:45:00", account, "breakout", symbol, direction, str(quantity),
                               entry, "1", "", last, shown, "Running"], f"num pnl {kind}"]

    def shown(driver: webdriver.Chrome) -> dict[str, list[object]]:
        return {trade_id: [cells, kind] for trade_id, cells, kind in driver.execute_script(ROWS_SCRIPT)}

    try:
        WebDriverWait(browser, 20).until(lambda driver: shown(driver) == expected)
    except TimeoutException:
        assert shown(browser) == expected   # fails showing each row as it stands
    assert console_errors(browser) == []

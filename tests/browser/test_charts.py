"""The charts page in headless Chromium: a bad timeframe is refused beside its field; a symbol's stored bars are
drawn as candlesticks with their indicators by the vendored charting library (no request leaves the dashboard's
origin), with the caller's signal and trade counted, times in ET."""

from __future__ import annotations

import math
import uuid

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
T0 = 1_773_149_400_000_000_000  # 2026-03-10 13:30 UTC, 09:30 ET
STEP = 5 * 60 * 10**9
BARS = 60


def insert_bars(conn: psycopg.Connection, symbol: str) -> None:
    for i in range(BARS):
        close = round(100 + 5 * math.sin(i / 6), 2)
        start = T0 + i * STEP
        conn.execute("insert into bars (symbol, timeframe, start, \"end\", start_ns, end_ns, session, open, high, low, "
                     "close, volume, vwap, trades, ts_init_ns) values (%s, '5m', to_timestamp(%s / 1e9), "
                     "to_timestamp(%s / 1e9), %s, %s, 'regular', %s, %s, %s, %s, 100, %s, 3, %s)",
                     (symbol, start, start + STEP, start, start + STEP, close - 0.2, close + 0.5, close - 0.5, close,
                      close, start))


def test_a_chart_of_stored_bars(browser: webdriver.Chrome, dashboard_url: str, screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    strategy, account = f"chart-{unique}", f"paper-{unique}"
    user = make_user(settings.database_url, f"charts-{unique}", accounts=[account], strategies=[strategy],
                     password=f"charts pw {unique}")
    symbol = f"K{unique[:6].upper()}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        insert_bars(conn, symbol)
        at = T0 + 20 * STEP + 60 * 10**9
        conn.execute("insert into signals (signal_id, strategy, symbol, side, ts, ts_event_ns, ts_init_ns, price, "
                     "reason) values (%s, %s, %s, 'BUY', to_timestamp(%s / 1e9), %s, %s, 101, 'breakout')",
                     (f"{unique}-s", strategy, symbol, at, at, at))
        conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, "
                     "symbol, direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, "
                     "exit_price, initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns, closed_ns) "
                     "values (%s, 2, 'CLOSED', %s, %s, 'intraday', 'long', %s, 'long', 'Closed', %s, %s, 10, 10, 101, "
                     "103, 99, 99, 20, 0, 20, 2, %s, %s)",
                     (f"{unique}-t", account, strategy, symbol, at + 40 * STEP, at, at + STEP, at + 40 * STEP))

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='charts']").click()
    wait.until(visible.visibility_of_element_located((By.ID, "chart-form")))
    browser.find_element(By.ID, "chart-symbol").clear()
    browser.find_element(By.ID, "chart-symbol").send_keys(symbol)
    browser.find_element(By.ID, "chart-timeframe").clear()
    browser.find_element(By.ID, "chart-timeframe").send_keys("5x")
    browser.find_element(By.ID, "chart-show").click()
    wait.until(lambda _: browser.find_element(By.ID, "chart-timeframe-error").text != "")
    assert browser.find_elements(By.CSS_SELECTOR, "#chart canvas") == []

    browser.find_element(By.ID, "chart-timeframe").clear()
    browser.find_element(By.ID, "chart-timeframe").send_keys("5m")
    browser.find_element(By.ID, "chart-show").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "chart-summary"), f"{BARS} bars of {symbol} 5m"))
    assert browser.find_element(By.ID, "chart-timeframe-error").text == ""
    summary = browser.find_element(By.ID, "chart-summary").text
    assert "03/10/2026 09:30:00 to 03/10/2026 14:25:00 ET" in summary  # 60 five-minute bars from 09:30 ET
    assert "1 signal(s), 1 trade(s) of yours" in summary
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart canvas")) >= 2  # the price pane and the ATR pane
    height = browser.execute_script("return document.querySelector('#chart canvas').getBoundingClientRect().height")
    assert height > 100
    scripts = browser.execute_script("return performance.getEntriesByType('resource').map((r) => r.name)")
    assert all(name.startswith(dashboard_url) for name in scripts), scripts  # no CDN: everything from the dashboard
    screenshot("chart")
    assert console_errors(browser) == []

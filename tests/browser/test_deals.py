"""The deals page in headless Chromium: a bad date is answered beside its field, the trades of the user's
account are listed (not another account's), and the exported CSV file is byte for byte the API's report."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import httpx
import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
DAY = "2026-03-11"


def store_trades(database_url: str, account: str, other: str, unique: str) -> None:
    """Two trades on the user's account (one closed at a loss, one running) and one on another account."""
    opened = int(dt.datetime(2026, 3, 11, 14, 45, tzinfo=dt.timezone.utc).timestamp()) * 10**9
    closed = opened + 30 * 60 * 10**9
    rows = [(f"t1-{unique}", account, f"breakout-{unique}", "Closed", 10, 10, "600", "595", -50, -51, "-0.85", closed),
            (f"t2-{unique}", account, f"breakout-{unique}", "Running", 5, 0, "450.5", None, 0, -1, "-0.04", None),
            (f"t3-{unique}", other, f"other-{unique}", "Running", 7, 0, "100", None, 0, -1, "-0.14", None)]
    with psycopg.connect(database_url, autocommit=True) as conn:
        for index, (trade, acct, strategy, status, entry, exit_qty, price, exit_price, pnl, net, pct, end) in \
                enumerate(rows):
            conn.execute(
                "insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, symbol, "
                "direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, exit_price, "
                "initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns, closed_ns) values "
                "(%s, 2, 'OPENED', %s, %s, 'intraday', 'long', %s, 'LONG', %s, %s, %s, %s, %s, %s, %s, 590, 590, "
                "%s, 1, %s, %s, %s, %s)",
                (trade, acct, strategy, ("SPY", "QQQ", "IWM")[index], status, opened, opened, entry, exit_qty,
                 price, exit_price, pnl, net, pct, opened + index * 10**9, end))


def test_deals_listed_and_exported_as_the_api_answers(browser: webdriver.Chrome, dashboard_url: str,
                                                      downloads: Path, screenshot) -> None:  # noqa: ANN001
    database_url = Settings.from_env().database_url
    unique = uuid.uuid4().hex[:10]
    account = f"acct-{unique}"
    user = make_user(database_url, f"deals-{unique}", accounts=[account], password=f"deals password {unique}")
    store_trades(database_url, account, f"other-acct-{unique}", unique)

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page=deals]").click()
    wait.until(visible.visibility_of_element_located((By.ID, "deals-form")))

    browser.find_element(By.ID, "deals-from").send_keys("2026-02-30")
    browser.find_element(By.ID, "deals-to").send_keys(DAY)
    browser.find_element(By.ID, "deals-show").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "deals-from-error"), "from must be a date as YYYY-MM-DD"))
    assert browser.find_element(By.ID, "deals-export").get_attribute("aria-disabled") == "true"

    start = browser.find_element(By.ID, "deals-from")
    start.clear()
    start.send_keys(DAY)
    browser.find_element(By.ID, "deals-show").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "deals-summary"), "2 deal(s)"))
    assert browser.find_element(By.ID, "deals-from-error").text == ""
    rows = [row.text for row in browser.find_elements(By.CSS_SELECTOR, "#deals-rows tr")]
    assert len(rows) == 2 and "SPY" in rows[0] and "-51.00" in rows[0] and "Completed" in rows[0]
    assert "QQQ" in rows[1] and "Running" in rows[1]
    assert "03/11/2026 10:45:00" in rows[0]  # 14:45 UTC is 10:45 in New York (EDT from March 8)
    screenshot("deals")

    browser.find_element(By.ID, "deals-export").click()
    exported = downloads / "deals.csv"
    wait.until(lambda _: exported.exists() and not list(downloads.glob("*.crdownload")))
    answer = httpx.get(f"{dashboard_url}/api/deals", params={"from": DAY, "to": DAY, "format": "csv"},
                       headers=user.headers, timeout=30)
    assert answer.status_code == 200
    assert exported.read_bytes() == answer.content
    assert f"other-{unique}" not in exported.read_text() and f"breakout-{unique}" in exported.read_text()
    assert console_errors(browser) == []

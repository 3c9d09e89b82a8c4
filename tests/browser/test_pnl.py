"""The P&L page in headless Chromium: a bad date is refused beside its field; the user's closed trades are summed
by New York day with the running net P&L drawn as the equity curve, by strategy, and in total with the charges."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from tests.integration.test_api_pnl import insert
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration


def test_pnl_by_day_and_strategy(browser: webdriver.Chrome, dashboard_url: str, screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account = f"paper-{unique}"
    user = make_user(settings.database_url, f"pnl-{unique}", accounts=[account], password=f"pnl pw {unique}")
    s1, s2 = f"S1-{unique}", f"S2-{unique}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        insert(conn, f"{unique}-1", account, s1, "Closed", "2026-03-02T15:00:00+00:00", "100", "2", "98")
        insert(conn, f"{unique}-2", account, s2, "Closed", "2026-03-03T15:00:00+00:00", "-50", "1.5", "-51.5")
        insert(conn, f"{unique}-3", account, s1, "Closed", "2026-03-04T15:00:00+00:00", "30", "1", "29")

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='pnl']").click()
    wait.until(visible.visibility_of_element_located((By.ID, "pnl-form")))
    browser.find_element(By.ID, "pnl-from").send_keys("2026-03-02")
    browser.find_element(By.ID, "pnl-to").send_keys("2026-02-30")
    browser.find_element(By.ID, "pnl-show").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "pnl-to-error"), "must be a date"))
    browser.find_element(By.ID, "pnl-to").clear()
    browser.find_element(By.ID, "pnl-to").send_keys("2026-03-06")
    browser.find_element(By.ID, "pnl-show").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "pnl-total"), "3 trade(s) closed"))
    assert browser.find_element(By.ID, "pnl-total").text == (
        "3 trade(s) closed from 2026-03-02 to 2026-03-06: net 75.50 (gross 80.00, charges 4.50; 2 won, 1 lost)")
    assert browser.find_element(By.ID, "pnl-to-error").text == ""
    days = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#pnl-days tr")]
    assert days == [["2026-03-02", "1", "100.00", "2.00", "98.00", "98.00"],
                    ["2026-03-03", "1", "-50.00", "1.50", "-51.50", "46.50"],
                    ["2026-03-04", "1", "30.00", "1.00", "29.00", "75.50"]]
    strategies = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
                  for tr in browser.find_elements(By.CSS_SELECTOR, "#pnl-strategies tr")]
    assert strategies == [[s1, "2", "2", "0", "130.00", "3.00", "127.00"],
                          [s2, "1", "0", "1", "-50.00", "1.50", "-51.50"]]
    assert browser.find_elements(By.CSS_SELECTOR, "#pnl-curve canvas")  # the equity curve is drawn
    screenshot("pnl")
    assert console_errors(browser) == []

"""The calendar page in headless Chromium: a bad date is refused beside its field; the week of Thanksgiving 2026
shows the half day after it and lists the holiday, hours in New York time."""

from __future__ import annotations

import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration


def set_dates(browser: webdriver.Chrome, first: str, last: str) -> None:
    for name, value in (("from", first), ("to", last)):
        browser.find_element(By.ID, f"calendar-{name}").clear()
        browser.find_element(By.ID, f"calendar-{name}").send_keys(value)
    browser.find_element(By.ID, "calendar-show").click()


def test_the_week_of_thanksgiving(browser: webdriver.Chrome, dashboard_url: str, screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    user = make_user(settings.database_url, f"cal-{unique}", password=f"cal pw {unique}")
    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='calendar']").click()
    wait.until(visible.visibility_of_element_located((By.ID, "calendar-form")))
    set_dates(browser, "2026-11-30", "2026-11-23")
    wait.until(visible.text_to_be_present_in_element((By.ID, "calendar-to-error"), "before from"))
    set_dates(browser, "2026-11-23", "2026-11-30")
    wait.until(visible.text_to_be_present_in_element((By.ID, "calendar-closed"), "Closed: 2026-11-26"))
    assert browser.find_element(By.ID, "calendar-to-error").text == ""
    rows = {tr.get_attribute("data-date"): [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#calendar-days tr")}
    assert sorted(rows) == ["2026-11-23", "2026-11-24", "2026-11-25", "2026-11-27", "2026-11-30"]
    assert rows["2026-11-27"] == ["Fri 2026-11-27", "04:00–09:30", "09:30–13:00", "13:00–17:00", "half day"]
    assert rows["2026-11-30"] == ["Mon 2026-11-30", "04:00–09:30", "09:30–16:00", "16:00–20:00", ""]
    screenshot("thanksgiving")
    assert console_errors(browser) == []

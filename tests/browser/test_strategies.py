"""The strategies page in headless Chromium: a new strategy with a rule error and a bad number is refused, the
number's error shown beside its field and the rule's error marking the character at its position in the rule
editor; corrected, it is saved (the API reads back what was written), listed, then disabled and enabled again."""

from __future__ import annotations

import uuid

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import Select

from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
GOOD_RULE = "price(SPY) > swing_high(SPY, 15m)"
BAD_RULE = "price(SPY) >> 3"  # the second '>' (position 12) is where a value was expected


def set_text(browser: webdriver.Chrome, name: str, text: str) -> None:
    element = browser.find_element(By.ID, f"sf-{name}")
    element.clear()
    element.send_keys(text)


def test_create_a_strategy_with_a_rule_error_then_a_valid_one(browser: webdriver.Chrome, dashboard_url: str,
                                                              screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    user = make_user(settings.database_url, f"strat-{unique}", password=f"strat pw {unique}")
    name = f"breakout-{unique}"

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='strategies']").click()
    wait.until(visible.element_to_be_clickable((By.ID, "strategy-new"))).click()
    wait.until(visible.visibility_of_element_located((By.ID, "strategy-form")))
    set_text(browser, "name", name)
    set_text(browser, "symbols", "SPY, QQQ")
    Select(browser.find_element(By.ID, "sf-direction")).select_by_value("long")
    set_text(browser, "max_signals_per_day", "0")
    set_text(browser, "entry_rules", f"{GOOD_RULE}\n{BAD_RULE}")
    browser.find_element(By.ID, "strategy-save").click()

    mark = (By.CSS_SELECTOR, "#sf-entry_rules-marks .rule-error[data-rule='1'] mark")
    wait.until(visible.visibility_of_element_located(mark))
    rule_error = browser.find_element(By.CSS_SELECTOR, "#sf-entry_rules-marks .rule-error")
    assert rule_error.get_attribute("data-position") == "12"
    assert browser.find_element(*mark).text == ">"
    assert rule_error.find_element(By.TAG_NAME, "code").text == BAD_RULE
    assert "rule 2, position 12" in rule_error.text
    assert browser.find_element(By.ID, "sf-entry_rules").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "sf-max_signals_per_day-error").text != ""
    assert browser.find_element(By.ID, "sf-max_signals_per_day").get_attribute("aria-invalid") == "true"
    shown = {error.get_attribute("id") for error in
             browser.find_elements(By.CSS_SELECTOR, "#strategy-fields .field-error") if error.text}
    assert shown == {"sf-max_signals_per_day-error"}  # the rule's error is in its editor's marks; no other field's
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", rule_error)
    screenshot("rule-error")

    set_text(browser, "max_signals_per_day", "4")
    set_text(browser, "entry_rules", f"{GOOD_RULE}\nprice(QQQ) > 3")
    browser.find_element(By.ID, "strategy-save").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "strategies-result"), f"Saved {name}, version 1"))
    assert not browser.find_element(By.ID, "strategy-editor").is_displayed()
    row = (By.CSS_SELECTOR, f"#strategies-rows tr[data-strategy='{name}']")
    wait.until(visible.text_to_be_present_in_element(row, "enabled"))
    screenshot("saved")

    stored = httpx.get(f"{dashboard_url}/api/scanners/{name}", headers=user.headers).json()
    assert stored["config"]["entry_rules"] == [GOOD_RULE, "price(QQQ) > 3"]
    assert (stored["config"]["max_signals_per_day"], stored["config"]["symbols"]) == (4, ["SPY", "QQQ"])

    browser.find_element(*row).find_element(By.CLASS_NAME, "edit").click()  # the form holds what is stored
    wait.until(visible.visibility_of_element_located((By.ID, "strategy-form")))
    assert browser.find_element(By.ID, "sf-entry_rules").get_attribute("value") == f"{GOOD_RULE}\nprice(QQQ) > 3"
    assert browser.find_element(By.ID, "sf-name").get_attribute("readonly") == "true"
    set_text(browser, "max_signals_per_symbol", "3")
    browser.find_element(By.ID, "strategy-save").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "strategies-result"), f"Saved {name}, version 2"))
    assert httpx.get(f"{dashboard_url}/api/scanners/{name}",
                     headers=user.headers).json()["config"]["max_signals_per_symbol"] == 3

    browser.find_element(*row).find_element(By.CLASS_NAME, "toggle").click()
    wait.until(visible.text_to_be_present_in_element(row, "disabled"))
    assert httpx.get(f"{dashboard_url}/api/scanners/{name}", headers=user.headers).json()["enabled"] is False
    browser.find_element(*row).find_element(By.CLASS_NAME, "toggle").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "strategies-result"), f"{name} enabled"))
    assert httpx.get(f"{dashboard_url}/api/scanners/{name}", headers=user.headers).json()["enabled"] is True
    assert console_errors(browser) == []

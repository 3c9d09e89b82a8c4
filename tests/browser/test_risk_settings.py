"""The risk settings page in headless Chromium: the account's recorded settings are shown one field per setting; a
change without a reason or with a bad limit is refused beside the field; a valid change is published on the
accounts topic (read back from Kafka) with the reason and the user as operator."""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
import yaml
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import Select

from processors.risk.account_file import read_account, write_account
from tests.account_changes import changes_on
from tests.users import make_user
from tradestream.config import Settings

from .conftest import ROOT
from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
DRAWDOWN = "#rs-limits-max_drawdown_pct"


def test_change_an_accounts_risk_settings(browser: webdriver.Chrome, dashboard_url: str, dashboard_topic_prefix: str,
                                          screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account = f"paper-{unique}"
    user = make_user(settings.database_url, f"risk-{unique}", accounts=[account], password=f"risk pw {unique}")
    example = yaml.safe_load((ROOT / "examples/accounts/paper.yaml").read_text())
    stored = write_account(read_account(json.loads(json.dumps(example, default=str)) | {"account_id": account}))
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("insert into account_changes (account_id, ts_event_ns, kind, ts_init_ns, reason, operator, "
                     "settings) values (%s, %s, 'SETTINGS_CHANGED', %s, 'first limits', 'ops', %s)",
                     (account, time.time_ns(), time.time_ns(), json.dumps(stored)))

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='risk']").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "risk-account"), account))
    Select(browser.find_element(By.ID, "risk-account")).select_by_value(account)
    browser.find_element(By.ID, "risk-show").click()
    wait.until(visible.visibility_of_element_located((By.CSS_SELECTOR, DRAWDOWN)))
    assert "set by ops: first limits" in browser.find_element(By.ID, "risk-source").text
    drawdown = browser.find_element(By.CSS_SELECTOR, DRAWDOWN)
    assert drawdown.get_attribute("value") == "3"
    assert browser.find_element(By.ID, "rs-limits-max_active_trades").get_attribute("value") == "5"

    drawdown.clear()
    drawdown.send_keys("-1")
    browser.find_element(By.ID, "risk-save").click()  # no reason: refused before anything is sent
    wait.until(visible.text_to_be_present_in_element((By.ID, "risk-reason-error"), "say why"))
    browser.find_element(By.ID, "risk-reason").send_keys("tighter limits for earnings week")
    browser.find_element(By.ID, "risk-save").click()
    wait.until(lambda _: browser.find_element(By.CSS_SELECTOR, f"{DRAWDOWN}-error").text != "")
    assert drawdown.get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "risk-error").text == ""  # the problem is beside its field, not below
    screenshot("refused")

    drawdown.clear()
    drawdown.send_keys("2.5")
    browser.find_element(By.ID, "risk-save").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "risk-result"), f"Settings of {account} published"))
    screenshot("published")

    (change,) = changes_on(settings, f"{dashboard_topic_prefix}accounts", account, wanted=1)
    assert (change.kind, change.reason, change.operator) == ("SETTINGS_CHANGED", "tighter limits for earnings week",
                                                             user.name)
    published = json.loads(change.settings)
    assert published["limits"]["max_drawdown_pct"] == "2.5" and published["limits"]["max_active_trades"] == 5
    assert {key: value for key, value in published.items() if key != "limits"} == {
        key: value for key, value in stored.items() if key != "limits"}
    assert console_errors(browser) == []

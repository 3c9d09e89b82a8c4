"""The kill-switch reset from the overview in headless Chromium: the account the user owns is listed, the reset
is guarded (a confirming step, and no reset without a reason, said beside the field), and the confirmed reset is
an AccountChanged on the accounts topic with the reason and the user as operator."""

from __future__ import annotations

import uuid

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from tests.account_changes import changes_on
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
REASON = "drawdown reviewed with the desk"


def test_reset_the_kill_switch_with_a_reason(browser: webdriver.Chrome, dashboard_url: str, dashboard_topic_prefix: str,
                                             screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account = f"paper-{unique}"
    user = make_user(settings.database_url, f"switch-{unique}", accounts=[account], password=f"switch pw {unique}")

    wait = log_in(browser, dashboard_url, user)
    row = (By.CSS_SELECTOR, f"#accounts tr[data-account='{account}']")
    wait.until(visible.visibility_of_element_located(row))
    assert "never" in browser.find_element(*row).text
    browser.find_element(*row).find_element(By.TAG_NAME, "button").click()
    wait.until(visible.visibility_of_element_located((By.ID, "reset-form")))
    assert browser.find_element(By.ID, "reset-account").text == account

    browser.find_element(By.ID, "reset-confirm").click()  # no reason: refused beside the field, nothing sent
    wait.until(visible.text_to_be_present_in_element((By.ID, "reset-reason-error"), "say why trading may resume"))
    browser.find_element(By.ID, "reset-reason").send_keys(REASON)
    screenshot("confirm")
    browser.find_element(By.ID, "reset-confirm").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "reset-result"), f"Kill switch of {account} reset"))
    assert f"by {user.name}: {REASON}" in browser.find_element(By.ID, "reset-result").text
    assert not browser.find_element(By.ID, "reset-form").is_displayed()
    screenshot("reset")

    (change,) = changes_on(settings, f"{dashboard_topic_prefix}accounts", account, wanted=1)
    assert (change.kind, change.reason, change.operator) == ("KILL_SWITCH_RESET", REASON, user.name)
    assert console_errors(browser) == []

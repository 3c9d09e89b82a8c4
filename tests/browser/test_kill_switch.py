"""The kill switch from the overview in headless Chromium: the account the user owns is listed with its equity,
open risk and P&L realised today, a trip and a reset
are each guarded (a confirming step, and none without a reason, said beside the field), and each confirmed change
is an AccountChanged on the accounts topic with the reason and the user as operator, in the order they were made."""

from __future__ import annotations

import time
import uuid

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import WebDriverWait

from tests.account_changes import changes_on
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration
TRIP_REASON = "news halt on the desk's names"
RESET_REASON = "drawdown reviewed with the desk"


def change_switch(browser: webdriver.Chrome, wait: WebDriverWait, account: str, what: str, why: str, reason: str,
                  done: str, screenshot) -> None:  # noqa: ANN001
    """Open the account's trip or reset form, see it refuse no reason beside the field, then confirm with one."""
    row = (By.CSS_SELECTOR, f"#accounts tr[data-account='{account}']")
    browser.find_element(*row).find_element(By.CLASS_NAME, f"{what}-switch").click()
    wait.until(visible.visibility_of_element_located((By.ID, f"{what}-form")))
    assert browser.find_element(By.ID, f"{what}-account").text == account
    browser.find_element(By.ID, f"{what}-confirm").click()  # no reason: refused beside the field, nothing sent
    wait.until(visible.text_to_be_present_in_element((By.ID, f"{what}-reason-error"), why))
    browser.find_element(By.ID, f"{what}-reason").send_keys(reason)
    screenshot(f"{what}-confirm")
    browser.find_element(By.ID, f"{what}-confirm").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "switch-result"), f"Kill switch of {account} {done}"))
    assert reason in browser.find_element(By.ID, "switch-result").text
    assert not browser.find_element(By.ID, f"{what}-form").is_displayed()
    screenshot(done)


def test_trip_then_reset_the_kill_switch_with_reasons(browser: webdriver.Chrome, dashboard_url: str,
                                                       dashboard_topic_prefix: str, screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account = f"paper-{unique}"
    user = make_user(settings.database_url, f"switch-{unique}", accounts=[account], password=f"switch pw {unique}")

    now = time.time_ns()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("insert into risk_decisions (intent_id, account_id, strategy, symbol, side, action, ts_event_ns, "
                     "ts_init_ns, outcome, quantity, equity, signal_price, open_risk_after) values (%s, %s, 's', "
                     "'SPY', 'BUY', 'entry', %s, %s, 'ACCEPT', 10, 99500.5, 500, 250)",
                     (f"{unique}-i", account, now, now))
        conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, "
                     "symbol, direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, "
                     "initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns, closed_ns) values "
                     "(%s, 2, 'CLOSED', %s, 's', 'intraday', 'long', 'SPY', 'long', 'Closed', %s, %s, 1, 1, 10, 9, 9, "
                     "0, 0, -12.25, 0, %s, %s)", (f"{unique}-t", account, now, now, now - 10**12, now))

    wait = log_in(browser, dashboard_url, user)
    row = (By.CSS_SELECTOR, f"#accounts tr[data-account='{account}']")
    wait.until(visible.visibility_of_element_located(row))
    assert "not tripped by hand" in browser.find_element(*row).text
    assert "never" in browser.find_element(*row).text
    figures = [browser.find_element(*row).find_element(By.CLASS_NAME, name).text
               for name in ("equity", "open-risk", "day-pnl")]
    assert figures == ["99500.50", "250.00", "-12.25 (1)"]
    assert "loss" in browser.find_element(*row).find_element(By.CLASS_NAME, "day-pnl").get_attribute("class")

    change_switch(browser, wait, account, "trip", "say why trading stops", TRIP_REASON, "tripped", screenshot)
    change_switch(browser, wait, account, "reset", "say why trading may resume", RESET_REASON, "reset", screenshot)

    tripped, reset = changes_on(settings, f"{dashboard_topic_prefix}accounts", account, wanted=2)
    assert (tripped.kind, tripped.reason, tripped.operator) == ("KILL_SWITCH_TRIPPED", TRIP_REASON, user.name)
    assert (reset.kind, reset.reason, reset.operator) == ("KILL_SWITCH_RESET", RESET_REASON, user.name)
    assert tripped.ts_event < reset.ts_event
    assert console_errors(browser) == []

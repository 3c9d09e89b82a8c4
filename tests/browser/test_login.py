"""Log in through the dashboard in headless Chromium: the dark log-in page, a wrong password answered beside
the form, the right one opening the overview with the user's own signal (and not another user's), the session
cookie HttpOnly and SameSite=Strict, the session kept across a reload, and the sign-out back to the log-in.
Screenshots of the log-in page and of the overview are kept as artefacts."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import WebDriverWait

from tests.users import make_user

from .pages import console_errors
from tradestream.config import Settings

pytestmark = pytest.mark.integration
WAIT_S = 20


def store_signal(database_url: str, strategy: str, unique: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, "
                     "price, reason) values (%s, %s, 'SPY', 'BUY', 'ENTRY', %s, 1, 2, 601.25, 'browser test')",
                     (f"sig-{strategy}", strategy, dt.datetime.now(dt.timezone.utc)))


def test_log_in_see_the_overview_and_sign_out(browser: webdriver.Chrome, dashboard_url: str, screenshot) -> None:  # noqa: ANN001
    database_url = Settings.from_env().database_url
    unique = uuid.uuid4().hex[:10]
    user = make_user(database_url, f"browser-{unique}", strategies=[f"mine-{unique}"],
                     password=f"the browser's password {unique}")
    store_signal(database_url, f"mine-{unique}", unique)
    store_signal(database_url, f"theirs-{unique}", unique)  # nobody's: never shown
    wait = WebDriverWait(browser, WAIT_S)

    browser.get(dashboard_url)
    wait.until(visible.visibility_of_element_located((By.ID, "login-form")))
    background = browser.execute_script("return getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"  # dark by default
    screenshot("login")

    browser.find_element(By.ID, "login-submit").click()  # nothing typed: each field says so
    wait.until(visible.text_to_be_present_in_element((By.ID, "login-name-error"), "required"))
    assert browser.find_element(By.ID, "login-password-error").text == "required"

    browser.find_element(By.ID, "login-name").send_keys(user.name)
    browser.find_element(By.ID, "login-password").send_keys("not the password")
    browser.find_element(By.ID, "login-submit").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "login-error"), "the name or the password is wrong"))

    password = browser.find_element(By.ID, "login-password")
    password.clear()
    password.send_keys(user.password)
    browser.find_element(By.ID, "login-submit").click()
    wait.until(visible.visibility_of_element_located((By.ID, "overview")))
    assert browser.find_element(By.ID, "who").text == f"{user.name} (trader)"
    wait.until(visible.text_to_be_present_in_element((By.ID, "signals"), f"mine-{unique}"))
    wait.until(lambda driver: driver.find_elements(By.CSS_SELECTOR, "#rows tr"))  # the platform's components
    assert f"theirs-{unique}" not in browser.find_element(By.ID, "signals").text
    assert not browser.find_element(By.ID, "login-view").is_displayed()

    cookies = {cookie["name"]: cookie for cookie in browser.get_cookies()}
    session = cookies["tradestream_session"]
    assert session["httpOnly"] is True and session["sameSite"] == "Strict" and session["secure"] is False
    assert cookies["tradestream_csrf"]["httpOnly"] is False
    assert browser.execute_script("return document.cookie").count("tradestream_session") == 0
    screenshot("overview")

    browser.refresh()  # the session outlives the page
    wait.until(visible.text_to_be_present_in_element((By.ID, "who"), user.name))

    browser.find_element(By.ID, "theme-toggle").click()
    wait.until(lambda driver: driver.execute_script("return getComputedStyle(document.body).backgroundColor")
               == "rgb(246, 248, 250)")
    screenshot("overview-light")

    browser.find_element(By.ID, "logout").click()
    wait.until(visible.visibility_of_element_located((By.ID, "login-form")))
    assert "tradestream_session" not in {cookie["name"] for cookie in browser.get_cookies()}
    assert console_errors(browser) == []

"""Steps through the dashboard that several browser tests take."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import WebDriverWait

from tests.users import ApiUser

WAIT_S = 20
# Chrome logs every 4xx and 5xx answer on the console. The pages expect some and show them: a 4xx (401 before
# the log-in, 400 for a bad field), and /api/health's 503 while a component is down (no worker runs in the
# tests). Anything else at the SEVERE level (a script error, a blocked resource, another 5xx) is a fault.
LOAD_FAILED = "Failed to load resource: the server responded with a status of "


def _expected(message: str) -> bool:
    return f"{LOAD_FAILED}4" in message or ("/api/health " in message and f"{LOAD_FAILED}503" in message)


def console_errors(browser: webdriver.Chrome) -> list[str]:
    """The console's SEVERE messages since the last call, but the answers the pages expect."""
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE" and not _expected(entry["message"])]


def log_in(browser: webdriver.Chrome, url: str, user: ApiUser) -> WebDriverWait:
    """Open the dashboard and log in as `user` through the form; the wait, for the test's next steps."""
    wait = WebDriverWait(browser, WAIT_S)
    browser.get(url)
    wait.until(visible.visibility_of_element_located((By.ID, "login-form")))
    browser.find_element(By.ID, "login-name").send_keys(user.name)
    browser.find_element(By.ID, "login-password").send_keys(user.password)
    browser.find_element(By.ID, "login-submit").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "who"), user.name))
    return wait

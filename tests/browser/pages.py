"""Steps through the dashboard that several browser tests take."""

from __future__ import annotations

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import WebDriverWait

from tests.users import ApiUser

WAIT_S = 20


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

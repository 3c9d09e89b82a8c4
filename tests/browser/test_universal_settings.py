"""The universal settings page in headless Chromium: before any version the defaults are shown; an admin's change with
a bad capital, a bad time or an effective instant in the past is refused beside each field; the valid one is published
on the settings topic (read back from Kafka) with the reason, the admin as operator and the settings typed, and the
versions table shows it in force; a viewer sees the settings and the versions, and no way to publish."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from connectors.kafka.codec import AvroCodec
from connectors.kafka.settings_topic import read_settings_changes
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration


def field(browser: webdriver.Chrome, path: str):  # noqa: ANN201 - a WebElement
    return browser.find_element(By.ID, "st-" + path.replace(".", "-"))


def error_of(browser: webdriver.Chrome, path: str) -> str:
    return browser.find_element(By.ID, "st-" + path.replace(".", "-") + "-error").text


def test_an_admin_publishes_a_version_and_a_viewer_sees_it(browser: webdriver.Chrome, dashboard_url: str,
                                                           dashboard_topic_prefix: str, screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    admin = make_user(settings.database_url, f"admin-{unique}", role="admin", password=f"admin pw {unique}")
    viewer = make_user(settings.database_url, f"viewer-{unique}", role="viewer", password=f"viewer pw {unique}")
    kafka = settings.kafka(dashboard_topic_prefix)
    before = len(read_settings_changes(kafka, AvroCodec(kafka.registry_config())))

    wait = log_in(browser, dashboard_url, admin)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='settings']").click()
    wait.until(lambda _: field(browser, "regular_open").get_attribute("value") != "")
    if before == 0:
        assert "No version published yet" in browser.find_element(By.ID, "settings-source").text
        assert field(browser, "regular_open").get_attribute("value") == "09:30"
    assert browser.find_element(By.ID, "settings-save").is_displayed()

    browser.find_element(By.ID, "settings-save").click()  # no reason: refused before anything is sent
    wait.until(visible.text_to_be_present_in_element((By.ID, "settings-reason-error"), "say why"))
    browser.find_element(By.ID, "settings-reason").send_keys("new desk capital and a half-day on New Year's Eve")
    for path, value in (("capital", "-5"), ("regular_open", "25:00")):
        field(browser, path).clear()
        field(browser, path).send_keys(value)
    browser.find_element(By.ID, "settings-effective").send_keys("2020-01-02T09:30:00-05:00")
    browser.find_element(By.ID, "settings-save").click()
    wait.until(lambda _: error_of(browser, "capital") != "")
    assert error_of(browser, "regular_open") != ""
    assert browser.find_element(By.ID, "settings-effective-error").text != ""
    assert field(browser, "capital").get_attribute("aria-invalid") == "true"
    assert browser.find_element(By.ID, "settings-error").text == ""  # beside the fields, not below
    screenshot("refused")

    for path, value in (("capital", "250000"), ("regular_open", "09:30"), ("extra_half_days", "2026-12-31")):
        field(browser, path).clear()
        field(browser, path).send_keys(value)
    browser.find_element(By.ID, "settings-effective").clear()
    browser.find_element(By.ID, "settings-save").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "settings-result"), f"Version {before + 1} published"))
    row = f"#settings-versions tr[data-version='{before + 1}']"
    wait.until(visible.text_to_be_present_in_element((By.CSS_SELECTOR, f"{row} .version-state"), "in force"))
    assert admin.name in browser.find_element(By.CSS_SELECTOR, row).text
    screenshot("published")

    changes = read_settings_changes(kafka, AvroCodec(kafka.registry_config()))
    assert len(changes) == before + 1
    change = changes[-1]
    assert (change.version, change.reason, change.operator) == (
        before + 1, "new desk capital and a half-day on New Year's Eve", admin.name)
    assert change.ts_event >= change.ts_init
    published = json.loads(change.settings)
    assert published["capital"] == "250000" and published["extra_half_days"] == ["2026-12-31"]
    assert published["regular_open"] == "09:30"
    with psycopg.connect(settings.database_url) as conn:
        recorded = conn.execute("select action, subject, (detail->>'version')::int from user_changes where actor = %s "
                                "and action = 'universal_settings_changed'",
                                (admin.name,)).fetchall()
    assert recorded == [("universal_settings_changed", "universal", before + 1)]
    assert console_errors(browser) == []

    browser.find_element(By.ID, "logout").click()
    wait.until(visible.visibility_of_element_located((By.ID, "login-form")))  # the session ended
    wait = log_in(browser, dashboard_url, viewer)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='settings']").click()
    wait.until(lambda _: field(browser, "capital").get_attribute("value") == "250000")
    assert not field(browser, "capital").is_enabled()
    assert not browser.find_element(By.ID, "settings-save").is_displayed()
    assert browser.find_element(By.ID, "settings-viewonly").is_displayed()
    wait.until(visible.presence_of_element_located((By.CSS_SELECTOR, row)))
    screenshot("viewer")
    assert console_errors(browser) == []

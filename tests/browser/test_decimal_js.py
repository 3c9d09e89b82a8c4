"""The page's exact decimal arithmetic (api/static/decimal.js), run in headless Chromium as the pages run it, on
cases worked out by hand: decimal strings to 10^-8 units and back, averages, amounts to the cent with halves away
from zero (as processors/pnl.py and processors/charges/money.py round money), where a float's toFixed is wrong."""

from __future__ import annotations

import pytest
from selenium import webdriver

pytestmark = pytest.mark.integration


def run(browser: webdriver.Chrome, expression: str) -> object:
    """`expression` evaluated in the page; BigInts come back as their decimal text (WebDriver has no BigInt)."""
    return browser.execute_script(f"const value = {expression}; "
                                  "return typeof value === 'bigint' ? `${value}n` : value;")


@pytest.fixture
def page(browser: webdriver.Chrome, dashboard_url: str) -> webdriver.Chrome:
    browser.get(dashboard_url)   # the log-in page has loaded every script, decimal.js first
    return browser


# (expression, its value worked out by hand); one browser runs them all.
CASES = [
    ("toUnits('187.49000000')", "18749000000n"),
    ("toUnits('0E-8')", "0n"),
    ("toUnits('-0.1')", "-10000000n"),
    ("toUnits('1.5e2')", "15000000000n"),
    ("toUnits('0.000000005')", "1n"),           # 0.5 of a unit: half away from zero
    ("toUnits('-0.000000005')", "-1n"),
    ("toUnits('0.0000000049')", "0n"),
    ("toUnits('')", None),
    ("decimalText('500.25000000')", "500.25"),
    ("decimalText('100.00000000')", "100"),
    ("decimalText('-0.30000000')", "-0.3"),
    ("fractionText(10n, 4n)", "2.5"),            # terminating: exact
    ("fractionText(1n, 3n)", "0.33333333"),      # else to 8 places
    ("fractionText(2n, 3n)", "0.66666667"),
    ("fractionText(-2n, 3n)", "-0.66666667"),
    ("centsText('1.005')", "1.01"),              # (1.005).toFixed(2) is 1.00: 1.005 is 1.00499999... in binary
    ("centsText('2.675')", "2.68"),              # (2.675).toFixed(2) is 2.67
    ("centsText('-1.005')", "-1.01"),
    ("centsText('0.015')", "0.02"),              # half even would give 0.02 too; 0.025 tells them apart
    ("centsText('0.025')", "0.03"),              # half even: 0.02
    ("centsText('1.0049')", "1.00"),
    ("centsText('-0.004')", "0.00"),             # never -0.00
    ("centsText('99500.505')", "99500.51"),
    ("centsText('7')", "7.00"),
    ("unitsCents((toUnits('0.3') - toUnits('0.1')) * 3n)", "0.60"),
    ("unitsCents(-(toUnits('20.11') - toUnits('20.115')))", "0.01"),
    ("moneyText(100350000n)", "1.0035"),
    ("moneyText(100000000n)", "1.00"),
    ("moneyText(0n)", "0.00"),
]


def test_decimal_functions(page: webdriver.Chrome) -> None:
    assert {expression: run(page, expression) for expression, _ in CASES} == dict(CASES)


def test_a_string_that_is_not_a_decimal_is_refused(page: webdriver.Chrome) -> None:
    assert page.execute_script("try { toUnits('12,5'); return null; } catch (error) { return error.message; }") \
        == "not a decimal string: 12,5"

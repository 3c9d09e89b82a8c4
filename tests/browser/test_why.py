"""Why did this happen, in headless Chromium: a click on a running trade shows the signal that opened it (the rule,
the value of each term), the bar it read, the risk decision and the replay command; another user's signal id in
the form is not found."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible

from tests.integration.test_api_why import FIRED, MINUTE_NS, insert_bar
from tests.users import make_user
from tradestream.config import Settings

from .pages import console_errors, log_in

pytestmark = pytest.mark.integration


def test_a_click_on_a_trade_shows_why_it_was_opened(browser: webdriver.Chrome, dashboard_url: str,
                                                    screenshot) -> None:  # noqa: ANN001
    settings = Settings.from_env()
    unique = uuid.uuid4().hex[:10]
    account, strategy = f"paper-why-{unique}", f"breakout-{unique}"
    user = make_user(settings.database_url, f"why-{unique}", accounts=[account], strategies=[strategy],
                     password=f"why pw {unique}")
    make_user(settings.database_url, f"why-o-{unique}", strategies=[f"theirs-{unique}"])
    symbol, trade_id = f"Y{unique[:5].upper()}", f"coid-why-{unique}"
    rule = f"price({symbol}) > donchian_upper({symbol}, 15m, 20)"
    values = {f"price({symbol})": 101.5, f"donchian_upper({symbol},15m,20)": 101.25}
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        for signal_id, owner in ((f"sig-{unique}", strategy), (f"sig-theirs-{unique}", f"theirs-{unique}")):
            conn.execute("insert into signals (signal_id, strategy, symbol, side, action, ts, ts_event_ns, ts_init_ns, "
                         "price, reason, rule_values) values (%s, %s, %s, 'BUY', 'ENTRY', to_timestamp(%s / 1e9), %s, "
                         "%s, 101.5, %s, %s)", (signal_id, owner, symbol, FIRED, FIRED, FIRED, rule, json.dumps(values)))
        conn.execute("insert into order_intents (client_order_id, signal_id, strategy, mode, symbol, instrument, "
                     "contract, side, ts, ts_event_ns, ts_init_ns, exchange, order_type, tick_size, reference_price, "
                     "product, quantity, multiplier) values (%s, %s, %s, 'VIRTUAL', %s, 'EQUITY', %s, 'BUY', "
                     "to_timestamp(%s / 1e9), %s, %s, 'SMART', 'MARKET', 0.01, 101.5, 'MARGIN', 10, 1)",
                     (trade_id, f"sig-{unique}", strategy, symbol, symbol, FIRED, FIRED, FIRED))
        conn.execute("insert into trades (trade_id, version, change, account_id, strategy, ss_type, signal_type, "
                     "symbol, direction, status, ts_event_ns, ts_init_ns, entry_qty, exit_qty, entry_price, "
                     "initial_stop, stop_price, pnl, charges, net_pnl, net_pnl_pct, opened_ns) values (%s, 1, 'OPENED', "
                     "%s, %s, 'intraday', 'long', %s, 'long', 'Running', %s, %s, 10, 0, 101.5, 100, 100, 0, 1, -1, "
                     "-0.01, %s)", (trade_id, account, strategy, symbol, FIRED, FIRED, FIRED))
        insert_bar(conn, symbol, "15m", FIRED, "101.5")
        insert_bar(conn, symbol, "15m", FIRED + 15 * MINUTE_NS, "99")  # after the signal: not an input

    wait = log_in(browser, dashboard_url, user)
    browser.find_element(By.CSS_SELECTOR, "#pages a[data-page='trades']").click()
    row = (By.CSS_SELECTOR, f"#trades-rows tr[data-trade='{trade_id}']")
    wait.until(visible.visibility_of_element_located(row))
    browser.find_element(*row).find_elements(By.TAG_NAME, "td")[3].click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "why-rule"), rule))
    assert browser.find_element(By.ID, "why-signal").text == (
        f"ENTRY BUY {symbol} at 101.5 on 03/12/2026 10:45:00 ET, strategy {strategy}")
    terms = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
             for tr in browser.find_elements(By.CSS_SELECTOR, "#why-values tbody tr")]
    assert terms == [[f"price({symbol})", "101.5"], [f"donchian_upper({symbol},15m,20)", "101.25"]]
    bars = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")][:7]
            for tr in browser.find_elements(By.CSS_SELECTOR, "#why-inputs tbody tr")]
    assert bars == [[symbol, "15m", "03/12/2026 10:30:00 to 10:45:00", "101.5", "101.5", "101.5", "101.5"]]
    assert browser.find_element(By.ID, "why-command").text == (
        f"tradestream audit replay --from 2026-03-12 --to 2026-03-12 --config {strategy}.yaml "
        f"--account {account}.yaml --out replay-{trade_id[:12]}")
    screenshot("trade")

    browser.find_element(By.CSS_SELECTOR, "#why-kind option[value='signals']").click()
    field = browser.find_element(By.ID, "why-id")
    field.clear()
    field.send_keys(f"sig-theirs-{unique}")
    browser.find_element(By.ID, "why-show").click()
    wait.until(visible.text_to_be_present_in_element((By.ID, "why-error"), f"no signal sig-theirs-{unique} of yours"))
    assert browser.find_elements(By.ID, "why-rule") == []
    assert console_errors(browser) == []

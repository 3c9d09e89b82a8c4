"""The simulated feed trading live in headless Chromium. The pipeline's processes run as `tradestream run` starts
them (its own commands: the Faust worker, the sink, the strategy runner trading a paper account, the simulated
feed), on topics of the test's own, with the dashboard served by `tradestream api`. A trader granted the account and
the strategy logs in and, without the page being reloaded, sees the strategy's entry signal arrive on the overview,
its paper trade running on the trades page (its last price from the worker's bars) with its entry order, then the
exit signal close it, and the trade on the deals page, completed (as the sink stored it). The entry and exit
orders show filled (their fills folded into their rows: units, the exact average price, Success), and the overview's
accounts card takes the figures of the entry's and the exit's risk decisions as they come.

At any hour and on any day: the simulated feed plays the regular sessions of recent NYSE trading days (not the
wall clock's), and the rules strategy reads nothing of the prints but that there is a price: `price(S) > 0` enters
at the first evaluation instant with a price (09:40 ET: the instants are every 20 minutes) and exits at the next
(10:00 ET), one entry a day; its stop (3 %) and target (10 %) are beyond twenty minutes of the simulation. At
SIM_SPEED the trade runs ten wall seconds.

Live, not polled: the feed starts only once the page follows the live updates, and the page asks the API for
signals, running trades and orders only when it starts (and when the websocket connects again), so each row the
test waits for came over the websocket; the page is never reloaded (a mark set in it at the start is still there
at the end).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml
from confluent_kafka.admin import AdminClient
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as visible
from selenium.webdriver.support.ui import WebDriverWait

from tests.integration.conftest import eventually, spawn
from tests.users import make_user
from tradestream.commands.run import _commands
from tradestream.config import Settings
from tradestream.topics import delete_topics, topic_names

from .conftest import ROOT, own_topics, served_api
from .pages import console_errors, log_in

pytestmark = pytest.mark.integration

SIM_SPEED = 120          # simulated seconds a wall second: the 20 minutes of the trade in 10 s
STARTUP_S = 90           # the worker and the sink joining their groups, the runner taking its lease
PIPELINE_S = 60          # from the feed's start to a record on the page (the entry comes 5 s in)
RISK_BUDGET = Decimal(500)  # the example paper account's largest loss a trade (under 1 % of its $100,000)
CLI = [sys.executable, "-m", "tradestream.cli"]
ASKED = ("/api/signals", "/api/trades/open", "/api/orders")  # what the page asks for only when it starts
RESOURCES = "return performance.getEntriesByType('resource').map((entry) => entry.name);"
# Every row of a table body, read in one go (the pages re-render them as updates come): [[data-*, cell, ...], ...]
ROWS = """return [...document.getElementById(arguments[0]).rows].map(
    (tr) => [Object.values(tr.dataset)[0] || '', ...[...tr.cells].map((td) => td.textContent)]);"""


def strategy_file(folder: Path, name: str, symbol: str, account_id: str) -> Path:
    data = {"name": name, "strategy": "rules", "type": "intraday", "instrument": "equity", "symbols": [symbol],
            "timeframe": "5m", "interval": "20m", "days": "all", "start_time": "09:30", "end_time": "16:00",
            "direction": "long", "mode": "virtual", "max_signals_per_day": 1, "max_signals_per_symbol": 1,
            "entry_rules": [f"price({symbol}) > 0"], "exit_rules": [f"price({symbol}) > 0"],
            "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 100},
            "risk": {"account": account_id, "stop_pct": 3, "size_from_risk": True}, "trade": {"target_pct": 10}}
    path = folder / "strategy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def account_file(folder: Path, account_id: str) -> Path:
    data = yaml.safe_load((ROOT / "examples/accounts/paper.yaml").read_text())
    path = folder / "account.yaml"
    path.write_text(yaml.safe_dump(data | {"account_id": account_id}))
    return path


class Pipeline:
    """The application processes `tradestream run` starts (its commands, from `_commands`), each started when the
    test says, each log in `folder`; every one stopped at the end."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.commands = _commands(Settings.from_env())
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        argv = self.commands[name]
        assert argv[:len(CLI)] == CLI, argv
        self.processes[name] = spawn(argv[len(CLI):], os.environ | {"PYTHONUNBUFFERED": "1"},
                                     self.folder / f"{name}.log")

    def logs(self) -> str:
        return "\n".join(f"--- {name}.log (exit {process.poll()}):\n"
                         f"{(self.folder / f'{name}.log').read_text(errors='replace')[-1500:]}"
                         for name, process in self.processes.items())

    def remove_worker_state(self) -> None:
        """What the Faust worker keeps of its own, named by its app id: its topics (changelogs, the assignor's)
        and its tables' folder."""
        settings = Settings.from_env()
        app_id = self.commands["worker"][self.commands["worker"].index("--app-id") + 1]
        delete_topics(settings, [name for name in topic_names(settings) if name.startswith(f"{app_id}-")])
        shutil.rmtree(settings.worker().data_dir / app_id, ignore_errors=True)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Pipeline, dict[str, str]]]:
    """The processes of a run on topics of its own, trading a strategy of its own in a paper account of its own,
    the simulated feed playing one symbol of its own at SIM_SPEED; and those names."""
    unique = uuid.uuid4().hex[:10]
    names = {"unique": unique, "prefix": f"live{unique}.", "symbol": f"W{unique[:5].upper()}",
             "account": f"paper-{unique}", "strategy": f"live-{unique}"}
    monkeypatch.setenv("TOPIC_PREFIX", names["prefix"])
    monkeypatch.setenv("STRATEGY_CONFIG", str(strategy_file(tmp_path, names["strategy"], names["symbol"],
                                                            names["account"])))
    monkeypatch.setenv("ACCOUNT_CONFIG", str(account_file(tmp_path, names["account"])))
    monkeypatch.setenv("SIM_SYMBOLS", names["symbol"])
    monkeypatch.setenv("SIM_SPEED", str(SIM_SPEED))
    with own_topics(names["prefix"]):
        processes = Pipeline(tmp_path)
        try:
            yield processes, names
        finally:
            processes.stop()
            processes.remove_worker_state()


def rows(browser: webdriver.Chrome, body: str) -> list[list[str]]:
    return browser.execute_script(ROWS, body)


def test_a_signal_and_a_paper_trade_appear_live_from_the_simulated_feed(
        browser: webdriver.Chrome, pipeline: tuple[Pipeline, dict[str, str]], tmp_path: Path,
        screenshot) -> None:  # noqa: ANN001
    processes, names = pipeline
    strategy, account, symbol = names["strategy"], names["account"], names["symbol"]
    settings = Settings.from_env()
    user = make_user(settings.database_url, f"live-{names['unique']}", accounts=[account], strategies=[strategy],
                     password=f"live trading pw {names['unique']}")

    def until(condition: Callable[[webdriver.Chrome], object], what: str, timeout_s: float = PIPELINE_S) -> object:
        """Wait for `condition` of the page; on a timeout, fail with what the processes logged."""
        try:
            return WebDriverWait(browser, timeout_s).until(condition)
        except TimeoutException:
            pytest.fail(f"{what}: not within {timeout_s} s\n{processes.logs()}")

    def row_of(body: str, test: Callable[[list[str]], bool]) -> Callable[[webdriver.Chrome], list[str] | None]:
        return lambda driver: next((row for row in rows(driver, body) if test(row)), None)

    def in_view(element_id: str) -> None:
        browser.execute_script("document.getElementById(arguments[0]).closest('section').scrollIntoView();",
                               element_id)

    def show(page: str) -> None:
        browser.find_element(By.CSS_SELECTOR, f"#pages a[data-page='{page}']").click()
        until(visible.visibility_of_element_located((By.ID, page)), f"the {page} page shown", 10)

    with served_api(tmp_path / "api.log", {}) as url:
        for name in ("worker", "sink", "strategy"):
            processes.start(name)
        log_in(browser, url, user)
        until(visible.text_to_be_present_in_element((By.ID, "live-state"), "live"), "the live updates followed", 30)
        until(lambda driver: all(any(path in name for name in driver.execute_script(RESOURCES)) for path in ASKED),
              "the page's first answers", 30)
        # The accounts card at the log-in: the account, no risk decision yet (the feed has not started).
        at_log_in = until(row_of("accounts", lambda row: row[0] == account), "the accounts card", 30)
        assert at_log_in[2:5] == ["", "", "0.00 (0)"], at_log_in
        mark = uuid.uuid4().hex
        browser.execute_script("window.liveTradingMark = arguments[0]; performance.clearResourceTimings(); "
                               "performance.setResourceTimingBufferSize(5000);", mark)
        for component in ("worker", "sink"):   # the overview's platform card: their consumer groups have members
            until(row_of("rows", lambda row, c=component: row[1:3] == [c, "up"]), f"the {component} up", STARTUP_S)
        admin = AdminClient(settings.kafka(names["prefix"]).client_config())
        runners = processes.commands["strategy"][processes.commands["strategy"].index("--group") + 1]

        def runner_holds_its_lease() -> bool:
            [member] = admin.describe_consumer_groups([runners])[runners].result().members or [None]
            return member is not None and bool(member.assignment.topic_partitions)
        eventually(runner_holds_its_lease, timeout_s=STARTUP_S, interval_s=0.2, what="the strategy runner's lease")

        processes.start("feed")
        until(row_of("feeds", lambda row: row[1] == "simulated" and row[3] == "serving"), "the feed serving")
        entry = until(row_of("signals", lambda row: row[2] == strategy and row[4] == "ENTRY"), "the entry signal")
        signal_id, signalled_at, _, signal_symbol, _, side, signal_price, reason = entry
        assert (signal_symbol, side) == (symbol, "BUY") and signal_id.startswith("sig-")
        assert signalled_at.endswith(" 09:40:00"), signalled_at          # the first instant with a price
        assert Decimal(signal_price) > 0 and reason, entry
        # The accounts card, live: the entry's risk decision (equity and open risk).
        entry_figures = until(row_of("accounts", lambda row: row[0] == account and row[3] != ""),
                              "the accounts card with the entry's risk decision")
        assert Decimal(entry_figures[2]) == Decimal("100000.00"), entry_figures   # the paper account's capital
        assert Decimal(0) < Decimal(entry_figures[3]) <= RISK_BUDGET, entry_figures
        in_view("signals")
        screenshot("overview-entry-signal")

        show("trades")
        running = until(row_of("trades-rows", lambda row: row[3] == strategy), "the trade running")
        trade_id, opened, trade_account, _, trade_symbol, direction, quantity, entry_price, stop, target = running[:10]
        assert (trade_account, trade_symbol, direction, running[-1]) == (account, symbol, "long", "Running"), running
        assert opened.startswith(signalled_at[:-3]), (opened, signalled_at)   # filled at the print after 09:40:00
        # The stop 3 % under the signal's price, the target 10 % over the entry's, each to the cent; as many shares
        # as the account's risk budget allows at the stop.
        assert abs(Decimal(stop) - Decimal(signal_price) * Decimal("0.97")) <= Decimal("0.01"), running
        assert abs(Decimal(target) - Decimal(entry_price) * Decimal("1.10")) <= Decimal("0.01"), running
        assert int(quantity) == int(RISK_BUDGET / (Decimal(signal_price) - Decimal(stop))), running
        # Priced by a bar the worker closed after the entry: the last price and the unrealised P&L.
        priced = until(row_of("trades-rows", lambda row: row[0] == trade_id and row[10] != "" and row[11] != ""),
                       "the running trade priced by a bar")
        assert Decimal(priced[11]) == ((Decimal(priced[10]) - Decimal(entry_price)) * int(quantity)).quantize(
            Decimal("0.01"), ROUND_HALF_UP), priced   # to the cent, halves away from zero, as the page shows it
        assert priced[-1] == "Running", priced
        order = until(row_of("orders-rows", lambda row: row[0] == trade_id), "the entry order")
        assert (order[2], order[3], order[4], order[6]) == (account, symbol, "BUY", quantity), order
        # Its fills folded into its row (a fill is not an order status event): all its units at the trade's entry
        # price, exactly, and Success beside its last status event.
        order = until(row_of("orders-rows", lambda row: row[0] == trade_id and row[13] == "Success"),
                      "the entry order filled")
        assert (order[5], order[7], order[12]) == ("MARKET", quantity, "ACCEPTED"), order
        assert Decimal(order[8]) == Decimal(entry_price) and Decimal(order[9]) >= 0, order
        screenshot("trades-running")

        # Closed by the exit signal at 10:00: no longer running, its exit order beside the entry's.
        # (Read from the rows in one go: an element looked up, then re-rendered by the next bar, is stale, and
        # Selenium's invisibility condition takes a stale element for a closed trade's.)
        until(lambda driver: all(row[0] != trade_id for row in rows(driver, "trades-rows")), "the trade closed")
        assert browser.find_element(By.ID, "trades-summary").text == "0 running or waiting trade(s)"
        exit_order = until(row_of("orders-rows", lambda row: row[0].startswith(trade_id) and row[4] == "SELL"
                                  and row[13] == "Success"), "the exit order filled")
        assert (exit_order[2], exit_order[3], exit_order[6], exit_order[7]) == (account, symbol, quantity,
                                                                                quantity), exit_order
        assert Decimal(exit_order[8]) > 0, exit_order
        screenshot("trades-closed")

        show("overview")
        exit_signal = until(row_of("signals", lambda row: row[2] == strategy and row[4] == "EXIT"), "the exit signal")
        assert exit_signal[1] == signalled_at.replace("09:40:00", "10:00:00") and exit_signal[5] == "SELL", exit_signal
        assert [row[4] for row in rows(browser, "signals") if row[2] == strategy] == ["EXIT", "ENTRY"]
        # The exit's risk decision on the accounts card: the account's equity, no open risk after an exit.
        exit_figures = until(row_of("accounts", lambda row: row[0] == account and row[3] == ""),
                             "the accounts card with the exit's risk decision")
        assert Decimal(exit_figures[2]) > 0, exit_figures
        in_view("accounts")
        screenshot("overview-accounts-after-exit")
        in_view("signals")
        screenshot("overview-exit-signal")

        # The deals page: the trade as the sink stored it, completed (the day is the session the feed played).
        show("deals")
        day = dt.datetime.strptime(signalled_at[:10], "%m/%d/%Y").date().isoformat()
        for field, value in (("deals-from", day), ("deals-to", day), ("deals-strategy", strategy)):
            browser.find_element(By.ID, field).send_keys(value)

        def deal(driver: webdriver.Chrome) -> list[str] | None:
            found = row_of("deals-rows", lambda row: row[2] == strategy and row[-1] == "Completed")(driver)
            if found is None:  # not stored yet: ask again
                driver.find_element(By.ID, "deals-show").click()
            return found
        completed = until(deal, "the deal completed")
        assert completed[3:7] == [symbol, "long", quantity, quantity], completed
        assert Decimal(completed[7]) == Decimal(entry_price), completed
        assert Decimal(completed[8]) == Decimal(exit_order[8]), (completed, exit_order)  # the exit fills' average
        screenshot("deals-completed")

        # The same page all along, which asked for no signals, running trades or orders after the start.
        assert browser.execute_script("return window.liveTradingMark") == mark
        requested = browser.execute_script(RESOURCES)
        assert [name for name in requested if any(path in name for path in ASKED)] == [], requested
        assert console_errors(browser) == []

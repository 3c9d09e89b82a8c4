"""Browser tests of the dashboard: headless Chromium driven by Selenium, against the API as `tradestream api`
serves it (uvicorn in its own process, on a free local port) with the stack's real services.

The browser and its driver are Debian's `chromium` and `chromium-driver`, one source package with matching
versions, installed by `make deps` (scripts/install-system-deps.sh); SE_OFFLINE=true keeps Selenium from ever
trying to download a browser or a driver. Each test gets a fresh profile (`--user-data-dir` in its temporary
folder) and a browser with nothing of its own running in the background (no sync, updates, first-run pages or
QUIC). Screenshots are kept under test-artifacts/browser/ (ignored by git) as the tests' artefacts.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from schemas.topics import CATALOGUE
from tradestream.config import Settings
from tradestream.topics import delete_topics, ensure_topics

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGUMENTS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync",
                      "--disable-dev-shm-usage", "--window-size=1440,900")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_live(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            pytest.fail(f"`tradestream api` exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/api/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"`tradestream api` did not answer within {timeout_s} s: {log.read_text()[-2000:]}")
        try:
            process.wait(timeout=0.2)  # between tries, watch for the API exiting (reported above)
        except subprocess.TimeoutExpired:
            pass


@contextlib.contextmanager
def own_topics(prefix: str) -> Iterator[str]:
    """Every topic of the catalogue under `prefix`, deleted at the end."""
    settings = Settings.from_env()
    ensure_topics(settings, prefix=prefix)
    try:
        yield prefix
    finally:
        delete_topics(settings, [spec.full_name(prefix) for spec in CATALOGUE])


@contextlib.contextmanager
def served_api(log: Path, env: dict[str, str]) -> Iterator[str]:
    """`tradestream api` with the environment's settings amended by `env` (TOPIC_PREFIX, ...), on a free port,
    its output in `log`; its URL once it answers, stopped at the end."""
    port = free_port()
    env = os.environ | env | {"API_HOST": "127.0.0.1", "API_PORT": str(port)}
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "tradestream.cli", "api"], env=env, cwd=ROOT,
                                   stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_live(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def dashboard_topic_prefix() -> Iterator[str]:
    """Topics of the browser tests' own (what the dashboard publishes, such as a kill-switch reset, reaches no
    strategy runner of the developer's), deleted at the end."""
    with own_topics(f"browser{uuid.uuid4().hex[:8]}.") as prefix:
        yield prefix


@pytest.fixture(scope="session")
def dashboard_url(tmp_path_factory: pytest.TempPathFactory, dashboard_topic_prefix: str) -> Iterator[str]:
    """The API and dashboard served by `tradestream api` with the environment's settings (on the session's own
    topics), on a free port."""
    log = tmp_path_factory.mktemp("browser-api") / "api.log"
    with served_api(log, {"TOPIC_PREFIX": dashboard_topic_prefix}) as url:
        yield url


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    """Where the browser saves what it downloads."""
    folder = tmp_path / "downloads"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def browser(tmp_path: Path, downloads: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[webdriver.Chrome]:
    """Headless Chromium with a fresh profile, driven through Debian's chromedriver; downloads go to `downloads`."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: `make deps` installs Debian's chromium and chromium-driver")
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console, for `console_errors`
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER),
                                                              log_output=str(tmp_path / "chromedriver.log")))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, browser: webdriver.Chrome):  # noqa: ANN201 - a function
    """save(name): the browser's window as test-artifacts/browser/<test>-<name>.png; returns the path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        assert browser.save_screenshot(str(path)), f"no screenshot written to {path}"
        return path

    return save

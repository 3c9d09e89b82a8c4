"""Integration fixtures: the real services `tradestream stack up` started (make test does it first).

A missing service fails the test run with what to do; it is never skipped."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.users import ApiUser, make_user
from tradestream import stack
from tradestream.config import Settings
from tradestream.topics import delete_topics, topic_names


def eventually(condition: Callable[[], object], timeout_s: float = 30.0, interval_s: float = 0.1,
               what: str = "condition") -> object:
    """Poll `condition` until it returns a truthy value (returned); fail after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not met within {timeout_s} s")
        time.sleep(interval_s)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    """Start `tradestream ARGS` in its own process group (so a test can SIGKILL it and its children)."""
    return subprocess.Popen([sys.executable, "-m", "tradestream.cli", *args], env=env, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="session")
def settings() -> Iterator[Settings]:
    """The stack's settings. Topics the session creates (every test uses fresh ones) are deleted at its
    end: on a developer's long-lived stack they would pile up past the broker's open-file limit."""
    s = Settings.from_env()
    report = stack.status(s)
    down = [name for name, entry in report.items() if not entry.get("ready")]
    if down:
        pytest.fail(f"stack services not ready: {down}; run `tradestream stack up` (make test does)")
    before = topic_names(s)
    yield s
    # Only topics this session named with its own tokens: another session on the same stack (a developer's
    # second terminal) keeps its topics. Kafka's internal topics and the registry's store always stay.
    delete_topics(s, [name for name in topic_names(s) - before
                      if any(token in name for token in SESSION_TOKENS) and not name.startswith("_")])


SESSION_TOKENS: set[str] = set()


@pytest.fixture
def unique() -> str:
    """A short unique token for names of topics, subjects, buckets, keys used by one test (the session
    deletes the topics named with its tokens at its end)."""
    token = uuid.uuid4().hex[:10]
    SESSION_TOKENS.add(token)
    return token


@pytest.fixture
def api_user(settings: Settings, unique: str) -> ApiUser:
    """A trader of the API with an API token (`.headers`), owning nothing yet."""
    return make_user(settings.database_url, f"trader-{unique}")

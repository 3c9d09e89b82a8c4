"""API unit-test fixtures: settings whose every service is at a port where nothing listens, a stub feed watcher
and a stub authenticator (one API token, one trader), so the tests need no stack and show how the API behaves
with its dependencies down."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.users import Role, User
from api.settings import ApiSettings
from connectors.kafka.settings import KafkaSettings
from connectors.s3archive.bucket import ArchiveSettings

PASSWORD = "not-a-real-secret"


def closed_port() -> int:
    """A local port nothing listens on (bound by the OS for a moment, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class StubFeedWatcher:
    """Stands in for the Kafka-backed watcher: reports `status` and records start/stop."""

    def __init__(self, status: dict[str, object] | None = None) -> None:
        self.status = status
        self.started = self.stopped = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    def last(self) -> dict[str, object] | None:
        return self.status


TOKEN = "tsk_the-offline-trader's-token"
TRADER = User(1, "offline-trader", Role.TRADER)


class StubAuthenticator:
    """Stands in for the database's look-up of callers: knows one API token (TOKEN, of TRADER) and no session."""

    async def by_token(self, token: str) -> User | None:
        return TRADER if token == TOKEN else None

    async def by_session(self, session: str) -> tuple[User, str] | None:
        return None


@pytest.fixture
def offline_settings() -> ApiSettings:
    database_port = closed_port()
    return ApiSettings(
        kafka=KafkaSettings(bootstrap=f"127.0.0.1:{closed_port()}", registry_url=f"http://127.0.0.1:{closed_port()}"),
        archive=ArchiveSettings(endpoint_url=f"http://127.0.0.1:{closed_port()}", bucket="offline-archive"),
        database_url=f"postgresql://tradestream:{PASSWORD}@127.0.0.1:{database_port}/tradestream",
        database_url_redacted=f"postgresql://tradestream:***@127.0.0.1:{database_port}/tradestream",
        database_wait_s=0.3,
    )


@pytest.fixture
def offline_client(offline_settings: ApiSettings) -> Iterator[TestClient]:
    """The API started with every dependency down, called by TRADER with their API token."""
    app = create_app(offline_settings, feed_watcher=StubFeedWatcher(), authenticator=StubAuthenticator())
    with TestClient(app=app) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield client


# Scanner settings the tests send ----------------------------------------------------------------------

def equity_scanner(**changes: object) -> dict[str, object]:
    """A valid equity scanner with only the required settings, `changes` applied at the top level."""
    return {"name": "SPY breakout", "type": "intraday", "instrument": "equity", "days": "all", "interval": "5m",
            "max_signals_per_day": 5, "max_signals_per_symbol": 2, "direction": "long", "mode": "virtual",
            "symbols": ["SPY", "QQQ"], "timeframe": "15m", "entry_rules": ["price(SPY) > swing_high(SPY, 15m)"],
            "order": {"exchange": "SMART", "order_type": "market", "product": "margin", "quantity": 10}} | changes


def option_scanner(**option: object) -> dict[str, object]:
    return equity_scanner(instrument="option", expiry="weekly",
                          option={"right": "call", "category": "ATM"} | option)


def futures_scanner(**futures: object) -> dict[str, object]:
    return equity_scanner(instrument="futures", expiry="monthly", symbols=["ESZ6"],
                          entry_rules=["price(ESZ6) > donchian_upper(ESZ6, 5m, 20)"],
                          futures={"root": "ES", "roll": "volume", "roll_days": 3} | futures)


def largest_scanner() -> dict[str, object]:
    """The costliest valid settings to validate: 20 entry and 20 exit rules of about 1,000 characters each
    (the limits), compiled alone and the entry rules together."""
    term = "(crosses_above(price(SPY), donchian_upper(SPY, 5m, 20)) and atr(QQQ, 5m) > 2.5)"
    rule = " or ".join([term] * (1000 // (len(term) + 4)))
    assert 900 < len(rule) <= 1000
    return equity_scanner(entry_rules=[rule] * 20, exit_rules=[rule] * 20)

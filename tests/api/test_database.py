"""A database that is down does not stop the API: it starts, and requests that need PostgreSQL answer 503.
A pooled connection is checked before a request gets it only when it has rested in the pool."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.database import RestChecks

from .conftest import PASSWORD


@pytest.mark.parametrize("path", ["/api/scanners", "/api/scanners/momentum", "/api/signals",
                                  "/api/correlation?symbols=SPY,QQQ", "/api/metrics/latency"])
def test_requests_that_need_the_database_answer_503_while_it_is_down(offline_client: TestClient,
                                                                     path: str) -> None:
    response = offline_client.get(path)
    assert response.status_code == 503
    detail = response.json()["detail"]
    assert "PostgreSQL" in detail and "within 0.3 s" in detail and "retry" in detail
    assert "***" in detail and PASSWORD not in response.text
    assert response.headers["retry-after"] == "1"


def test_requests_that_do_not_need_the_database_are_served(offline_client: TestClient) -> None:
    assert offline_client.get("/api/health/live").status_code == 200
    assert offline_client.get("/").status_code == 200
    # Validation needs no connection: a bad scanner is refused with its field errors.
    response = offline_client.post("/api/scanners/validate", json={"name": "x", "interval": "7x"})
    assert response.status_code == 400 and "interval" in {e["field"] for e in response.json()["errors"]}


class StubConnection:
    """What the pool's check needs of a connection: an empty query answered in autocommit."""

    closed = False
    autocommit = True

    def __init__(self) -> None:
        self.executed: list[str] = []

    async def execute(self, query: str) -> None:
        self.executed.append(query)


async def test_a_connection_is_checked_only_after_resting_in_the_pool() -> None:
    rest = RestChecks(recently_s=60.0)
    conn = StubConnection()
    await rest.check(conn)  # type: ignore[arg-type]  # never used: checked
    assert conn.executed == [""] and rest.checks == 1
    await rest.check(conn)  # type: ignore[arg-type]  # handed out again just after
    assert conn.executed == [""] and rest.checks == 1
    rest.recently_s = 0.0  # rested long enough
    await rest.check(conn)  # type: ignore[arg-type]
    assert conn.executed == ["", ""] and rest.checks == 2
    conn.closed = True  # closed since: checked (and refused by the pool) however recent
    rest.recently_s = 60.0
    await rest.check(conn)  # type: ignore[arg-type]
    assert rest.checks == 3

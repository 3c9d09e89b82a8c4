"""Property test over the OpenAPI document: for every operation the API publishes, requests generated from
its schema (schemathesis, on hypothesis; valid and invalid parameters and bodies, NUL characters, huge
numbers and long strings among them) never get a 5xx while PostgreSQL is up.

The one 5xx allowed is the health endpoints' 503, which is their answer when a component is down (no
stream worker runs during the tests). The API runs in-process (schemathesis's ASGI client), against the
stack's real PostgreSQL, Kafka and registry, called by a trader with an API token (so the routes of a user's data
are fuzzed past their authentication; the log-in is fuzzed too)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from tests.users import ApiUser
from tradestream.commands.api import api_settings
from tradestream.config import Settings

pytestmark = pytest.mark.integration
HEALTH = {"/api/health", "/api/health/ready"}

# Built at import, which starts nothing: schemathesis's ASGI client runs the app's lifespan (database pool,
# feed watcher, validation workers) at the first generated request and stops it when the process exits.
# (Its fixture-based lazy loading reads a pytest attribute that pytest 9 no longer has.)
APP = create_app(api_settings(Settings.from_env()))
schema = schemathesis.openapi.from_dict(APP.openapi_schema.to_schema())
schema.app = APP


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_generated_request_gets_a_5xx(case: schemathesis.Case, settings: Settings, api_user: ApiUser) -> None:
    response = case.call(timeout=30, headers=api_user.headers)
    if case.operation.path in HEALTH and response.status_code == 503:
        assert response.json()["status"] in ("down", "lagging")  # a component is down: the health answer
        return
    assert response.status_code < 500, (f"{case.method} {case.formatted_path} {case.query or ''} -> "
                                        f"{response.status_code}: {response.text[:500]}")

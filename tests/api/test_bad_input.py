"""Every bad input is a 4xx that names what to change, never a 500: NUL characters, deep JSON, long path
segments, numbers past what an Avro long (or a business limit) holds, oversized bodies and rule lists.
A true bug is a 500 carrying only a request id, with the traceback in the log under that id.

The database is down in these tests (see conftest): validation needs none, and the bad input must be
refused before anything would reach it."""

from __future__ import annotations

import json
import logging

import pytest
from litestar import get
from litestar.testing import TestClient

from api.app import create_app
from api.settings import ApiSettings
from processors.scanner.config.choices import (MAX_DAYS_TO_EXPIRY, MAX_DEVIATION_PCT, MAX_MULTIPLIER, MAX_OFFSET_TICKS,
                                               MAX_QUANTITY, MAX_RULE_LENGTH, MAX_RULES, MAX_SIGNALS_PER_DAY,
                                               MAX_STALENESS_SECONDS, MAX_STRIKES)

from .conftest import TOKEN, StubAuthenticator, StubFeedWatcher, equity_scanner, futures_scanner, option_scanner

HUGE = 10**4000  # what the operator stored as order.quantity


def fields(response) -> dict[str, str]:  # noqa: ANN001 - an httpx response
    assert response.status_code == 400, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def validate(client: TestClient, body: object):  # noqa: ANN201
    return client.post("/api/scanners/validate", json=body)


def test_the_example_scanners_are_valid(offline_client: TestClient) -> None:
    for body in (equity_scanner(), option_scanner(), futures_scanner()):
        response = validate(offline_client, body)
        assert response.status_code == 200 and response.json()["valid"] is True, response.text


@pytest.mark.parametrize(("method", "path", "parameter"), [
    ("GET", "/api/scanners/a%00b", "name"),
    ("DELETE", "/api/scanners/a%00b", "name"),
    ("PUT", "/api/scanners/a%00b", "name"),
    ("GET", "/api/signals?strategy=momentum%00", "strategy"),
    ("GET", "/api/correlation?symbols=SPY%00,QQQ", "symbols"),
    ("GET", "/api/correlation?symbols=SPY,QQQ&timeframe=5m%00", "timeframe"),
    ("GET", "/api/signals?some%00thing=1", "some%00thing"),
])
def test_a_nul_in_a_path_or_query_parameter_is_a_400_naming_it(offline_client: TestClient, method: str, path: str,
                                                               parameter: str) -> None:
    response = offline_client.request(method, path, json=equity_scanner() if method == "PUT" else None)
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert repr(parameter) in detail and "NUL" in detail


def test_a_nul_in_a_body_string_or_key_is_a_400_naming_the_field(offline_client: TestClient) -> None:
    body = equity_scanner(name="SPY\x00breakout", exit_rules=["price(SPY) > 1", "price(QQQ)\x00 > 2"])
    body["order"] = body["order"] | {"exchange": "SMART\x00"}  # type: ignore[operator]
    body["colour\x00"] = "red"
    errors = fields(validate(offline_client, body))
    assert set(errors) == {"name", "exit_rules[1]", "order.exchange", "colour\\u0000"}
    assert all("NUL" in message for message in errors.values())
    # Creating it is refused the same way, before the database (down here) would be asked.
    assert offline_client.post("/api/scanners", json=body).status_code == 400


@pytest.mark.parametrize("body", ["[" * 10_000 + "]" * 10_000, '{"a":' * 10_000 + "1" + "}" * 10_000,
                                  '{"name": ' + "[" * 5_000 + "]" * 5_000 + "}"])
def test_json_nested_deeper_than_the_stack_is_a_400(offline_client: TestClient, body: str) -> None:
    for path in ("/api/scanners/validate", "/api/scanners"):
        response = offline_client.post(path, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert "nests arrays and objects too deeply" in response.json()["detail"]


def test_json_nested_deeper_than_any_setting_is_a_400_naming_where(offline_client: TestClient) -> None:
    body = equity_scanner(symbols=[[[[[[[[[[[[[[[[[["SPY"]]]]]]]]]]]]]]]]]])
    errors = fields(validate(offline_client, body))
    (field,) = errors
    assert field.startswith("symbols[0]") and "more than 16 levels" in errors[field]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
@pytest.mark.parametrize("length", [256, 300, 10_000])
def test_a_long_path_segment_is_a_400(offline_client: TestClient, method: str, length: int) -> None:
    name = "x" * length
    response = offline_client.request(method, f"/api/scanners/{name}",
                                      json=equity_scanner(name=name) if method == "PUT" else None)
    assert response.status_code == 400, response.text
    assert f"'name' is {length:,} characters long; no name is longer than 255" in response.json()["detail"]


def test_a_long_query_value_is_a_400(offline_client: TestClient) -> None:
    for path, parameter in (("/api/signals", "strategy"), ("/api/correlation", "symbols"), ("/api/signals", "x")):
        response = offline_client.get(path, params={parameter: "A," * 600})
        assert response.status_code == 400, response.text
        assert f"{parameter!r} is 1,200 characters long" in response.json()["detail"]


# Each whole number of a scanner, where it is written, a scanner in which to write it, and its maximum.
NUMBERS = [
    ("max_signals_per_day", equity_scanner, MAX_SIGNALS_PER_DAY),
    ("max_signals_per_symbol", equity_scanner, MAX_SIGNALS_PER_DAY),
    ("order.quantity", equity_scanner, MAX_QUANTITY),
    ("order.limit_offset_ticks", lambda: equity_scanner(order={**equity_scanner()["order"], "order_type": "limit"}),
     MAX_OFFSET_TICKS),
    ("order.stop_offset_ticks", lambda: equity_scanner(order={**equity_scanner()["order"], "order_type": "stop"}),
     MAX_OFFSET_TICKS),
    ("order.multiplier", futures_scanner, MAX_MULTIPLIER),
    ("sanity.max_staleness_seconds", equity_scanner, MAX_STALENESS_SECONDS),
    ("sanity.max_deviation_pct", equity_scanner, MAX_DEVIATION_PCT),
    ("option.min_days_to_expiry", option_scanner, MAX_DAYS_TO_EXPIRY),
    ("option.category_split.deep_strikes", option_scanner, MAX_STRIKES),
    ("futures.roll_days", futures_scanner, 30),
]


def written(body: dict[str, object], path: str, value: object) -> dict[str, object]:
    *sections, name = path.split(".")
    target = body
    for section in sections:
        target = target.setdefault(section, {})  # type: ignore[assignment]
    target[name] = value
    return body


@pytest.mark.parametrize(("path", "scanner", "maximum"), NUMBERS, ids=[n[0] for n in NUMBERS])
def test_a_number_past_its_maximum_is_a_400_naming_the_field(offline_client: TestClient, path: str, scanner,  # noqa: ANN001
                                                             maximum: int) -> None:
    at_most = fields(validate(offline_client, written(scanner(), path, maximum + 1)))
    assert path in at_most and f"at most {maximum:,}" in at_most[path], at_most
    huge = fields(validate(offline_client, written(scanner(), path, HUGE)))
    assert path in huge and "4,001" in huge[path], huge  # its size: 4,001 digits are not written out


def test_a_number_at_its_maximum_is_accepted(offline_client: TestClient) -> None:
    body = equity_scanner(max_signals_per_day=MAX_SIGNALS_PER_DAY, max_signals_per_symbol=MAX_SIGNALS_PER_DAY,
                          sanity={"max_staleness_seconds": MAX_STALENESS_SECONDS, "max_deviation_pct": MAX_DEVIATION_PCT})
    body["order"] = {**body["order"], "quantity": MAX_QUANTITY, "order_type": "stop_limit",  # type: ignore[dict-item]
                     "limit_offset_ticks": MAX_OFFSET_TICKS, "stop_offset_ticks": MAX_OFFSET_TICKS}
    response = validate(offline_client, body)
    assert response.status_code == 200, response.text
    assert response.json()["config"]["order"]["quantity"] == MAX_QUANTITY


def test_a_number_too_long_to_decode_is_a_400(offline_client: TestClient) -> None:
    text = json.dumps(equity_scanner()).replace('"quantity": 10', '"quantity": 1' + "0" * 5000)
    response = offline_client.post("/api/scanners/validate", content=text, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text


def test_a_body_over_the_limit_is_a_413_naming_it(offline_settings: ApiSettings) -> None:
    app = create_app(offline_settings, feed_watcher=StubFeedWatcher(), authenticator=StubAuthenticator())
    with TestClient(app=app) as client:
        client.headers["Authorization"] = f"Bearer {TOKEN}"
        response = validate(client, equity_scanner(exit_rules=["price(SPY) > 1" * 20_000]))
    assert response.status_code == 413
    assert f"{offline_settings.max_body_bytes:,} bytes (API_MAX_BODY_BYTES)" in response.json()["detail"]


def test_too_many_rules_or_too_long_a_rule_is_a_400_naming_the_limit(offline_client: TestClient) -> None:
    many = fields(validate(offline_client, equity_scanner(entry_rules=["price(SPY) > 1"] * 10_000)))
    assert many == {"entry_rules": f"must list at most {MAX_RULES} rules, got 10,000; combine conditions with "
                                   "'and' / 'or' or split the scanner"}
    long_rule = " and ".join(["price(SPY) > 1"] * 100)
    errors = fields(validate(offline_client, equity_scanner(exit_rules=["price(SPY) > 1", long_rule])))
    assert errors == {"exit_rules[1]": f"must be at most {MAX_RULE_LENGTH:,} characters, got {len(long_rule):,}"}


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_an_unexpected_error_is_a_500_with_only_a_request_id(offline_settings: ApiSettings) -> None:
    @get("/api/broken", sync_to_thread=False)
    def broken() -> None:
        """A handler with a bug."""
        raise ZeroDivisionError("secret internals: the pool at 10.0.0.7")

    app = create_app(offline_settings, feed_watcher=StubFeedWatcher(), authenticator=StubAuthenticator())
    app.register(broken)
    logged = Records()
    logger = logging.getLogger("api.errors")
    with TestClient(app=app) as client:
        logger.addHandler(logged)  # after start-up: Litestar's logging set-up replaces the root's handlers
        try:
            response = client.get("/api/broken", headers={"Authorization": f"Bearer {TOKEN}"})
        finally:
            logger.removeHandler(logged)
    assert response.status_code == 500
    body = response.json()
    request_id = body["request_id"]
    assert response.headers["x-request-id"] == request_id and request_id in body["detail"]
    assert "secret" not in response.text and "ZeroDivisionError" not in response.text
    (record,) = logged.records  # the traceback, under the request id
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError and request_id in record.args

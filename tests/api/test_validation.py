"""Scanner validation off the event loop: the checks of the decoded body, the outcome a worker returns, and
the pool's limits (a validation that runs too long is ended and its worker replaced; a request that finds
every worker busy is refused in time)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from api.validation import (MAX_ERRORS, Invalid, ScannerValidator, Valid, ValidationBusy, ValidationTimedOut,
                            body_problems, check_scanner)

from .conftest import equity_scanner, largest_scanner


def encoded(body: object) -> bytes:
    return json.dumps(body).encode()


def test_body_problems_name_each_nul_and_each_too_deep_value() -> None:
    data = {"name": "a\x00", "order": {"exchange": ["ok", "b\x00"]}, "deep": [[[["x"]]]], "k\x00": 1}
    assert body_problems(data, max_depth=3) == [
        {"field": "deep[0][0]", "message": "nests arrays and objects more than 3 levels deep; no setting is nested "
                                           "like that"},
        {"field": "k\\u0000", "message": "setting names must not contain the NUL character (\\u0000)"},
        {"field": "name", "message": "must not contain the NUL character (\\u0000)"},
        {"field": "order.exchange[1]", "message": "must not contain the NUL character (\\u0000)"},
    ]
    assert body_problems(equity_scanner()) == []


def test_a_body_nested_beyond_the_stack_is_walked_without_recursion() -> None:
    data: list[object] = []
    for _ in range(100_000):
        data = [data]
    (problem,) = body_problems(data)
    assert problem["field"] == "[0]" * 16


def test_check_scanner_returns_the_normalised_settings_or_every_error() -> None:
    valid = check_scanner(encoded(equity_scanner()))
    assert isinstance(valid, Valid) and valid.name == "SPY breakout" and valid.config["start_time"] == "09:30"
    invalid = check_scanner(encoded(equity_scanner(interval="7x", colour="red")))
    assert isinstance(invalid, Invalid) and {e["field"] for e in invalid.errors} == {"interval", "colour"}
    assert check_scanner(b"[1, 2]") == Invalid([{"field": "", "message": "the body must be a JSON object of settings"}])
    assert isinstance(check_scanner(b"{"), Invalid)
    assert isinstance(check_scanner(b"[" * 100_000), Invalid)  # RecursionError inside the decoder: an error


def test_at_most_max_errors_are_returned() -> None:
    outcome = check_scanner(encoded(equity_scanner(**{f"unknown_{i}": i for i in range(500)})))
    assert isinstance(outcome, Invalid) and len(outcome.errors) == MAX_ERRORS + 1
    assert outcome.errors[-1] == {"field": "", "message": f"and {500 - MAX_ERRORS} more problems"}


async def until_taken(validator: ScannerValidator, timeout_s: float = 10.0) -> None:
    """Yield to the loop until a request has taken the idle worker (it is then validating)."""
    deadline = time.monotonic() + timeout_s
    while validator._idle is not None and validator._idle.qsize():
        assert time.monotonic() < deadline, "no request took the idle worker"
        await asyncio.sleep(0)


@pytest.fixture
async def validator() -> ScannerValidator:
    pool = ScannerValidator(workers=1, timeout_s=60)
    pool.start()
    # The first worker is forked by a fork server that may still be importing the scanner: wait for it.
    assert isinstance(await pool.validate(encoded(equity_scanner())), Valid)
    yield pool
    pool.stop()


async def test_a_validation_that_runs_too_long_is_ended_and_its_worker_replaced(validator: ScannerValidator) -> None:
    (first_pid,) = validator.pids
    validator.timeout_s = 0.02  # the largest settings take about half a second
    with pytest.raises(ValidationTimedOut, match=r"within 0.02 s \(API_VALIDATION_TIMEOUT_S\)"):
        await validator.validate(encoded(largest_scanner()))
    validator.timeout_s = 60
    assert isinstance(await validator.validate(encoded(equity_scanner())), Valid)  # by the new worker
    (pid,) = validator.pids
    assert pid != first_pid


async def test_a_request_that_finds_every_worker_busy_is_refused_in_time(validator: ScannerValidator) -> None:
    slow = asyncio.ensure_future(validator.validate(encoded(largest_scanner())))
    await until_taken(validator)
    validator.timeout_s = 0.05
    started = time.monotonic()
    with pytest.raises(ValidationBusy, match="busy for 0.05 s"):
        await validator.validate(encoded(equity_scanner()))
    assert time.monotonic() - started < 1.0
    validator.timeout_s = 60
    assert isinstance(await slow, Valid)


async def test_a_worker_comes_back_to_the_pool_when_its_request_is_cancelled(validator: ScannerValidator) -> None:
    slow = asyncio.ensure_future(validator.validate(encoded(largest_scanner())))
    await until_taken(validator)
    slow.cancel()
    # The worker finishes the abandoned validation, then serves the next request.
    assert isinstance(await validator.validate(encoded(equity_scanner())), Valid)

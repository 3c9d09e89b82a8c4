"""A state changelog record that is not delivered stops the worker at once (no later commit covers it)."""

from __future__ import annotations

import asyncio

import pytest

from streams import app as stage_app


class Exited(Exception):
    pass


@pytest.mark.parametrize("outcome", ["delivered", "failed", "cancelled"])
def test_fail_stop_on_loss(outcome: str, monkeypatch: pytest.MonkeyPatch) -> None:
    codes: list[int] = []

    def exit_now(code: int) -> None:
        codes.append(code)
        raise Exited

    monkeypatch.setattr(stage_app.os, "_exit", exit_now)

    async def deliver() -> None:
        loop = asyncio.get_running_loop()
        futures = [loop.create_future(), loop.create_future()]
        stage_app.fail_stop_on_loss(futures)
        futures[0].set_result("metadata")
        if outcome == "delivered":
            futures[1].set_result("metadata")
        elif outcome == "failed":
            futures[1].set_exception(ConnectionError("broker gone"))
        else:
            futures[1].cancel()
        # The futures' done callbacks run in the order they were added: the check before gather's own.
        await asyncio.gather(*futures, return_exceptions=True)

    loop = asyncio.new_event_loop()
    errors: list[BaseException] = []
    loop.set_exception_handler(lambda _, context: errors.append(context.get("exception")))
    try:
        loop.run_until_complete(deliver())
    finally:
        loop.close()
    assert codes == ([] if outcome == "delivered" else [70])
    assert all(isinstance(e, Exited) for e in errors)

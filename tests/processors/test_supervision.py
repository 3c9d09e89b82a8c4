"""Restart decisions on a fake clock: back-off computed by hand, the reset after a stable run, give-up,
an operator's restart, shutdown, and how exits and log tails are described."""

from __future__ import annotations

import pytest

from processors.supervision import (
    GAVE_UP, GIVE_UP, KILL, NONE, RESTART, RUNNING, START, STOPPED, STOPPING, TERMINATE, WAITING, Action,
    ExitStatus, RestartPolicy, Supervision, last_error,
)

S = 1_000_000_000
KILLED = ExitStatus(-9)


def policy(**overrides: int) -> RestartPolicy:
    values = dict(initial_backoff_ns=1 * S, max_backoff_ns=60 * S, stable_after_ns=60 * S, max_failures=0,
                  stop_timeout_ns=30 * S)
    values.update(overrides)
    return RestartPolicy(**values)


def started_at_zero(*names: str, **overrides: int) -> Supervision:
    control = Supervision(names or ("worker",), policy(**overrides), now_ns=0)
    assert control.due(0) == [Action(name, START) for name in (names or ("worker",))]
    for pid, name in enumerate(names or ("worker",), start=100):
        control.started(name, pid, 0)
    return control


def test_every_process_waits_for_its_first_start_and_nothing_is_due_while_it_runs() -> None:
    control = Supervision(("worker", "api"), policy(), now_ns=5 * S)
    assert {s.state for s in control.snapshot().values()} == {WAITING}
    assert control.due(5 * S) == [Action("worker", START), Action("api", START)]
    control.started("worker", 11, 5 * S)
    control.started("api", 12, 5 * S)
    assert control.due(500 * S) == []
    assert control.snapshot()["api"].pid == 12 and control.snapshot()["api"].state == RUNNING


def test_backoff_doubles_from_one_second_up_to_sixty() -> None:
    # 1 * 2**k seconds: 1, 2, 4, 8, 16, 32, then 64 is capped at 60, and stays there.
    assert [policy().backoff_ns(n) // S for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert policy().backoff_ns(10_000) == 60 * S     # no overflow, no huge integers
    assert policy(initial_backoff_ns=S // 2, max_backoff_ns=5 * S).backoff_ns(4) == 4 * S
    assert policy(initial_backoff_ns=S // 2, max_backoff_ns=5 * S).backoff_ns(5) == 5 * S


def test_a_crash_loop_is_restarted_after_growing_delays_at_the_hand_computed_times() -> None:
    """Each run lasts 2 s (less than the 60 s of a stable run): delays 1, 2, 4, 8 s."""
    control = started_at_zero()
    now, starts = 0, []
    for expected_delay in (1, 2, 4, 8):
        now += 2 * S
        decision = control.exited("worker", ExitStatus(1), now)
        assert (decision.action, decision.delay_ns, decision.uptime_ns) == (RESTART, expected_delay * S, 2 * S)
        assert control.due(now + expected_delay * S - 1) == []           # 1 ns early: not yet
        now += expected_delay * S
        assert control.due(now) == [Action("worker", START)]
        control.started("worker", 200 + len(starts), now)
        starts.append(now // S)
    # started at 0; exits at 2, 5, 9, 15 s; starts after 1, 2, 4, 8 s: 3, 7, 13, 23 s.
    assert starts == [3, 7, 13, 23]
    status = control.snapshot()["worker"]
    assert (status.restarts, status.failures, status.last_exit, status.state) == (4, 4, ExitStatus(1), RUNNING)


def test_a_run_that_stayed_up_long_enough_resets_the_backoff() -> None:
    control = started_at_zero()
    assert control.exited("worker", KILLED, 1 * S).delay_ns == 1 * S
    control.due(2 * S)
    control.started("worker", 101, 2 * S)
    assert control.exited("worker", KILLED, 3 * S).delay_ns == 2 * S     # second failure in a row
    control.due(5 * S)
    control.started("worker", 102, 5 * S)
    # Up from 5 s; at 65 s it has been up 60 s: its failures are forgotten, visibly in the status.
    control.due(64 * S)
    assert control.snapshot()["worker"].failures == 2
    revision = control.revision
    control.due(65 * S)
    assert control.snapshot()["worker"].failures == 0 and control.revision > revision
    decision = control.exited("worker", KILLED, 100 * S)
    assert (decision.delay_ns, decision.failures, decision.uptime_ns) == (1 * S, 1, 95 * S)


def test_a_stable_run_resets_the_backoff_even_without_a_poll_in_between() -> None:
    control = started_at_zero()
    control.exited("worker", KILLED, 1 * S)
    control.due(2 * S)
    control.started("worker", 101, 2 * S)
    assert control.exited("worker", KILLED, 62 * S).delay_ns == 1 * S     # up exactly 60 s


def test_gives_up_after_max_failures_in_a_row_until_an_operator_restarts_it() -> None:
    control = started_at_zero(max_failures=3)
    assert control.exited("worker", ExitStatus(2), 1 * S).action == RESTART       # failure 1: 1 s
    control.due(2 * S)
    control.started("worker", 101, 2 * S)
    assert control.exited("worker", ExitStatus(2), 3 * S).action == RESTART       # failure 2: 2 s
    control.due(5 * S)
    control.started("worker", 102, 5 * S)
    decision = control.exited("worker", ExitStatus(2), 6 * S)                      # failure 3: give up
    assert (decision.action, decision.failures) == (GIVE_UP, 3)
    assert control.snapshot()["worker"].state == GAVE_UP
    assert control.due(10_000 * S) == []
    assert control.request_restart("worker", 10_000 * S) is None
    assert control.due(10_000 * S) == [Action("worker", START)]
    control.started("worker", 103, 10_000 * S)
    assert control.exited("worker", ExitStatus(2), 10_001 * S).delay_ns == 1 * S    # counting starts again


def test_other_processes_are_decided_on_their_own() -> None:
    control = started_at_zero("worker", "sink", "api")
    control.exited("sink", KILLED, 10 * S)
    assert control.due(10 * S) == []
    assert control.due(11 * S) == [Action("sink", START)]
    states = {name: s.state for name, s in control.snapshot().items()}
    assert states == {"worker": RUNNING, "sink": WAITING, "api": RUNNING}
    assert control.pid("worker") == 100 and control.pid("api") == 102 and control.pid("sink") is None


def test_an_operator_restart_terminates_then_starts_at_once_without_counting_a_failure() -> None:
    control = started_at_zero(stop_timeout_ns=30 * S)
    control.exited("worker", KILLED, 1 * S)
    control.due(2 * S)
    control.started("worker", 101, 2 * S)
    assert control.request_restart("worker", 10 * S) == Action("worker", TERMINATE)
    assert control.snapshot()["worker"].state == STOPPING
    decision = control.exited("worker", ExitStatus(0), 12 * S)
    assert (decision.action, decision.delay_ns, decision.failures) == (RESTART, 0, 0)
    assert control.due(12 * S) == [Action("worker", START)]
    control.started("worker", 102, 12 * S)
    assert control.exited("worker", KILLED, 13 * S).delay_ns == 1 * S   # failures were cleared


def test_a_process_that_ignores_the_stop_request_is_killed_after_the_timeout_once() -> None:
    control = started_at_zero(stop_timeout_ns=30 * S)
    control.request_restart("worker", 10 * S)
    assert control.due(39 * S) == []
    assert control.due(40 * S) == [Action("worker", KILL)]
    assert control.due(41 * S) == []


def test_an_operator_restart_of_a_waiting_process_skips_the_backoff() -> None:
    control = started_at_zero()
    for exit_s, start_s in ((1, 2), (3, 5), (6, 10)):    # three quick failures: waits of 1, 2 and 4 s
        control.exited("worker", KILLED, exit_s * S)
        assert control.due(start_s * S) == [Action("worker", START)]
        control.started("worker", 100 + start_s, start_s * S)
    control.exited("worker", KILLED, 20 * S)               # the fourth: 8 s
    assert control.snapshot()["worker"].next_start_ns == 28 * S
    control.request_restart("worker", 21 * S)
    assert control.due(21 * S) == [Action("worker", START)]


def test_after_shutdown_nothing_starts_and_exits_are_recorded_as_expected() -> None:
    control = started_at_zero("worker", "api")
    control.exited("api", KILLED, 5 * S)
    control.shutdown(5 * S)
    assert control.due(10_000 * S) == []
    decision = control.exited("worker", ExitStatus(0), 6 * S)
    assert decision.action == NONE and decision.describe() == "not restarted (shutting down)"
    assert {s.state for s in control.snapshot().values()} == {STOPPED}
    assert control.snapshot()["worker"].last_exit == ExitStatus(0)
    assert control.request_restart("worker", 7 * S) is None


def test_a_failed_start_backs_off_like_a_crash() -> None:
    control = Supervision(("worker",), policy(), now_ns=0)
    control.due(0)
    decision = control.exited("worker", ExitStatus(None, "[Errno 11] Resource temporarily unavailable"), 0)
    assert (decision.action, decision.delay_ns, decision.uptime_ns) == (RESTART, 1 * S, 0)
    assert decision.exit.describe() == "could not start: [Errno 11] Resource temporarily unavailable"


def test_a_start_is_accepted_only_while_waiting_and_names_are_checked() -> None:
    control = started_at_zero()
    with pytest.raises(ValueError, match="only a waiting process"):
        control.started("worker", 5, 1 * S)
    with pytest.raises(ValueError, match="no process named 'feeed'"):
        control.exited("feeed", KILLED, 1 * S)
    with pytest.raises(ValueError, match="unique"):
        Supervision(("a", "a"), policy(), 0)


@pytest.mark.parametrize(("returncode", "signal_name", "text"), [
    (-9, "SIGKILL", "killed by signal 9 (SIGKILL)"),
    (-15, "SIGTERM", "killed by signal 15 (SIGTERM)"),
    (-11, "SIGSEGV", "killed by signal 11 (SIGSEGV)"),
    (1, None, "exit status 1"),
    (0, None, "exit status 0"),
])
def test_exit_statuses_read_as_an_operator_says_them(returncode: int, signal_name: str | None, text: str) -> None:
    status = ExitStatus(returncode)
    assert status.signal_name == signal_name and status.describe() == text
    assert status.as_dict()["signal"] == (-returncode if returncode < 0 else None)


def test_the_last_error_is_the_exception_line_of_a_traceback_or_an_error_record() -> None:
    traceback = ["2026-01-02 10:00:00,000 INFO streams.app worker started",
                 "Traceback (most recent call last):",
                 '  File "x.py", line 1, in <module>',
                 "confluent_kafka.KafkaException: KafkaError{code=_TRANSPORT}",
                 "=== exit 2026-01-02T10:00:01Z"]
    assert last_error(traceback) == "confluent_kafka.KafkaException: KafkaError{code=_TRANSPORT}"
    assert last_error(["x INFO a", "2026 ERROR sink row rejected symbol=SPY", "x INFO b"]) == \
        "2026 ERROR sink row rejected symbol=SPY"
    assert last_error(['{"level": "CRITICAL", "message": "boom"}']) == '{"level": "CRITICAL", "message": "boom"}'
    assert last_error(["INFO all good", "INFO still good"]) is None     # e.g. killed by SIGKILL


@pytest.mark.parametrize(("field", "value"), [
    ("initial_backoff_ns", 0), ("max_backoff_ns", S // 2), ("stable_after_ns", 0), ("max_failures", -1),
    ("stop_timeout_ns", 0),
])
def test_policy_parameters_are_validated(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        policy(**{field: value})

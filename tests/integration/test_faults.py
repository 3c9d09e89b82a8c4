"""The fault suite: one `tradestream run` on fresh topics, broken in turn by each fault below, each
followed by more prints and a wait until the platform has caught up; then PostgreSQL (and Kafka) are
compared with the ground truth and a table is printed (`pytest -s`; it is also the assertion message):

    fault | recovered | lost | duplicated | detail

Faults, in this order (one phase of prints each, see `fault_truth.py`): none (the baseline); the
worker, the sink, the strategy runner and the API each SIGKILLed, the supervisor restarting it;
PostgreSQL, the broker and the schema registry each stopped for OUTAGE_S (20 s) and started again; a
poison record, a forged record type and a future-dated print on the trades topic (`fault_records.py`);
last, the simulated feed SIGKILLed (what its restart may publish again is then charged to its row
alone). Half of a phase's prints are published while its fault is on (just before the broker stops:
nothing could take them while it is down), half after.

The suite publishes its prints beside the run's simulated feed (SIM_SYMBOLS=SPY,QQQ, the example
strategy's symbols), as a second producer does (a replay next to `make run`): its symbols are chosen
to land on the feed's partitions.

recovered  "yes" and the seconds from the end of the fault (the kill; the service answering again
           after its outage; the bad record delivered) until the platform had caught up: every process
           running, the API answering, the fault's own condition (a killed process runs with a new
           pid; a killed feed reports publishing trades again; a bad record's dead letters are stored
           for every stage that must refuse it), and every print and bar of the phase stored with its
           expected values. "no" when that did not happen within RECOVERY_TIMEOUT_S.
lost       rows of the phase that PostgreSQL does not hold with their expected values at the end of
           the suite: prints (trade_ticks, by symbol and trade id: time, price, size) and bars (bars,
           by symbol, timeframe and start: end, OHLC, volume, VWAP, trades) as the batch core computes
           them from the ground truth. A bar closed early, or with prints missing, is lost. A bar is
           the phase's whose prints close it (it may hold prints of the phase before).
duplicated rows stored that are not in the expected set at all (a bar of a key the batch core never
           makes, e.g. the forged Bar stored, or a print never published), charged to the phase after
           which they first appear; plus records Kafka carries more than once for one id (prints,
           signals, suppressed signals, order intents; `fault_report.py`), charged by their timestamp,
           as far as Kafka carries them when the suite ends.
           Rows stored twice under one natural key cannot exist (primary keys), and bars or
           snapshots re-sent after a crash are upserted by design: neither is counted.
           The future-dated print stored in trade_ticks is neither expected nor counted (the sink
           keeps the raw prints that arrived; the bars stage and the strategy runner refuse it).

Every row must recover with nothing lost and nothing duplicated. The stack's services are started
again, and waited for, whatever happens (`stack.up` in a finally block).
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from processors.model import TradeTick
from tradestream import stack
from tradestream.commands.inputs import load_strategy
from tradestream.commands.run import DEFAULT_STRATEGY
from tradestream.config import Settings
from tradestream.stack.kafka import KafkaService
from tradestream.stack.postgres import PostgresService
from tradestream.stack.registry import RegistryService

from .fault_records import (
    BARS_STAGE, SINK_STAGE, ExpectedLetters, forged_bar, future_tick, poison_record, primitive_schema_id,
    produce_raw,
)
from .fault_report import render
from .fault_suite import FaultSuite, Injected, Injection
from .fault_truth import LATENESS_MS, SESSIONS, TIMEFRAMES, GroundTruth, symbols_beside
from .platform_run import PlatformRun

pytestmark = pytest.mark.integration

OUTAGE_S = 20.0
RECOVERY_TIMEOUT_S = 120.0
START_TIMEOUT_S = 150.0
FEED_SYMBOLS = ("SPY", "QQQ")
# The simulated feed at 10x (not 60x) keeps the background load light, so that the seconds measure
# recovery rather than the time to work off the feed's backlog on a busy machine.
RUN_ENV = {"BAR_TIMEFRAMES": ",".join(TIMEFRAMES), "BAR_LATENESS_MS": str(LATENESS_MS), "BAR_SESSIONS": SESSIONS,
           "BAR_INPUT": "trades", "EVENT_TIME_MAX_AHEAD_MS": "60000", "SIM_SPEED": "10",
           "SIM_SYMBOLS": ",".join(FEED_SYMBOLS)}
DECODE = frozenset({"DecodeError"})
# The codec names it UnexpectedRecordError (the sink, the strategy runner); the Faust stages' own
# type check names it UnexpectedRecord.
UNEXPECTED = frozenset({"UnexpectedRecordError", "UnexpectedRecord"})
IMPLAUSIBLE = frozenset({"ImplausibleEventTime"})


# -- the injections: each publishes the phase's first half while its fault is on ---------------------------
def no_fault(suite: FaultSuite, during: Sequence[TradeTick]) -> Injected:
    suite.publish(during)
    return Injected(time.monotonic())


def killed(name: str) -> Injection:
    """SIGKILL one application process; the supervisor starts it again after its back-off."""
    def inject(suite: FaultSuite, during: Sequence[TradeTick]) -> Injected:
        killed_ns = time.time_ns()
        old_pid = suite.platform.kill(name, signal.SIGKILL)
        ended = time.monotonic()
        suite.publish(during)

        def restarted() -> bool:
            if suite.platform.running_pid(name) in (None, old_pid):
                return False
            return name != "feed" or suite.feed_reports_trades(killed_ns)
        return Injected(ended, restarted)
    return inject


def stopped_for(service_type: Callable[[Settings], stack.Service], publish_while_down: bool = True) -> Injection:
    """Stop a service of the shared stack for OUTAGE_S, then start it again and wait until it answers.
    The phase's first half is published while it is down, or (the broker: nothing can take the prints)
    just before it stops, so the platform is busy with them when it goes."""
    def inject(suite: FaultSuite, during: Sequence[TradeTick]) -> Injected:
        service = service_type(suite.settings)
        if not publish_while_down:
            suite.publish(during)
        service.stop()
        down_at = time.monotonic()
        try:
            if publish_while_down:
                suite.publish(during, flush=False)
            # The outage's length is the fault itself, not a wait for something to happen.
            time.sleep(max(0.0, down_at + OUTAGE_S - time.monotonic()))
        finally:
            starting_at = time.monotonic()
            service.start()
        ended = time.monotonic()
        return Injected(ended, detail=f"down {starting_at - down_at:.0f} s, answering {ended - starting_at:.0f} s "
                                      "after its start")
    return inject


def poison(suite: FaultSuite, during: Sequence[TradeTick]) -> Injected:
    schema_id = primitive_schema_id(suite.registry, f"{suite.platform.prefix}faults-poison-value")
    location = produce_raw(suite.kafka, suite.trades_topic, suite.truth.symbols[0], poison_record(schema_id))
    ended = time.monotonic()
    suite.publish(during)
    stages = {BARS_STAGE: DECODE, SINK_STAGE: DECODE, suite.strategy_stage: DECODE}
    return Injected(ended, letters=ExpectedLetters(location, stages))


def forged(suite: FaultSuite, during: Sequence[TradeTick]) -> Injected:
    """A valid Bar, dated the day before the session (a key the batch core never makes)."""
    record = forged_bar(suite.codec, suite.kafka.topic("bars"), suite.truth.symbols[0],
                        suite.truth.open_ns - 24 * 3600 * 10**9)
    location = produce_raw(suite.kafka, suite.trades_topic, suite.truth.symbols[0], record)
    ended = time.monotonic()
    suite.publish(during)
    stages = {BARS_STAGE: UNEXPECTED, SINK_STAGE: UNEXPECTED, suite.strategy_stage: UNEXPECTED}
    return Injected(ended, letters=ExpectedLetters(location, stages))


def future_dated(suite: FaultSuite, during: Sequence[TradeTick]) -> Injected:
    """A print of a real symbol dated 24 h after its arrival, before that symbol's next prints."""
    symbol = suite.truth.symbols[0]
    price = next(t.price for t in during if t.symbol == symbol)
    record, trade_id = future_tick(suite.codec, suite.trades_topic, symbol, price)
    location = produce_raw(suite.kafka, suite.trades_topic, symbol, record)
    ended = time.monotonic()
    suite.publish(during)
    stages = {BARS_STAGE: IMPLAUSIBLE, suite.strategy_stage: IMPLAUSIBLE}
    return Injected(ended, letters=ExpectedLetters(location, stages), tolerated=frozenset({(symbol, trade_id)}))


FAULTS: tuple[tuple[str, Injection], ...] = (
    ("none (baseline)", no_fault),
    # Each process is killed in a steady state, after it has run through a few phases.
    ("sink killed", killed("sink")),
    ("strategy killed", killed("strategy")),
    ("API killed", killed("api")),
    ("worker killed", killed("worker")),
    (f"PostgreSQL stopped {OUTAGE_S:.0f} s", stopped_for(PostgresService)),
    (f"broker stopped {OUTAGE_S:.0f} s", stopped_for(KafkaService, publish_while_down=False)),
    (f"registry stopped {OUTAGE_S:.0f} s", stopped_for(RegistryService)),
    ("poison record", poison),
    ("forged record type (Bar)", forged),
    ("future-dated print (+24 h)", future_dated),
    ("feed killed", killed("feed")),
)


@pytest.mark.timeout(1800)  # a failing run waits RECOVERY_TIMEOUT_S for each fault
def test_every_fault_recovers_without_losing_or_duplicating_anything(settings: Settings, unique: str,
                                                                     tmp_path: Path) -> None:
    started = time.monotonic()
    prefix = f"f{unique}."
    symbols = symbols_beside(FEED_SYMBOLS, unique, settings.kafka_partitions)
    truth = GroundTruth(symbols, len(FAULTS), dt.date.today())
    strategy = load_strategy(str(DEFAULT_STRATEGY))
    # The runner's dead letters name its unit: the account a trading strategy runs in, else the strategy.
    strategy_stage = f"strategy:{strategy.risk.account if strategy.risk else strategy.name}"
    try:
        with PlatformRun(settings, tmp_path / "home", prefix, env=RUN_ENV) as platform:
            platform.wait_all_running(timeout_s=START_TIMEOUT_S)
            suite = FaultSuite(settings, platform, truth, strategy_stage, RECOVERY_TIMEOUT_S)
            for index, (name, inject) in enumerate(FAULTS):
                outcome = suite.run_phase(name, inject, START_TIMEOUT_S if index == 0 else None)
                seconds = outcome.recovered_s
                said = "not recovered" if seconds is None else f"recovered in {seconds:.1f} s"
                print(f"\n{name}: {said}", flush=True)
            notes = suite.finish()
    finally:
        stack.up(settings)  # every service up and answering, whatever happened above
    table = render(suite.outcomes, [*notes, f"suite: {time.monotonic() - started:.0f} s"])
    print(f"\n{table}")
    assert all(outcome.passed for outcome in suite.outcomes), f"\n{table}"
